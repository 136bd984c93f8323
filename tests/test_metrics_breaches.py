"""The SLA breaches made a column at a time (metrics.Breaches) are the ones a plain walk over the
comments gives, in the same order: waits resolved and not, ties, rows that breach with gaps
between them and rows already longest-wait first."""

from __future__ import annotations

import math
from array import array

from hypothesis import given
from hypothesis import strategies as st

from crisis_tui.export import metrics
from crisis_tui.export.metrics import Breach, Breaches

WAITS = st.sampled_from([0.0, 30.0, 60.0, 61.0, 600.0, 3600.0, 7200.0])
ROW = st.tuples(WAITS, st.one_of(st.none(), WAITS), st.sampled_from([60.0, 900.0]))


def _plain(comments: metrics._Comments, moment: float) -> list[Breach]:
    """The walk the export made before it worked in columns."""
    found: list[tuple[int, float]] = []
    for row in range(len(comments)):
        resolved = comments.resolved_at[row]
        waited = (moment if math.isnan(resolved) else resolved) - comments.since[row]
        if waited > comments.sla_s[row]:
            found.append((row, waited))
    found.sort(key=lambda f: f[1], reverse=True)
    return [Breach(comment_id=comments.ids[row], author=comments.author[row], source=comments.source[row],
                   received_at=comments.received_at[row], since=comments.since[row], sla_s=comments.sla_s[row],
                   waited_s=waited, resolved=not math.isnan(comments.resolved_at[row]))
            for row, waited in found]


@given(rows=st.lists(ROW, max_size=40), block=st.integers(1, 7), posting_order=st.booleans())
def test_breaches_in_columns_are_the_plain_walks(rows: list[tuple[float, float | None, float]], block: int,
                                                 posting_order: bool) -> None:
    moment = 10_000.0
    if posting_order:
        rows = sorted(rows, key=lambda r: -r[0])
    comments = metrics._Comments()
    for n, (ago, resolved_after, sla) in enumerate(rows):
        comments.ids.append(n + 1)
        since = moment - ago
        comments.since.append(since)
        comments.received_at.append(since + 1)
        comments.sla_s.append(sla)
        comments.resolved_at.append(math.nan if resolved_after is None else since + resolved_after)
        comments.author.append(f"@a{n}")
        comments.source.append("x")
    comments.status = array("H", bytes(2 * len(rows)))
    made = Breaches(comments, moment)
    plain = _plain(comments, moment)
    assert [b for blk in made.blocks(block) for b in blk] == plain == list(made)
    assert made.still_waiting == sum(not b.resolved for b in plain) and len(made) == len(plain)


@given(values=st.lists(st.one_of(WAITS, st.floats(-1e6, 1e6, allow_nan=False)), max_size=300),
       at_once=st.integers(1, 40), nan=st.booleans())
def test_longest_first_is_the_reverse_stable_sort(values: list[float], at_once: int, nan: bool) -> None:
    """Sorted a slice of the range at a time (here slices of a few values), the order is the one
    sort of them all gives: longest first, ties in their first order; a NaN sorts as it did."""
    if nan and values:
        values[len(values) // 2] = math.nan
    column = array("d", values)
    expected = sorted(range(len(values)), key=column.__getitem__, reverse=True)
    original = metrics._SORTED_AT_ONCE
    metrics._SORTED_AT_ONCE = at_once
    try:
        assert list(metrics.longest_first(column)) == expected
    finally:
        metrics._SORTED_AT_ONCE = original
