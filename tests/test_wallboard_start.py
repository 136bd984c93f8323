"""The wallboard starts from the store's answers, and that start is the board a replay of the
whole log would leave (every transport: the store fixture runs over SQLite, HTTP and PostgreSQL)."""

from __future__ import annotations

import time

from crisis_tui import events as ev
from crisis_tui.model import NewComment
from crisis_tui.playbook import Playbook
from crisis_tui.store.protocol import IncidentStore
from crisis_tui.wallboard.live import TAIL_EVENTS, BoardState, read_sitrep, read_start


async def _replayed(store: IncidentStore, incident: str) -> BoardState:
    state = BoardState()
    after = 0
    while page := await store.events_after(incident, after, 1000):
        for event in page:
            state.feed(event)
        after = page[-1].seq
    return state


def _board(state: BoardState, now: float) -> tuple[object, ...]:
    """Everything the board shows from its state at `now`."""
    return (state.trends(now), state.per_minute(now), state.per_minute(now, minutes_ago=1),
            state.timeline(TAIL_EVENTS), state.events_seen, state.last_seq, state.last_sitrep,
            [e.seq for e in state.tail])


async def _story(store: IncidentStore, incident: str, now: float) -> None:
    """Comments posted over the last two hours (a backlog among them), some negative, a sitrep
    halfway, work on some of them, and more than a tail's worth of events."""
    batch = [
        NewComment(source="x", external_id=f"c{i}", author=f"@p{i}", text=f"refund {i}",
                   posted_at=now - 7200 + i * 13.7, negativity=(i % 10) / 10)
        for i in range(530)
    ]
    ids = (await store.ingest(incident, batch[:300])).ids
    await store.heartbeat(incident, actor="Luis", role="gm")
    await store.claim(incident, ids[3], actor="Luis")
    await store.record_sitrep(incident, "SEV2, 300 comments", actor="notify")
    await store.add_note(incident, "holding statement drafted", actor="Luis")
    await store.ingest(incident, batch[300:])
    await store.ingest(incident, [NewComment(source="x", external_id="late", author="@late", text="no clock")])


async def test_the_start_is_the_board_a_replay_leaves(store: IncidentStore, incident: str) -> None:
    now = time.time()
    await _story(store, incident, now)
    started = await read_start(store, incident, now)
    assert not started.sitrep_known
    await read_sitrep(store, incident, started)
    replayed = await _replayed(store, incident)
    assert started.sitrep_known and started.last_sitrep is not None
    assert sum(started.trends(now)[0]) > 200  # the window holds comments, and they are counted
    for later in (now, now + 30, now + 61, now + 1800):
        assert _board(started, later) == _board(replayed, later)


async def test_what_comes_after_the_start_is_counted_once(store: IncidentStore, incident: str) -> None:
    now = time.time()
    await _story(store, incident, now)
    started = await read_start(store, incident, now)
    await read_sitrep(store, incident, started)
    more = [NewComment(source="x", external_id=f"m{i}", author="@m", text="again", posted_at=now - 5, negativity=0.9)
            for i in range(4)]
    await store.ingest(incident, more)
    await store.record_sitrep(incident, "SEV2, 534 comments", actor="notify")
    for event in await store.events_after(incident, started.last_seq, 100):
        started.feed(event)
    replayed = await _replayed(store, incident)
    assert _board(started, now + 1) == _board(replayed, now + 1)


async def test_a_start_that_counted_comments_past_its_head(store: IncidentStore, incident: str) -> None:
    """`arrivals` read after the head may count comments the log then feeds again."""
    now = time.time()
    await _story(store, incident, now)
    head = await store.log_head(incident)
    assert head is not None
    more = [NewComment(source="x", external_id=f"r{i}", author="@r", text="race", posted_at=now - 2) for i in range(3)]
    await store.ingest(incident, more)
    tail = [e for e in await store.latest_events(incident, TAIL_EVENTS + 3) if e.seq <= head.seq][-TAIL_EVENTS:]
    started = BoardState()
    started.start(head, tail, await store.arrivals(incident, int((now - 3600) // 60), recent_minute=int((now - 120) // 60)))
    started.found_sitrep(await store.last_event(incident, ev.kind_of(ev.SitrepIssued), upto_seq=head.seq))
    for event in await store.events_after(incident, head.seq, 100):
        started.feed(event)
    replayed = await _replayed(store, incident)
    assert _board(started, now) == _board(replayed, now)


async def test_an_empty_incident_and_one_without_a_sitrep(store: IncidentStore, book: Playbook) -> None:
    inc = (await store.create_incident("Quiet one", actor="Luis")).id
    started = await read_start(store, inc, time.time())
    await read_sitrep(store, inc, started)
    assert started.sitrep_known and started.last_sitrep is None
    assert started.events_seen == 1 and started.counted_through == 0
    assert await store.last_event(inc, ev.kind_of(ev.SitrepIssued)) is None
    assert (await store.arrivals(inc, 0)).minutes == {}
