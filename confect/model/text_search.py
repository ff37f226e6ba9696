"""Full-text search: how text becomes words, and how a document's field scores for a query."""

from __future__ import annotations

import math
import re
from typing import Any

MAX_QUERY_TERMS = 16
_WORD = re.compile(r"\w+", re.UNICODE)


def words(text: str) -> list[str]:
    """The lower-cased words of `text`, as the search indexes store them."""
    return [word.lower() for word in _WORD.findall(text)]


def query_terms(text: str) -> list[str]:
    """The terms of a search query (its first 16 words); the last one matches as a prefix."""
    return words(text)[:MAX_QUERY_TERMS]


def relevance(terms: list[str], value: Any) -> float:
    """A BM25-like score of a field's text for the terms (0: no match)."""
    if not isinstance(value, str) or not terms:
        return 0.0
    found = words(value)
    if not found:
        return 0.0
    score = 0.0
    for position, term in enumerate(terms):
        last = position == len(terms) - 1
        hits = sum(1 for word in found if word == term or (last and word.startswith(term)))
        if hits:
            score += hits * 2.2 / (hits + 1.2 * (0.25 + 0.75 * len(found) / 16))
    return score / math.sqrt(len(terms))
