"""The real clock: a backlog posted 38 minutes before it was ingested has waited 38 minutes.

Ages, the SLA, the header, the store's counts and the evaluation all count from
when a comment was posted (received, when the source gives no time or a time
ahead of ours). Real SqliteStore files, a real server for the HTTP transport.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from crisis_tui.comment_shape import parse_comment
from crisis_tui.export.metrics import compute
from crisis_tui.model import Comment, Event, NewComment
from crisis_tui.playbook import Playbook
from crisis_tui.room_state import RoomState
from crisis_tui.screens.detail import CommentDetail
from crisis_tui.store.protocol import IncidentStore
from crisis_tui.store.sqlite import SqliteStore
from crisis_tui.triage.priority import velocity
from crisis_tui.wallboard.live import BoardState
from crisis_tui.widgets.stream import CommentStream
from tests.room_support import loaded, make_app, screen_text, wait_for

MINUTE = 60.0


def posted(n: int, author: str, posted_at: float | None, priority: float = 0.5) -> NewComment:
    c = parse_comment({"source": "x", "id": f"b-{n}", "author": author, "lang": "en", "posted_at": posted_at,
                       "text": f"Where is my refund? Order {n} is three weeks late."})
    c.priority = priority
    return c


@pytest.fixture
async def sqlite(tmp_path: Path, book: Playbook) -> AsyncIterator[SqliteStore]:
    store = await SqliteStore.open(tmp_path / "incident.db", playbook=book)
    try:
        yield store
    finally:
        await store.close()


async def test_median_response_time_counts_from_posting(sqlite: SqliteStore, book: Playbook) -> None:
    """A backlog posted 38 minutes before the ingest: the replies took 38 minutes and more, over the SLA."""
    inc = (await sqlite.create_incident("Backlog", actor="Luis", severity="sev2")).id
    await sqlite.heartbeat(inc, actor="Luis", role="gm")
    await sqlite.heartbeat(inc, actor="Ana", role="cm")
    before = time.time() - 38 * MINUTE
    ids = (await sqlite.ingest(inc, [posted(1, "@one", before), posted(2, "@two", before - MINUTE),
                                     posted(3, "@ahead", time.time() + 3600)])).ids
    for cid in ids[:2]:
        await sqlite.claim(inc, cid, actor="Ana")
        draft = await sqlite.save_draft(
            inc, "Sorry for the wait: your refund is on its way today, the link is in your messages.",
            actor="Ana", comment_id=cid)
        await sqlite.set_draft_status(inc, draft.id, "in_review", actor="Ana")
        await sqlite.set_draft_status(inc, draft.id, "approved", actor="Luis", override_reason="checked by hand")
        await sqlite.set_draft_status(inc, draft.id, "sent", actor="Ana")
    events = await sqlite.events_after(inc, 0, 10_000)
    m = compute(events, book, as_of=events[-1].ts)

    sent = {e.payload["comment_id"]: e.ts for e in events if e.kind == "draft.status" and e.payload["status"] == "sent"}
    arrived = {e.payload["comment"]["id"]: e.payload["comment"]["received_at"] for e in events
               if e.kind == "comment.ingested"}
    waits = sorted([sent[ids[0]] - before, sent[ids[1]] - (before - MINUTE)])
    assert m.responses.median_s == pytest.approx(sum(waits) / 2)
    assert m.responses.median_s is not None and m.responses.median_s > 38 * MINUTE
    assert m.first_comment_at == pytest.approx(before - MINUTE)
    # both answered past sev2's 30 minutes; the one posted "in the future" counts from its arrival
    assert m.sla.resolved_late == 2 and m.sla.still_waiting == 0 and m.sla.within == 1
    assert {b.comment_id: b.since for b in m.sla.breached} == pytest.approx({ids[0]: before, ids[1]: before - MINUTE})
    assert all(b.received_at == arrived[b.comment_id] for b in m.sla.breached)
    # the tone checklist's SLA rule judged the replies from posting too: both approvals overrode it
    assert [("sla" in o.failing, o.reason) for o in m.checklist.overrides] == [(True, "checked by hand")] * 2


async def test_the_oldest_unanswered_is_the_earliest_posted(store: IncidentStore, incident: str) -> None:
    """The store's counts (both transports): posted time, clamped to arrival for a clock ahead of ours."""
    now = time.time()
    await store.ingest(incident, [posted(1, "@new", None), posted(2, "@old", now - 38 * MINUTE),
                                  posted(3, "@ahead", now + 3600)])
    counts = await store.counts(incident)
    assert counts.oldest_unanswered_at == pytest.approx(now - 38 * MINUTE)
    await store.mark(incident, 2, "answered", actor="Luis")
    counts = await store.counts(incident)
    received = (await store.get_comment(incident, 1)).received_at
    assert counts.oldest_unanswered_at == pytest.approx(received)
    ahead = await store.get_comment(incident, 3)
    assert ahead.since == ahead.received_at and counts.oldest_unanswered_at is not None
    assert counts.oldest_unanswered_at <= ahead.since


async def test_the_room_shows_38m_and_the_sla_in_words(sqlite: SqliteStore, book: Playbook) -> None:
    """The room looks half a minute after the backlog arrived, on a clock that stays there: read
    from the wall, "received (Ns ago)" and every age moved with how long the app took to start."""
    inc = (await sqlite.create_incident("Backlog", actor="Luis", severity="sev2")).id
    now = time.time()
    ids = (await sqlite.ingest(inc, [posted(1, "@late_one", now - 38 * MINUTE - 5, priority=0.9),
                                     posted(2, "@soon_one", now - 25 * MINUTE, priority=0.6),
                                     posted(3, "@fresh_one", None, priority=0.3)])).ids
    looked = (await sqlite.get_comment(inc, ids[2])).received_at + 30
    app = make_app(sqlite, inc, book, clock=lambda: looked)
    async with app.run_test(size=(160, 40)) as pilot:
        await loaded(pilot)
        lines = screen_text(app).splitlines()
        late = next(line for line in lines if "@late_one" in line)
        soon = next(line for line in lines if "@soon_one" in line)
        fresh = next(line for line in lines if "@fresh_one" in line)
        assert "38m" in late and "✗over" in late
        assert "25m" in soon and "!near" in soon and "✗over" not in soon
        assert "near" not in fresh and "over" not in fresh and "9s" not in late
        header = lines[0]
        assert "38m/30m SLA" in header and "BREACHED" in header

        app.room.query_one(CommentStream).focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, CommentDetail))
        text = screen_text(app)
        assert "posted" in text and "(38m ago)" in text
        assert "received" in text and "(30s ago)" in text


async def test_the_detail_says_when_the_source_gave_no_time_or_one_ahead_of_ours(
    sqlite: SqliteStore, book: Playbook
) -> None:
    inc = (await sqlite.create_incident("Backlog", actor="Luis")).id
    await sqlite.ingest(inc, [posted(1, "@untimed", None, priority=0.9),
                              posted(2, "@ahead", time.time() + 3600, priority=0.1)])
    app = make_app(sqlite, inc, book)
    async with app.run_test(size=(100, 30)) as pilot:
        await loaded(pilot)
        app.room.query_one(CommentStream).focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, CommentDetail))
        assert "not given by the source: ages count from receipt" in screen_text(app)
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is app.room)
        await pilot.press("down", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, CommentDetail))
        assert "ahead of our clock: ages count from receipt" in screen_text(app)


def test_the_wallboard_counts_a_backlog_in_the_minutes_it_was_posted() -> None:
    """Ingested now, posted 38 minutes ago: not this minute's rate, but that minute's volume."""
    now = 1_800_000_000.0
    state = BoardState()
    for seq in range(1, 4):
        comment = {"id": seq, "source": "x", "external_id": f"x{seq}", "author": "@a", "text": "refund?",
                   "received_at": now - 5, "posted_at": now - 38 * MINUTE, "negativity": 0.9}
        state.feed(Event(seq=seq, incident_id="inc", ts=now - 5, actor="intake", kind="comment.ingested",
                         payload={"comment": comment}, prev_hash="", hash=""))
    assert state.per_minute(now) == 0
    volume, share = state.trends(now)
    assert volume[-39] == 3 and share[-39] == 1.0 and sum(volume) == 3


def test_the_rooms_oldest_unanswered_is_the_earliest_posted_not_the_first_arrived() -> None:
    state = RoomState("inc")
    now = 1_800_000_000.0

    def arrived(cid: int, posted_at: float | None) -> Comment:
        return Comment(id=cid, incident_id="inc", source="x", external_id=f"x{cid}", author="@a", text="refund?",
                       posted_at=posted_at, received_at=now + cid)

    state.load_comments([arrived(1, None), arrived(2, now - 38 * MINUTE)])
    state.add_comment(arrived(3, now - 40 * MINUTE))
    state.add_comment(arrived(4, now + 3600))  # a clock ahead of ours counts from its arrival
    oldest = state.oldest_unanswered()
    assert oldest is not None and oldest.id == 3 and oldest.since == now - 40 * MINUTE
    state.apply([Event(seq=1, incident_id="inc", ts=now, actor="Ana", kind="comment.status",
                       payload={"comment_id": 3, "status": "answered", "author": "@a"}, prev_hash="", hash="")])
    assert [state.oldest_unanswered().id for _ in range(2)] == [2, 2]  # type: ignore[union-attr]
    assert state.rows[4].since == now + 4


def test_velocity_counts_from_posting_and_a_clock_ahead_of_ours_counts_as_now() -> None:
    now = 1_800_000_000.0

    def liked(posted_at: float) -> NewComment:
        c = posted(1, "@viral", posted_at)
        c.likes, c.shares = 3000, 500
        return c

    fresh, old, ahead = velocity(liked(now - 60), now), velocity(liked(now - 38 * MINUTE), now), velocity(liked(now + 3600), now)
    assert ahead == velocity(liked(now), now) and ahead >= fresh > old > 0
