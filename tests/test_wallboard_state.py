"""The wallboard's rolling figures and its bars, worked out by hand."""

from __future__ import annotations

from crisis_tui.model import Event
from crisis_tui.wallboard.app import clock_figure
from crisis_tui.wallboard.live import BoardState
from crisis_tui.wallboard.trend import bars, columns

NOW = 1_800_000_000.0  # a whole minute: 30_000_000 * 60


def arrival(seq: int, at: float, negativity: float) -> Event:
    comment = {"id": seq, "source": "x", "external_id": f"x{seq}", "author": f"@a{seq}", "text": "hi", "received_at": at,
               "negativity": negativity}
    return Event(seq=seq, incident_id="inc", ts=at, actor="intake", kind="comment.ingested",
                 payload={"comment": comment}, prev_hash="", hash="")


def test_rate_counts_the_last_sixty_seconds_and_the_minute_before() -> None:
    state = BoardState()
    times = [NOW - 130, NOW - 90, NOW - 61, NOW - 59, NOW - 10, NOW - 1]
    for seq, at in enumerate(times, start=1):
        state.feed(arrival(seq, at, 0.0))
    assert state.per_minute(NOW) == 3  # -59, -10, -1
    assert state.per_minute(NOW, minutes_ago=1) == 2  # -90, -61 (the -130 one is older than two minutes)
    assert state.take_changes() == {"comments", "timeline"}
    assert state.take_changes() == set()


def test_trends_bucket_the_last_hour_by_minute_newest_last() -> None:
    state = BoardState()
    state.feed(arrival(1, NOW - 3600 - 30, 0.9))  # older than the hour: forgotten
    state.feed(arrival(2, NOW - 120 + 5, 0.9))  # two minutes ago
    state.feed(arrival(3, NOW - 120 + 6, 0.1))
    state.feed(arrival(4, NOW + 10, 0.5))  # this minute
    state.feed(arrival(5, NOW + 20, 0.49))
    volume, share = state.trends(NOW + 30)
    assert len(volume) == len(share) == 60
    assert volume[-1] == 2 and share[-1] == 0.5
    assert volume[-3] == 2 and share[-3] == 0.5
    assert volume[-2] == 0 and share[-2] is None
    assert sum(volume) == 4


def test_the_tail_keeps_the_story_and_marks_what_changed() -> None:
    state = BoardState()
    for seq in range(1, 6):
        state.feed(arrival(seq, NOW, 0.0))
    state.feed(Event(seq=6, incident_id="inc", ts=NOW, actor="Sam", kind="decision.proposed",
                     payload={"decision_id": 1, "title": "Pause the ads"}, prev_hash="", hash=""))
    state.feed(Event(seq=7, incident_id="inc", ts=NOW, actor="Ana", kind="operator.focus",
                     payload={"name": "Ana", "focus": "reading"}, prev_hash="", hash=""))
    assert state.take_changes() == {"comments", "timeline", "decisions", "presence"}
    lines = state.timeline(10)
    assert len(lines) == 2
    assert lines[0].endswith("5 new comments: x 5")
    assert lines[1].endswith("Sam proposed decision: Pause the ads")
    assert state.timeline(1) == lines[-1:]
    assert state.last_seq == 7 and state.events_seen == 7
    state.feed(Event(seq=8, incident_id="inc", ts=NOW, actor="Sam", kind="decision.proposed",
                     payload={"decision_id": 2, "title": "Take the post down", "owner_decides": True},
                     prev_hash="", hash=""))
    assert state.timeline(1)[0].endswith("Sam proposed decision: Take the post down · not ours: the owner approves")


def test_bars_stretch_squeeze_and_mark_the_alert() -> None:
    assert columns([1.0, 2.0], 4) == [1.0, 1.0, 2.0, 2.0]
    assert columns([1.0, 5.0, None, None], 2) == [5.0, None]
    rows = bars([0.0, 0.5, 1.0, None], 4, 2, top=1.0, alert=0.6)
    assert [str(r) for r in rows] == ["  █ ", " ██·"]
    styles = [span.style for span in rows[1].spans]
    assert "$error" in styles  # the 1.0 bar is past the alert line
    assert clock_figure(65) == "01:05" and clock_figure(3 * 3600 + 7 * 60) == "3:07"
