"""The evaluation's metrics against a hand-built incident whose answers we know.

The incident is played through the real SqliteStore commands in real time; the
expected numbers are worked out here from the events' own timestamps, by hand,
so nothing is edited and nothing is guessed.
"""

from __future__ import annotations

import math
import time
from collections.abc import AsyncIterator
from pathlib import Path

import msgspec
import pytest

from crisis_tui.comment_shape import parse_comment
from crisis_tui.export.metrics import (
    NEGATIVE_AT,
    bucket_step,
    compute,
    curve,
    histogram,
    median,
    percentile,
)
from crisis_tui.model import Event, NewComment
from crisis_tui.playbook import Playbook
from crisis_tui.store.sqlite import SqliteStore


def comment(n: int, negativity: float, author: str) -> NewComment:
    base = parse_comment({"source": "x", "id": f"c-{n}", "author": author, "text": f"complaint {n}", "lang": "en"})
    return msgspec.structs.replace(base, negativity=negativity)


async def all_events(store: SqliteStore, incident_id: str) -> list[Event]:
    return await store.events_after(incident_id, 0, 100_000)


def first(events: list[Event], event_kind: str, **match: object) -> Event:
    """The first event of a kind whose payload has the given values."""
    return next(e for e in events if e.kind == event_kind and all(e.payload.get(k) == v for k, v in match.items()))


@pytest.fixture
async def played(tmp_path: Path, book: Playbook) -> AsyncIterator[tuple[SqliteStore, str]]:
    """A small crisis: 4 comments, 2 replies (one approved over a failing rule, which the store finds), 1 ignored,
    1 left waiting, a spike, a holding statement, one decision approved and one rejected,
    then an escalation to sev1 and a fifth comment."""
    store = await SqliteStore.open(tmp_path / "hand.db", playbook=book)
    inc = (await store.create_incident("Hand-built crisis", actor="Luis", severity="sev2")).id
    await store.heartbeat(inc, actor="Luis", role="gm")
    await store.heartbeat(inc, actor="Ana", role="cm")
    await store.heartbeat(inc, actor="Sam", role="marketing")
    ids = (await store.ingest(inc, [
        comment(1, 0.9, "@angry"), comment(2, 0.2, "@calm"), comment(3, 0.5, "@bot_1"), comment(4, 0.7, "@waiting"),
    ])).ids
    await store.alert(inc, "alert.spike", {"per_minute": 40, "baseline": 5, "factor": 8})

    await store.claim(inc, ids[0], actor="Ana")
    d1 = await store.save_draft(inc, "Sorry about your complaint.", actor="Ana", comment_id=ids[0])
    await store.set_draft_status(inc, d1.id, "in_review", actor="Ana")
    await store.set_draft_status(inc, d1.id, "approved", actor="Luis",
                                 override_reason="the next step is in the DM")
    await store.set_draft_status(inc, d1.id, "sent", actor="Ana")

    await store.claim(inc, ids[1], actor="Ana")
    d2 = await store.save_draft(inc, "Thanks for the complaint: the refund link is on its way today.", actor="Ana",
                                comment_id=ids[1])
    await store.set_draft_status(inc, d2.id, "in_review", actor="Ana")
    await store.set_draft_status(inc, d2.id, "approved", actor="Luis")
    await store.set_draft_status(inc, d2.id, "sent", actor="Ana")

    yes = await store.propose_decision(inc, "Publish a holding statement", actor="Sam", rationale="it is our bug")
    await store.vote_decision(inc, yes.id, True, actor="Luis")
    no = await store.propose_decision(inc, "Delete the viral post", actor="Sam", rationale="it spreads")
    await store.vote_decision(inc, no.id, False, actor="Luis")

    statement = await store.save_draft(
        inc, "We are sorry: refunds are delayed by our update. Every refund is paid within 48 hours.", actor="Sam",
        kind="statement")
    await store.set_draft_status(inc, statement.id, "in_review", actor="Sam")
    await store.set_draft_status(inc, statement.id, "approved", actor="Luis")
    await store.set_draft_status(inc, statement.id, "sent", actor="Sam")

    await store.mark(inc, ids[2], "ignored", actor="Ana", reason="bot")
    await store.add_note(inc, "c4 is waiting for care", actor="Ana")
    await store.update_incident(inc, actor="Luis", severity="sev1")
    await store.ingest(inc, [comment(5, 0.1, "@late")])
    try:
        yield store, inc
    finally:
        await store.close()


async def test_response_times_shares_and_first_response(played: tuple[SqliteStore, str], book: Playbook) -> None:
    store, inc = played
    events = await all_events(store, inc)
    m = compute(events, book, as_of=events[-1].ts)

    arrived = {e.payload["comment"]["id"]: e.ts for e in events if e.kind == "comment.ingested"}
    sent_1 = first(events, "draft.status", status="sent", comment_id=1).ts
    sent_2 = first(events, "draft.status", status="sent", comment_id=2).ts
    waits = [sent_1 - arrived[1], sent_2 - arrived[2]]

    assert m.comments == 5
    assert m.events == len(events)
    assert m.first_comment_at == arrived[1]
    assert m.time_to_first_response_s == pytest.approx(sent_1 - arrived[1])
    assert m.responses.count == 2
    assert m.responses.median_s == pytest.approx((waits[0] + waits[1]) / 2)
    assert m.responses.p90_s == pytest.approx(max(waits))  # nearest rank of 2 values: the 2nd
    assert m.responses.max_s == pytest.approx(max(waits))
    assert sum(m.responses.histogram.counts) == 2 and m.responses.histogram.counts[0] == 2  # both within a minute
    assert m.statuses == {"answered": 2, "ignored": 1, "new": 2}
    assert m.answered_share == pytest.approx(2 / 5)
    assert m.ignored_share == pytest.approx(1 / 5)
    assert m.removal_share == 0.0


async def test_checklist_overrides_decisions_and_the_holding_statement(played: tuple[SqliteStore, str], book: Playbook) -> None:
    store, inc = played
    events = await all_events(store, inc)
    m = compute(events, book, as_of=events[-1].ts)

    assert m.checklist.approvals == 3
    assert m.checklist.passed == 2
    assert m.checklist.pass_rate == pytest.approx(2 / 3)
    (override,) = m.checklist.overrides
    assert (override.actor, override.failing, override.reason, override.kind) == (
        "Luis", ["next_step"], "the next step is in the DM", "reply")

    proposed = [e for e in events if e.kind == "decision.proposed"]
    voted = [e for e in events if e.kind == "decision.voted"]
    assert [d.status for d in m.decisions] == ["approved", "rejected"]
    assert m.decisions[0].latency_s == pytest.approx(voted[0].ts - proposed[0].ts)
    assert m.decisions[1].latency_s == pytest.approx(voted[1].ts - proposed[1].ts)
    assert m.decisions[0].present == ["Ana", "Luis", "Sam"]
    assert m.decisions[0].decided_by == "Luis" and m.decisions[0].rationale == "it is our bug"
    one, two = m.decisions[0].latency_s, m.decisions[1].latency_s
    assert one is not None and two is not None
    assert m.median_decision_latency_s == pytest.approx((one + two) / 2)

    spike = first(events, "alert.spike").ts
    statement_sent = first(events, "draft.status", status="sent", kind="statement").ts
    assert m.first_spike_at == spike
    assert m.holding_statement_at == statement_sent
    assert m.spike_to_statement_s == pytest.approx(statement_sent - spike)
    assert [c.severity for c in m.severity_changes] == ["sev2", "sev1"]


async def test_per_operator_counts(played: tuple[SqliteStore, str], book: Playbook) -> None:
    store, inc = played
    events = await all_events(store, inc)
    ops = {o.name: o for o in compute(events, book, as_of=events[-1].ts).operators}

    assert set(ops) == {"Ana", "Luis", "Sam"}
    ana, luis, sam = ops["Ana"], ops["Luis"], ops["Sam"]
    assert (ana.role, ana.claims, ana.replies_sent, ana.drafts_started, ana.marked, ana.notes) == (
        "cm", 2, 2, 2, {"ignored": 1}, 1)
    assert ana.median_response_s is not None and ana.median_response_s > 0
    assert (luis.role, luis.approvals, luis.overrides, luis.votes, luis.replies_sent) == ("gm", 3, 1, 2, 0)
    assert (sam.role, sam.decisions_proposed, sam.statements_sent, sam.drafts_started) == ("marketing", 2, 1, 1)


async def test_volume_and_negative_share_curve(played: tuple[SqliteStore, str], book: Playbook) -> None:
    store, inc = played
    events = await all_events(store, inc)
    m = compute(events, book, as_of=events[-1].ts)
    assert sum(m.curve.volume) == 5
    # negativity 0.9, 0.5 and 0.7 are at or above NEGATIVE_AT; 0.2 and 0.1 are not
    assert NEGATIVE_AT == 0.5
    assert sum(m.curve.negative) == 3
    assert m.curve.step == 60.0
    assert m.curve.start == math.floor(m.first_comment_at / 60) * 60  # type: ignore[operator]


async def test_sla_uses_the_severity_in_force_on_arrival(played: tuple[SqliteStore, str], book: Playbook) -> None:
    store, inc = played
    events = await all_events(store, inc)
    arrived = {e.payload["comment"]["id"]: e.ts for e in events if e.kind == "comment.ingested"}
    sev2, sev1 = book.sla_seconds("sev2"), book.sla_seconds("sev1")
    assert (sev2, sev1) == (1800.0, 900.0)

    now = compute(events, book, as_of=events[-1].ts)
    assert now.sla.breaches == 0 and now.sla.within == 5

    # Comment 5 arrived under sev1 (15 min); comment 4 under sev2 (30 min). Both still wait.
    later = compute(events, book, as_of=arrived[5] + 1000)
    assert [(b.comment_id, b.resolved) for b in later.sla.breached] == [(5, False)]
    assert later.sla.still_waiting == 1 and later.sla.resolved_late == 0 and later.sla.within == 4

    much_later = compute(events, book, as_of=arrived[4] + sev2 + 1)
    assert sorted(b.comment_id for b in much_later.sla.breached) == [4, 5]


async def test_late_resolution_counts_as_a_breach(played: tuple[SqliteStore, str], book: Playbook) -> None:
    """With an SLA shorter than the fastest answer, every resolved comment was late."""
    store, inc = played
    events = await all_events(store, inc)
    arrived = {e.payload["comment"]["id"]: e.ts for e in events if e.kind == "comment.ingested"}
    resolved = {
        1: first(events, "draft.status", status="sent", comment_id=1).ts,
        2: first(events, "draft.status", status="sent", comment_id=2).ts,
        3: first(events, "comment.status", comment_id=3, status="ignored").ts,
    }
    quickest = min(resolved[i] - arrived[i] for i in resolved)
    strict = msgspec.structs.replace(book, severities=[
        msgspec.structs.replace(s, sla_minutes=quickest / 2 / 60) for s in book.severities
    ])
    m = compute(events, strict, as_of=events[-1].ts)
    late = {b.comment_id: b for b in m.sla.breached if b.resolved}
    assert set(late) == {1, 2, 3}
    for cid, breach in late.items():
        assert breach.waited_s == pytest.approx(resolved[cid] - arrived[cid])
    assert m.sla.resolved_late == 3


async def test_a_closed_incident_is_measured_at_its_close(played: tuple[SqliteStore, str], book: Playbook) -> None:
    store, inc = played
    await store.update_incident(inc, actor="Luis", status="closed")
    events = await all_events(store, inc)
    m = compute(events, book, as_of=time.time() + 10 * 3600)
    assert m.closed_at == events[-1].ts
    assert m.as_of == events[-1].ts
    assert m.sla.breaches == 0


def test_median_percentile_histogram_and_buckets() -> None:
    assert median([]) is None and percentile([], 90) is None
    assert median([5.0, 1.0, 3.0]) == 3.0
    assert median([1.0, 2.0, 3.0, 4.0]) == 2.5
    values = [float(v) for v in range(1, 11)]  # 1..10
    assert percentile(values, 90) == 9.0  # ceil(0.9 * 10) = 9th value
    assert percentile(values, 50) == 5.0
    assert percentile([7.0], 90) == 7.0
    h = histogram([30, 60, 61, 299, 300, 10_000])
    assert h.counts == [2, 3, 0, 0, 0, 0, 1]
    assert bucket_step(3 * 3600) == 60.0  # 180 one-minute buckets fit
    assert bucket_step(3 * 3600 + 1) == 120.0
    c = curve([(0.0, 0.9), (59.9, 0.1), (60.0, 0.5), (179.0, 0.49)], 0.0, 180.0, 60.0)
    assert c.volume == [2, 1, 1] and c.negative == [1, 1, 0]
    assert c.negative_share() == [0.5, 1.0, 0.0]
