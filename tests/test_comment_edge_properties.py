"""The comment edge check holds for any JSON-like value in any field.

Whatever a file, a feed or the webhook puts in a field (huge or negative
numbers, NaN, lone surrogates, nested lists and objects, wrong types),
`parse_comment` either gives a NewComment or refuses with InvalidInput naming a
field: never another exception, which would be a traceback or a 500.
"""

from __future__ import annotations

from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from crisis_tui.comment_shape import KNOWN_KEYS, parse_comment
from crisis_tui.errors import InvalidInput
from crisis_tui.model import NewComment
from tests.hostile_strings import ANY_CHAR, HOSTILE_TEXT, PROPERTY

GOOD = {"source": "x", "id": "1", "author": "@marta", "text": "¿Dónde está mi reembolso?"}
FIELDS = sorted(KNOWN_KEYS) + ["campaign", "actor"]
EXTREMES = [2**63 - 1, 2**63, -(2**63), 10**400, -(10**400), 1e300, -1e300, float("inf"),
            float("-inf"), float("nan"), 0.5, -0.0, 32503680000, "9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59",
            "2024-02-30T00:00:00Z", "x" * 600, "y" * 200_000, "", " ", "\ud800"]
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), HOSTILE_TEXT, st.sampled_from(EXTREMES))
JSON_LIKE = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(ANY_CHAR, max_size=6) | HOSTILE_TEXT, inner, max_size=4),
    max_leaves=12,
)


def _outcome(raw: Any) -> NewComment | InvalidInput:
    try:
        return parse_comment(raw)
    except InvalidInput as refused:
        assert refused.field, refused
        return refused


@given(st.sampled_from(FIELDS), JSON_LIKE)
@example("campaign", "\ud800")  # a lone surrogate in an unknown key's value
@example("campaign", {"\udfff": 1})  # ... and in its name
@example("author_followers", -(10**400))  # whole numbers beyond a float's range, both signs
@example("author_created_at", 10**400)
@example("posted_at", -(10**400))
@PROPERTY
def test_any_value_in_one_field_is_taken_or_refused_naming_a_field(field: str, value: Any) -> None:
    outcome = _outcome({**GOOD, field: value})
    if isinstance(outcome, InvalidInput):
        assert outcome.field in (field, "comment"), outcome


@given(st.dictionaries(st.sampled_from(FIELDS) | st.text(ANY_CHAR, max_size=6), JSON_LIKE, max_size=8))
@PROPERTY
def test_any_object_at_all_is_taken_or_refused_naming_a_field(raw: dict[str, Any]) -> None:
    _outcome(raw)


@given(JSON_LIKE)
@PROPERTY
def test_any_value_where_a_comment_is_expected_is_taken_or_refused(raw: Any) -> None:
    _outcome(raw)
