"""The room's projection on its own: ordering, filters, counts and events, with no terminal."""

from __future__ import annotations

from crisis_tui.model import Comment, Event
from crisis_tui.room_state import Filter, RoomState


def comment(cid: int, *, priority: float = 0.0, source: str = "x", status: str = "new", text: str = "hello",
            author: str = "@a", received_at: float = 1000.0, holder: str | None = None) -> Comment:
    return Comment(id=cid, incident_id="inc", source=source, external_id=f"e{cid}", author=author, text=text,
                   received_at=received_at + cid, priority=priority, status=status, holder=holder)


def event(seq: int, kind: str, payload: dict[str, object], actor: str = "Ana", ts: float = 2000.0) -> Event:
    return Event(seq=seq, incident_id="inc", ts=ts + seq, actor=actor, kind=kind, payload=payload,
                 prev_hash="", hash="")


def test_priority_puts_the_worst_first_and_time_the_newest_first() -> None:
    state = RoomState("inc")
    state.load_comments([comment(1, priority=0.2), comment(2, priority=0.9), comment(3, priority=0.5)])
    assert [r.id for r in state.visible] == [2, 3, 1]
    state.set_order("time")
    assert [r.id for r in state.visible] == [3, 2, 1]


def test_an_arriving_comment_lands_where_the_order_puts_it() -> None:
    state = RoomState("inc")
    state.load_comments([comment(1, priority=0.2), comment(2, priority=0.9)])
    state.apply([event(1, "comment.ingested", {"comment": {"id": 3, "source": "x", "external_id": "e3",
                                                            "author": "@b", "text": "worse", "priority": 0.95,
                                                            "received_at": 1500.0}})])
    assert [r.id for r in state.visible] == [3, 2, 1]
    assert state.rank(0.95) == 0 and state.rank(0.5) == 2
    assert state.index_of(1) == 2


def test_filters_follow_status_changes() -> None:
    state = RoomState("inc")
    state.load_comments([comment(1), comment(2, source="instagram"), comment(3, text="refund please")])
    state.set_filter(Filter(statuses=frozenset({"new"})))
    assert len(state) == 3
    state.apply([event(1, "comment.claimed", {"comment_id": 2, "holder": "Ana", "author": "@a"})])
    assert [r.id for r in state.visible] == [3, 1]
    state.apply([event(2, "comment.released", {"comment_id": 2, "author": "@a"})])
    assert sorted(r.id for r in state.visible) == [1, 2, 3]
    state.set_filter(Filter(sources=frozenset({"instagram"})))
    assert [r.id for r in state.visible] == [2]
    state.set_filter(Filter(text="REFUND"))
    assert [r.id for r in state.visible] == [3]
    assert Filter(text="[bold]x").describe() == '"[bold]x"'


def oldest_id(state: RoomState) -> int | None:
    row = state.oldest_unanswered()
    return row.id if row else None


def test_counts_and_the_oldest_unanswered_follow_the_log() -> None:
    state = RoomState("inc")
    state.load_comments([comment(1), comment(2), comment(3)])
    assert state.unanswered == 3
    assert oldest_id(state) == 1
    state.apply([
        event(1, "comment.status", {"comment_id": 1, "status": "answered", "author": "@a"}),
        event(2, "comment.status", {"comment_id": 2, "status": "ignored", "author": "@a"}),
    ])
    assert oldest_id(state) == 3
    assert state.counts["answered"] == 1 and state.unanswered == 1
    state.apply([event(3, "comment.status", {"comment_id": 1, "status": "new", "author": "@a"})])
    assert oldest_id(state) == 1


def test_drafts_decisions_and_presence_are_projected_from_events() -> None:
    state = RoomState("inc")
    state.load_comments([comment(1)])
    ch = state.apply([
        event(1, "operator.joined", {"name": "Luis", "role": "gm", "focus": ""}, actor="Luis"),
        event(2, "draft.saved", {"draft_id": 1, "kind": "reply", "comment_id": 1, "body": "hola", "version": 1}),
        event(3, "draft.status", {"draft_id": 1, "status": "in_review", "kind": "reply", "comment_id": 1}),
        event(4, "decision.proposed", {"decision_id": 1, "title": "holding statement", "rationale": ""}),
        event(5, "decision.voted", {"decision_id": 1, "vote": "approve", "status": "approved",
                                    "present": ["Ana", "Luis"], "title": "holding statement"}, actor="Luis"),
        event(6, "draft.status", {"draft_id": 1, "status": "approved", "kind": "reply", "comment_id": 1}, actor="Luis"),
        event(7, "draft.status", {"draft_id": 1, "status": "sent", "kind": "reply", "comment_id": 1}),
        event(8, "operator.left", {"name": "Luis", "reason": "timeout"}, actor="system"),
    ])
    assert ch.drafts == {1} and ch.decisions and ch.presence
    assert state.drafts[1].status == "sent" and state.drafts[1].approvals == ["Luis"]
    assert state.rows[1].status == "answered"
    decision = state.decisions[1]
    assert (decision.status, decision.decided_by, decision.present) == ("approved", "Luis", ["Ana", "Luis"])
    assert state.presence["Luis"].left_at is not None


def test_arriving_comments_fold_into_one_timeline_line_per_minute() -> None:
    state = RoomState("inc")
    batch = [event(i, "comment.ingested", {"comment": {"id": i, "source": "x" if i % 2 else "tiktok",
                                                        "external_id": f"e{i}", "author": "@z", "text": "t",
                                                        "received_at": 60_000.0}},
                   ts=60_000.0) for i in range(1, 6)]
    state.apply(batch)
    assert len(state.timeline) == 1
    assert state.timeline[0].text == "5 new comments: x 3, tiktok 2"
    assert state.total == 5


def test_replayed_events_are_applied_once() -> None:
    state = RoomState("inc")
    state.load_comments([comment(1)])
    claim = event(1, "comment.claimed", {"comment_id": 1, "holder": "Ana", "author": "@a"})
    state.apply([claim])
    state.apply([event(2, "comment.released", {"comment_id": 1, "author": "@a"}), claim])
    assert state.rows[1].status == "new" and state.counts["claimed"] == 0


def test_rate_series_counts_comments_per_minute() -> None:
    state = RoomState("inc")
    state.load_comments([comment(i, received_at=600.0) for i in range(1, 4)])
    series = state.rate_series(3, now=660.0)
    assert series == [0, 3, 0]
