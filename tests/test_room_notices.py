"""Who hears what from the log: the room's toasts for hand-overs, freed claims and approvals,
routed from the events over the room's own state (no terminal)."""

from __future__ import annotations

from typing import Any

from crisis_tui import events as ev
from crisis_tui import playbook as playbook_mod
from crisis_tui.comment_shape import parse_comment
from crisis_tui.model import Event
from crisis_tui.room_notices import needs_my_approval, notices
from crisis_tui.room_state import RoomState

BOOK = playbook_mod.load(playbook_mod.shipped_path())
NOW = 1_767_261_600.0


class Log:
    """Events with increasing seqs, as the sync worker hands them over."""

    def __init__(self) -> None:
        self.seq = 0

    def __call__(self, actor: str, body: Any) -> Event:
        self.seq += 1
        kind, payload = ev.encode(body)
        return Event(seq=self.seq, incident_id="inc", ts=NOW + self.seq, actor=actor, kind=kind, payload=payload,
                     prev_hash="", hash="")


def marta() -> ev.ArrivedComment:
    c = parse_comment({"source": "x", "id": "x-1", "author": "@marta", "text": "¿Y mi reembolso?"})
    return ev.ArrivedComment(**{f: getattr(c, f) for f in c.__struct_fields__}, id=1, received_at=NOW)


def told(events: list[Event], state: RoomState, me: str, role: str | None) -> list[tuple[str, str]]:
    state.apply(events)
    return [(n.title, n.text) for n in notices(events, state, me=me, role=role, playbook=BOOK)]


def test_the_holder_hears_of_a_take_over_and_of_a_claim_freed_while_away() -> None:
    log, state = Log(), RoomState("inc")
    state.apply([log("intake", ev.CommentIngested(comment=marta())),
                 log("Ana", ev.CommentClaimed(comment_id=1, holder="Ana", author="@marta"))])
    taken = [log("Luis", ev.CommentHandedOver(comment_id=1, holder="Giulia", previous="Ana", author="@marta",
                                              reason="care has it"))]
    assert told(taken, state, "Ana", "cm") == [
        ("Comment taken over", "Luis gave @marta (#1) to Giulia: care has it; your draft stays with the comment")]
    state2 = RoomState("inc")
    state2.apply([log("intake", ev.CommentIngested(comment=marta()))])
    assert told(taken, state2, "Giulia", "care") == [
        ("Comment handed to you", "Luis gave you @marta (#1) from Ana: care has it")]
    assert told(taken, RoomState("inc"), "Luis", "gm") == []  # my own act tells me nothing
    freed = [log("system", ev.ClaimLapsed(comment_id=1, holder="Giulia", author="@marta", after_seconds=120))]
    assert told(freed, state2, "Giulia", "care")[0][0] == "Claim freed"
    assert state2.rows[1].status == "new" and state2.rows[1].holder is None
    assert told(freed, RoomState("inc"), "Ana", "cm") == []


def test_a_statement_in_review_reaches_only_those_who_may_approve_it_and_its_author_hears_the_verdict() -> None:
    log, state = Log(), RoomState("inc")
    state.apply([log("Ana", ev.DraftSaved(draft_id=4, version=1, body="We are sorry.", kind="statement"))])
    submitted = [log("Ana", ev.DraftMoved(draft_id=4, status="in_review", previous="draft", kind="statement"))]
    assert told(submitted, state, "Luis", "gm") == [
        ("Needs your approval", "Ana submitted the public statement (draft 4): x lists what waits for you")]
    assert notices(submitted, state, me="Giulia", role="care", playbook=BOOK) == []  # no decision power
    assert notices(submitted, state, me="Sam", role=None, playbook=BOOK) == []  # not in the room
    assert [d.id for d in needs_my_approval(state, me="Luis", role="gm", playbook=BOOK)] == [4]
    assert needs_my_approval(state, me="Giulia", role="care", playbook=BOOK) == []
    withdrawn = [log("Luis", ev.DraftMoved(draft_id=4, status="withdrawn", previous="in_review", kind="statement"))]
    assert told(withdrawn, state, "Ana", "cm") == [("Withdrawn", "Luis withdrew the public statement (draft 4)")]
    assert needs_my_approval(state, me="Luis", role="gm", playbook=BOOK) == []
