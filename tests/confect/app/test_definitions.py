"""A handler's parameters are checked against its args validators when it is defined."""

from typing import Any

import pytest

from confect import SchemaError, mutation, query, v


def test_a_parameter_without_a_validator_is_a_schema_error() -> None:
    with pytest.raises(SchemaError, match=r"missing_text: parameters \['text'\] have no args"):

        @query(args={"author": v.string()})
        def missing_text(author: str, text: str) -> Any:
            raise NotImplementedError


def test_a_validator_without_a_parameter_is_a_schema_error() -> None:
    with pytest.raises(SchemaError, match=r"no_author: takes no parameter for args \['author'\]"):

        @mutation(args={"author": v.string()})
        def no_author() -> Any:
            raise NotImplementedError


def test_keyword_parameters_take_any_args_and_no_validators_take_any_parameters() -> None:
    @query(args={"author": v.string()})
    def any_keywords(**kwargs: Any) -> Any:
        raise NotImplementedError

    @query()
    def unvalidated(author: str) -> Any:
        raise NotImplementedError

    assert any_keywords.args is not None and unvalidated.args is None
