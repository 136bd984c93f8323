"""Property: a mapping never turns a well-formed date into another date.

Whatever way a platform writes a moment (ISO 8601 with Z, an offset, a space
or only the date; epoch seconds, milliseconds or microseconds as a number,
as text, or with the unit named in the mapping), and whether it arrives in a
JSON answer or a CSV cell, the native shape holds that very moment, to the
precision it was written in. Microseconds are drawn up to 2255 only: beyond
2**53 microseconds a JSON number itself cannot hold every microsecond.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from crisis_tui.comment_shape import parse_time
from crisis_tui.intake.mapping import Mapping

UNITS = {"seconds": (0, "epoch"), "milliseconds": (3, "epoch_ms"), "microseconds": (6, "epoch_us")}
_BASE = {"source": {"value": "app"}, "id": "k", "author": "a", "text": "t"}


def _mapping(spec: object, section: str) -> Mapping:
    return Mapping.parse({"fields": {**_BASE, "posted_at": spec}}, "m.toml", section=section)


GUESSED_JSON = _mapping("when", "json")
GUESSED_CSV = _mapping("when", "csv")
NAMED = {fmt: (_mapping({"from": "when", "format": fmt}, "json"), _mapping({"from": "when", "format": fmt}, "csv"))
         for _, fmt in UNITS.values()}


def read(mapping: Mapping, value: object, *, flat: bool) -> float | None:
    native = mapping.apply({"k": "1", "a": "x", "t": "y", "when": value}, flat=flat)
    return parse_time(native["posted_at"], "posted_at")


def moments(unit: str) -> st.SearchStrategy[datetime]:
    latest = datetime(2254, 12, 31) if unit == "microseconds" else datetime(2999, 12, 31)
    digits = UNITS[unit][0]
    return st.datetimes(min_value=datetime(1973, 3, 4), max_value=latest).map(
        lambda m: m.replace(microsecond=m.microsecond - m.microsecond % 10 ** (6 - digits), tzinfo=UTC))


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(sorted(UNITS)).flatmap(lambda unit: st.tuples(st.just(unit), moments(unit))))
def test_an_epoch_number_in_any_unit_is_the_same_moment(drawn: tuple[str, datetime]) -> None:
    unit, moment = drawn
    digits, fmt = UNITS[unit]
    whole = (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=10 ** (6 - digits))
    expected = moment.timestamp()
    named_json, named_csv = NAMED[fmt]
    assert read(GUESSED_JSON, whole, flat=False) == expected
    assert read(GUESSED_JSON, str(whole), flat=False) == expected
    assert read(GUESSED_CSV, str(whole), flat=True) == expected
    assert read(named_json, whole, flat=False) == expected
    assert read(named_csv, str(whole), flat=True) == expected
    if unit == "seconds":
        assert read(GUESSED_JSON, float(whole), flat=False) == expected


@settings(max_examples=200, deadline=None)
@given(moments("microseconds"), st.integers(min_value=-14 * 60, max_value=14 * 60), st.sampled_from(["T", " "]))
def test_an_iso_time_with_any_offset_or_separator_is_the_same_moment(moment: datetime, offset: int, sep: str) -> None:
    local = moment.astimezone(timezone(timedelta(minutes=offset)))
    written = [local.isoformat(sep=sep), moment.isoformat(sep=sep).replace("+00:00", "Z"),
               moment.replace(tzinfo=None).isoformat(sep=sep)]
    for text in written:
        assert read(GUESSED_JSON, text, flat=False) == moment.timestamp(), text
        assert read(GUESSED_CSV, text, flat=True) == moment.timestamp(), text
    midnight = datetime(moment.year, moment.month, moment.day, tzinfo=UTC)
    assert read(GUESSED_CSV, moment.date().isoformat(), flat=True) == midnight.timestamp()
