"""Checked by pyright (strict): `EffectGen`, the annotation of a `@gen` generator."""

# pyright: strict

from __future__ import annotations

from typing import Any, assert_type

import effects
from effects import Effect, EffectGen, Tag, TaggedError, gen


class NotFound(TaggedError):
    id: str


class Other(TaggedError):
    pass


class Users(Tag["Users", dict[str, str]]): ...


@gen
def find(id: str) -> EffectGen[str, NotFound, Users]:
    users = yield from Users
    if id not in users:
        return (yield from NotFound(id=id))
    return users[id]


@gen
def count() -> EffectGen[int]:
    yield from effects.succeed(1)
    return 1


@gen
def undeclared() -> EffectGen[int, NotFound]:
    yield from Other()  # pyright: ignore[reportReturnType]
    return 1


def test_the_annotation_gives_the_effect_type() -> None:
    assert_type(find("a"), Effect[str, NotFound, Users])
    assert_type(count(), Effect[int, Any, Any])
    assert effects.run_sync(count()) == 1
    found = effects.run_sync(find("a").provide(effects.Layer.succeed(Users, {"a": "Ada"})))
    assert found == "Ada"
