"""The store's rules called directly, as pure functions on small structs (no file, no server).

Every store transport runs these same functions inside its write transaction;
the story tests in test_store.py and test_approval.py show them through both.
"""

from __future__ import annotations

import msgspec
import pytest

from crisis_tui import events as ev
from crisis_tui import playbook as playbook_mod
from crisis_tui.errors import (
    ClaimConflict,
    DraftConflict,
    Forbidden,
    InvalidInput,
    NotFound,
)
from crisis_tui.model import Decision, Draft, Incident
from crisis_tui.playbook import Playbook
from crisis_tui.store import guards
from crisis_tui.store.rows import CommentState
from crisis_tui.tone import Situation, ToneChecker

BOOK: Playbook = playbook_mod.load(playbook_mod.shipped_path())
CHECKER = ToneChecker(BOOK)


def draft(**changes: object) -> Draft:
    base: dict[str, object] = {"id": 1, "incident_id": "inc", "author": "Ana", "body": "Hola", "created_at": 1.0,
                               "updated_at": 1.0, "comment_id": 7}
    base.update(changes)
    return Draft(**base)  # type: ignore[arg-type]


def decision(**changes: object) -> Decision:
    base: dict[str, object] = {"id": 3, "incident_id": "inc", "title": "Holding statement", "proposer": "Ana",
                               "proposed_at": 1.0}
    base.update(changes)
    return Decision(**base)  # type: ignore[arg-type]


def test_a_free_comment_is_claimed_and_a_held_one_names_its_holder() -> None:
    claimed = guards.claim(7, CommentState("new", None, "@marta"), actor="Ana")
    assert claimed is not None
    kind, payload = ev.encode(claimed)
    assert (kind, payload) == ("comment.claimed", {"comment_id": 7, "holder": "Ana", "author": "@marta"})
    assert guards.claim(7, CommentState("claimed", "Ana", "@marta"), actor="Ana") is None
    with pytest.raises(ClaimConflict, match="held by Ana"):
        guards.claim(7, CommentState("claimed", "Ana", "@marta"), actor="Luis")
    with pytest.raises(ClaimConflict, match="it is answered"):
        guards.claim(7, CommentState("answered", None, "@marta"), actor="Luis")


def test_only_the_holder_releases_and_nobody_marks_another_holders_comment() -> None:
    with pytest.raises(InvalidInput, match="is not claimed"):
        guards.release(7, CommentState("new", None, "@marta"), actor="Ana")
    with pytest.raises(Forbidden, match="only they can release it"):
        guards.release(7, CommentState("claimed", "Ana", "@marta"), actor="Luis")
    assert isinstance(guards.release(7, CommentState("claimed", "Ana", "@marta"), actor="Ana"), ev.CommentReleased)
    with pytest.raises(Forbidden, match="held by Ana"):
        guards.mark(7, CommentState("claimed", "Ana", "@marta"), "ignored", actor="Luis", reason="")
    assert guards.mark(7, CommentState("ignored", None, "@marta"), "ignored", actor="Luis", reason="") is None
    with pytest.raises(InvalidInput, match="must be one of"):
        guards.mark_input("claimed", "")


def test_a_stale_save_keeps_the_text_and_raises_the_conflict_after_the_commit() -> None:
    current = draft(version=2, body="v2 text", author="Luis")
    events, conflict = guards.save_draft(current, "my stale text", base_version=1)
    assert len(events) == 1 and isinstance(events[0], ev.DraftConflict) and events[0].body == "my stale text"
    assert isinstance(conflict, DraftConflict) and conflict.current is current
    assert guards.save_draft(current, "v2 text", base_version=2) == guards.Save([])
    (saved,) = guards.save_draft(current, "v3 text", base_version=2).events
    kind, payload = ev.encode(saved)
    assert (kind, payload["version"]) == ("draft.saved", 3)
    with pytest.raises(InvalidInput, match="is sent; start a new one"):
        guards.save_draft(draft(status="sent"), "x", base_version=1)


def test_a_reply_needs_its_comment_and_must_not_be_on_another_holders_comment() -> None:
    with pytest.raises(InvalidInput, match="needs the comment"):
        guards.new_draft(1, "hi", kind="reply", comment_id=None, holder=None, actor="Ana")
    with pytest.raises(Forbidden, match="held by Ana"):
        guards.new_draft(1, "hi", kind="reply", comment_id=7, holder="Ana", actor="Luis")
    _, payload = ev.encode(guards.new_draft(1, "hi", kind="statement", comment_id=7, holder=None, actor="Luis"))
    assert payload["comment_id"] is None


def test_draft_steps_follow_the_transitions() -> None:
    with pytest.raises(InvalidInput, match="is draft; it cannot become sent"):
        guards.transition(draft(status="draft"), "sent")
    with pytest.raises(InvalidInput, match="is sent; it cannot become draft"):
        guards.transition(draft(status="sent"), "draft")
    guards.transition(draft(status="in_review"), "approved")


def test_a_vote_needs_a_seat_and_decision_power_and_an_owner_decides_what_is_not_ours() -> None:
    def vote(d: Decision | None, role: str | None, approve: bool = True) -> guards.Append:
        return guards.vote(d, 3, "inc", approve, actor="Sam", role=role, present=["Ana"], playbook=BOOK)

    with pytest.raises(NotFound):
        vote(None, "gm")
    with pytest.raises(Forbidden, match="not in the room"):
        vote(decision(), None)
    with pytest.raises(Forbidden, match="only a member with decision power"):
        vote(decision(), "cm")
    with pytest.raises(InvalidInput, match="already approved"):
        vote(decision(status="approved"), "gm")
    with pytest.raises(Forbidden, match="only the owner \\(client\\)"):
        vote(decision(owner_decides=True), "gm")
    kind, payload = ev.encode(vote(decision(owner_decides=True), "client"))
    assert (kind, payload["status"], payload["present"]) == ("decision.voted", "approved", ["Ana", "Sam"])


def situation(**incident: object) -> Situation:
    inc = Incident(id="inc", title="Refund delays", opened_at=1.0, **incident)  # type: ignore[arg-type]
    return Situation(incident=inc, comment=None, drafts=[], roles={"Luis": "gm", "Ana": "cm"})


def test_approval_judges_the_rules_itself_and_a_failing_one_needs_a_reason() -> None:
    judge = guards.Judge(CHECKER, situation())
    statement = draft(kind="statement", comment_id=None, body="ok", status="in_review")
    with pytest.raises(InvalidInput, match=r"failing rules \(next_step\)"):
        guards.draft_status(statement, "approved", actor="Luis", role="gm", judge=judge, playbook=BOOK)
    approved = guards.draft_status(statement, "approved", actor="Luis", role="gm", judge=judge, playbook=BOOK,
                                   override_reason="legal signed it")
    _, payload = ev.encode(approved)
    assert (payload["failing"], payload["override_reason"]) == (["next_step"], "legal signed it")
    with pytest.raises(Forbidden, match="decision power"):
        guards.draft_status(statement, "approved", actor="Ana", role="cm", judge=judge, playbook=BOOK,
                            override_reason="x")
    with pytest.raises(Forbidden, match="not in the room"):
        guards.draft_status(statement, "approved", actor="Sam", role=None, judge=judge, playbook=BOOK)


def test_only_the_approved_version_is_sent_and_a_moved_draft_is_refused() -> None:
    with pytest.raises(InvalidInput, match="v2 was never approved \\(v1 was\\)"):
        guards.draft_status(draft(status="approved", version=2, approved_version=1), "sent", actor="Ana", playbook=BOOK)
    with pytest.raises(InvalidInput, match="is at v2 now \\(saved by Ana\\), not v1"):
        guards.draft_status(draft(status="approved", version=2, approved_version=2), "sent", actor="Ana", version=1,
                            playbook=BOOK)
    sent = guards.draft_status(draft(status="approved", version=2, approved_version=2), "sent", actor="Ana",
                               version=2, playbook=BOOK)
    _, payload = ev.encode(sent)
    assert payload["version"] == 2


def test_an_edit_of_an_approved_draft_puts_it_back_in_review() -> None:
    events, conflict = guards.save_draft(draft(status="approved", approved_version=1), "Hola de nuevo", base_version=1)
    assert conflict is None
    saved, moved = events
    assert isinstance(saved, ev.DraftSaved) and saved.version == 2
    assert isinstance(moved, ev.DraftMoved) and (moved.version, moved.status) == (2, "in_review")
    assert isinstance(moved, ev.DraftMoved) and moved.previous == "approved" and moved.edited_after_approval is True


def test_four_eyes_keeps_writers_from_approving_and_proposers_from_approving_their_decision() -> None:
    strict = msgspec.structs.replace(BOOK, approval=playbook_mod.ApprovalRules(four_eyes=True))
    judge = guards.Judge(CHECKER, situation())
    statement = draft(kind="statement", comment_id=None, status="in_review", author="Luis", editors=["Ana", "Luis"],
                      body="We are sorry: every delayed refund will be paid within 48 hours.")
    for book in (BOOK, strict):
        for who in ("Ana", "Luis"):
            if book is BOOK:
                assert guards.draft_status(statement, "approved", actor=who, role="gm", judge=judge, playbook=book)
                continue
            with pytest.raises(Forbidden, match=f"four eyes: {who} saved a version of this public statement"):
                guards.draft_status(statement, "approved", actor=who, role="gm", judge=judge, playbook=book)
    with pytest.raises(Forbidden, match="four eyes: Ana proposed decision 3"):
        guards.vote(decision(), 3, "inc", True, actor="Ana", role="gm", present=[], playbook=strict)
    rejected = guards.vote(decision(), 3, "inc", False, actor="Ana", role="gm", present=[], playbook=strict)
    assert rejected.status == "rejected"


def test_the_incident_changes_only_by_a_seat_with_decision_power_and_keeps_the_reason() -> None:
    with pytest.raises(Forbidden, match="Eve is not in the room"):
        guards.incident_changer("Eve", None, BOOK)
    with pytest.raises(InvalidInput, match="'boss' is not a role"):
        guards.incident_changer("Eve", "boss", BOOK)
    with pytest.raises(Forbidden, match="Ana is cm"):
        guards.incident_changer("Ana", "cm", BOOK)
    assert guards.incident_changer("Luis", "gm", BOOK) == "gm"
    current = Incident(id="inc", title="Refunds", severity="sev2", opened_at=1.0)
    changed = guards.incident_changes(current, {"status": "closed"}, BOOK, reason=" quiet ", role="gm")
    assert changed is not None
    kind, payload = ev.encode(changed)
    assert (kind, payload) == ("incident.updated", {"changes": {"status": "closed"}, "before": {"status": "open"},
                                                    "reason": "quiet", "role": "gm"})
    assert guards.incident_changes(current, {"severity": "sev2"}, BOOK, reason="same", role="gm") is None


def test_a_hand_over_takes_decision_power_a_held_comment_and_someone_present() -> None:
    held = CommentState("claimed", "Ana", "@marta")

    def hand(to: str, role: str | None = "gm", state: CommentState = held) -> ev.CommentHandedOver | None:
        return guards.hand_over(7, state, actor="Luis", role=role, to=to, present=["Ana", "Giulia", "Luis"],
                                reason=" why ", playbook=BOOK)

    with pytest.raises(Forbidden, match="Luis is not in the room"):
        hand("Luis", role=None)
    with pytest.raises(Forbidden, match="Luis is care"):
        hand("Luis", role="care")
    with pytest.raises(InvalidInput, match="not held by anyone"):
        hand("Luis", state=CommentState("new", None, "@marta"))
    with pytest.raises(InvalidInput, match="Dora is not in the room"):
        hand("Dora")
    assert hand("Ana") is None  # she holds it already
    assert hand("Giulia") == ev.CommentHandedOver(comment_id=7, holder="Giulia", previous="Ana", author="@marta",
                                                  reason="why")
    assert guards.lapsed_claims([(7, "Ana", "@marta")], 120) == [
        ev.ClaimLapsed(comment_id=7, holder="Ana", author="@marta", after_seconds=120.0)]


def test_a_proposal_without_a_rationale_is_refused() -> None:
    with pytest.raises(InvalidInput, match="rationale: a decision needs its rationale"):
        guards.proposal_input("Pause the ads", " \n ", False, BOOK)
    assert guards.proposal_input(" Pause the ads ", " tone-deaf ", False, BOOK) == ("Pause the ads", "tone-deaf")
