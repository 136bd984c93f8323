"""The rules of every command, as pure functions: current rows in, events out, or a refusal.

A guard reads nothing and writes nothing: the store reads the rows a command
needs inside its write transaction, hands them here, and appends what comes
back. So SqliteStore (and through it the server, for every HTTP client)
enforces exactly these rules, and tests call them with small structs.
Each returns the typed event body to append (crisis_tui.events), None when the
command changes nothing, or raises the CrisisError that says why it is refused.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

import msgspec

from crisis_tui import events as ev
from crisis_tui import json_input
from crisis_tui.errors import (
    ClaimConflict,
    CrisisError,
    DraftConflict,
    Forbidden,
    InvalidInput,
    NotFound,
    NoticeTaken,
)
from crisis_tui.model import (
    INCIDENT_STATUSES,
    MARKABLE_STATUSES,
    Decision,
    Draft,
    Event,
    Incident,
)
from crisis_tui.playbook import Playbook
from crisis_tui.safe_text import storable
from crisis_tui.store.rows import CommentState
from crisis_tui.tone import Situation, ToneChecker, blocking_rules

#: What a guard hands the store to append: one typed event body.
Append = ev.Known

MAX_NOTE = 4000
#: A brand's name, as the incident keeps it.
MAX_BRAND = 200
MAX_ESCALATED_TO = 200
MAX_DRAFT = 64 * 1024
DRAFT_TRANSITIONS: dict[str, set[str]] = {
    "draft": {"in_review", "withdrawn"},
    "in_review": {"approved", "draft", "withdrawn"},
    "approved": {"sent", "draft", "withdrawn"},
    "sent": set(),
    "withdrawn": {"draft"},
}


def text(value: str, field: str, cap: int, *, required: bool = True) -> str:
    """Typed text as the record keeps it (lone surrogates and NUL as U+FFFD, see storable)."""
    if not isinstance(value, str):
        raise InvalidInput(field, "must be text")
    value = storable(value)
    if required and not value.strip():
        raise InvalidInput(field, "must not be empty")
    if len(value) > cap:
        raise InvalidInput(field, f"is {len(value):,} characters, the limit is {cap:,}")
    return value


def deciders(playbook: Playbook) -> str:
    return ", ".join(r.id for r in playbook.roles if r.decision_power)


def member_role(role: str | None, actor: str) -> str:
    """The actor's role in the room; voting and approving need a seat."""
    if role is None:
        raise Forbidden(f"{actor} is not in the room: join the incident before voting or approving")
    return role


# --------------------------------------------------------------- incidents
def new_incident(title: str, severity: str, playbook: Playbook, brand: str = "") -> tuple[str, str, str]:
    """The clean title, the severity (the playbook's default when none is given) and the brand."""
    title = text(title, "title", 200).strip()
    severity = severity or playbook.default_severity
    if playbook.severity(severity) is None:
        raise InvalidInput("severity", f"{severity!r} is not in the playbook ({', '.join(s.id for s in playbook.severities)})")
    return title, severity, text(brand, "brand", MAX_BRAND, required=False)


def open_with_title(title: str, open_now: list[tuple[str, str]]) -> str | None:
    """The id of the open incident (of `open_now`: id and title) whose title is `title`, compared
    case- and space-blind; None when there is none."""
    key = " ".join(title.split()).casefold()
    return next((id_ for id_, other in open_now if " ".join(other.split()).casefold() == key), None)


def title_free(title: str, open_now: list[tuple[str, str]], again: bool) -> None:
    """A second open incident with a title one already has (`open_now`: id and title of each
    open one) is refused unless asked for: it is usually a retyped command, and a room opened
    by title would join the new, empty one. Titles compare case- and space-blind."""
    open_with_it = open_with_title(title, open_now)
    if open_with_it is not None and not again:
        raise InvalidInput("title", f"{open_with_it} is already open with this title; open that one, "
                                    f"or ask for a second one (--again, or \"again\": true)")


def incident_changer(actor: str, role: str | None, playbook: Playbook) -> str:
    """The seat that may change the incident (severity, fault, closing drive the SLA and the
    apology rule): one with decision power, taken in the room or named by the command."""
    if role is None:
        raise Forbidden(f"{actor} is not in the room: join the incident (or name your role) to change it")
    if playbook.role(role) is None:
        raise InvalidInput("role", f"{role!r} is not a role of the playbook ({', '.join(r.id for r in playbook.roles)})")
    if not playbook.has_decision_power(role):
        raise Forbidden(f"only a member with decision power ({deciders(playbook)}) can change the incident; "
                        f"{actor} is {role}")
    return role


def incident_changes(
    current: Incident, changes: Mapping[str, object], playbook: Playbook, *, reason: str = "", role: str | None = None,
) -> ev.IncidentUpdated | None:
    """The change to append (None when nothing changes); the reason and the seat go on the record."""
    clean: dict[str, object] = {}
    for key, value in changes.items():
        if value is None:
            continue
        if key == "our_fault" and not isinstance(value, bool):
            raise InvalidInput(key, f"must be true or false, got {type(value).__name__}")
        if key in ("title", "brand", "severity", "status") and not isinstance(value, str):
            raise InvalidInput(key, f"must be a string, got {type(value).__name__}")
        if key == "severity":
            if playbook.severity(str(value)) is None:
                raise InvalidInput("severity", f"{value!r} is not in the playbook")
        elif key == "status":
            if value not in INCIDENT_STATUSES:
                raise InvalidInput("status", f"must be one of {', '.join(INCIDENT_STATUSES)}")
        elif key in ("title", "brand"):
            value = text(str(value), key, 200, required=key == "title")
        elif key != "our_fault":
            raise InvalidInput(key, "cannot be changed")
        if getattr(current, key) != value:
            clean[key] = value
    if not clean:
        return None
    reason = text(reason, "reason", MAX_NOTE, required=False).strip()
    # reason and role only when given: changes written without them keep their bytes
    return ev.IncidentUpdated(changes=clean, before={k: getattr(current, k) for k in clean},  # type: ignore[arg-type]
                              reason=reason or msgspec.UNSET, role=role or msgspec.UNSET)


# ---------------------------------------------------------------- comments
def comment_state(state: CommentState | None, comment_id: int, incident_id: str) -> CommentState:
    if state is None:
        raise NotFound(f"no comment {comment_id} in incident {incident_id}")
    return state


def claim(comment_id: int, state: CommentState, *, actor: str) -> ev.CommentClaimed | None:
    """Exactly one operator wins; the others get ClaimConflict naming the holder."""
    if state.holder == actor and state.status == "claimed":
        return None
    if state.holder or state.status not in ("new", "escalated"):
        raise ClaimConflict(comment_id, state.holder, state.status)
    return ev.CommentClaimed(comment_id=comment_id, holder=actor, author=state.author)


def release(comment_id: int, state: CommentState, *, actor: str) -> ev.CommentReleased:
    if state.holder is None:
        raise InvalidInput("comment", f"comment {comment_id} is not claimed")
    if state.holder != actor:
        raise Forbidden(f"comment {comment_id} is held by {state.holder}; only they can release it")
    return ev.CommentReleased(comment_id=comment_id, author=state.author)


def hand_over(
    comment_id: int, state: CommentState, *, actor: str, role: str | None, to: str, present: Sequence[str],
    reason: str, playbook: Playbook,
) -> ev.CommentHandedOver | None:
    """A member with decision power takes a held comment over (`to` is the actor) or gives it to
    someone in the room; the holder's draft stays. Only a held comment is handed over."""
    seat = member_role(role, actor)
    if not playbook.has_decision_power(seat):
        raise Forbidden(f"only a member with decision power ({deciders(playbook)}) can take over or reassign a "
                        f"comment; {actor} is {seat}")
    if state.holder is None or state.status != "claimed":
        raise InvalidInput("comment", f"comment {comment_id} is not held by anyone: claim it (c) instead")
    if to != actor and to not in present:
        raise InvalidInput("to", f"{to} is not in the room: a comment goes only to someone present")
    if state.holder == to:
        return None
    reason = text(reason, "reason", MAX_NOTE, required=False).strip()
    return ev.CommentHandedOver(comment_id=comment_id, holder=to, previous=state.holder, author=state.author,
                                reason=reason)


def lapsed_claims(held: Sequence[tuple[int, str, str]], after_seconds: float) -> list[ev.ClaimLapsed]:
    """The claims to free of members gone for `after_seconds`: (comment id, holder, author) rows."""
    return [ev.ClaimLapsed(comment_id=cid, holder=holder, author=author, after_seconds=float(after_seconds))
            for cid, holder, author in held]


def mark_input(status: str, reason: str, to: str = "") -> tuple[str, str]:
    """The clean reason and escalation target, checked before the transaction opens."""
    if status not in MARKABLE_STATUSES:
        raise InvalidInput("status", f"must be one of {', '.join(MARKABLE_STATUSES)}")
    to = text(to, "to", MAX_ESCALATED_TO, required=False).strip()
    if to and status != "escalated":
        raise InvalidInput("to", f"only an escalation goes to someone, not {status.replace('_', ' ')}")
    return text(reason, "reason", MAX_NOTE, required=False), to


def not_held_by_another(comment_id: int, holder: str | None, actor: str) -> None:
    if holder and holder != actor:
        raise Forbidden(f"comment {comment_id} is held by {holder}")


def mark(comment_id: int, state: CommentState, status: str, *, actor: str, reason: str,
         to: str = "") -> ev.CommentMarked | None:
    not_held_by_another(comment_id, state.holder, actor)
    if state.status == status:
        return None
    return ev.CommentMarked(comment_id=comment_id, status=status, previous=state.status, author=state.author,
                            reason=reason, to=to or msgspec.UNSET)


def clean_tags(tags: Sequence[str]) -> list[str]:
    clean = sorted({storable(t.strip().lower()) for t in tags if t.strip()})
    for t in clean:
        if len(t) > 40:
            raise InvalidInput("tags", f"tag {t[:20]!r}... is longer than 40 characters")
    return clean


def tag(comment_id: int, state: CommentState, tags: list[str]) -> ev.CommentTagged:
    return ev.CommentTagged(comment_id=comment_id, tags=tags, author=state.author)


#: What the room does to many comments at once, and the status each mark sets.
BULK_MARKS = {"ignore": "ignored", "request_removal": "removal_requested"}
BULK_ACTIONS = (*BULK_MARKS, "tag", "release")
#: The most comments one bulk action takes (one transaction holds the file's write lock).
MAX_BULK = 1000


def bulk_input(action: str, comment_ids: Sequence[int], tags: Sequence[str], reason: str
               ) -> tuple[list[int], list[str], str]:
    """The ids (once each, in the order given), the clean tags and reason of a bulk action,
    checked before its transaction opens."""
    if action not in BULK_ACTIONS:
        raise InvalidInput("action", f"must be one of {', '.join(BULK_ACTIONS)}")
    ids = list(dict.fromkeys(comment_ids))
    if not ids:
        raise InvalidInput("comment_ids", "name at least one comment")
    if len(ids) > MAX_BULK:
        raise InvalidInput("comment_ids", f"{len(ids):,} comments; one bulk action takes at most {MAX_BULK:,}")
    clean = clean_tags(tags)
    if action == "tag" and not clean:
        raise InvalidInput("tags", "name at least one tag to add")
    if action != "tag" and clean:
        raise InvalidInput("tags", f"only a tag action takes tags, not {action.replace('_', ' ')}")
    return ids, clean, text(reason, "reason", MAX_NOTE, required=False).strip()


def bulk_change(action: str, comment_id: int, state: CommentState, *, actor: str, tags: list[str],
                had: list[str], reason: str) -> Append | None:
    """One comment's change in a bulk action: the same guard its single action runs
    (a comment someone else holds is refused), None when it is already so. A tag action
    adds its tags to those the comment `had`."""
    if action in BULK_MARKS:
        return mark(comment_id, state, BULK_MARKS[action], actor=actor, reason=reason)
    if action == "release":
        return release(comment_id, state, actor=actor)
    not_held_by_another(comment_id, state.holder, actor)
    merged = sorted({*had, *tags})
    return None if merged == sorted(had) else tag(comment_id, state, merged)


# ------------------------------------------------------------------ drafts
def draft_input(body: str, kind: str) -> str:
    body = text(body, "body", MAX_DRAFT, required=False)
    if kind not in ("reply", "statement"):
        raise InvalidInput("kind", "must be reply or statement")
    return body


def new_draft(draft_id: int, body: str, *, kind: str, comment_id: int | None, holder: str | None, actor: str) -> ev.DraftSaved:
    """Version 1 of a draft; a reply is written by whoever may answer its comment."""
    if kind == "reply":
        if comment_id is None:
            raise InvalidInput("comment_id", "a reply needs the comment it answers")
        not_held_by_another(comment_id, holder, actor)
    return ev.DraftSaved(draft_id=draft_id, kind=kind, comment_id=comment_id if kind == "reply" else None,
                         body=body, version=1)


class Judge(NamedTuple):
    """What an approval is judged with: the playbook's compiled rules and the draft's rows."""

    checker: ToneChecker
    situation: Situation
    now: float | None = None


class Save(NamedTuple):
    """What a save appends, and the conflict to raise once it is committed (the refused text stays in the log)."""

    events: list[Append]
    conflict: CrisisError | None = None


def found_draft(draft: Draft | None, draft_id: int, incident_id: str) -> Draft:
    if draft is None:
        raise NotFound(f"no draft {draft_id} in incident {incident_id}")
    return draft


def save_draft(current: Draft, body: str, *, base_version: int) -> Save:
    """A new version when based on the current one; a stale save is refused with the current draft.

    An approval approves one version: editing an approved draft puts it back in
    review with its approvals cleared, and says so on the timeline.
    """
    if current.status in ("sent", "withdrawn"):
        raise InvalidInput("draft", f"draft {current.id} is {current.status}; start a new one")
    if current.version != base_version:
        return Save([ev.DraftConflict(draft_id=current.id, based_on=base_version, current_version=current.version,
                                      body=body)], DraftConflict(current, base_version))
    if current.body == body:
        return Save([])
    saved = ev.DraftSaved(draft_id=current.id, kind=current.kind, comment_id=current.comment_id,
                          body=body, version=current.version + 1)
    if current.status != "approved":
        return Save([saved])
    return Save([saved, ev.DraftMoved(
        draft_id=current.id, status="in_review", previous="approved", kind=current.kind,
        comment_id=current.comment_id, version=current.version + 1, edited_after_approval=True,
    )])


def tick(draft_id: int, rule: str, ticked: bool, playbook: Playbook) -> ev.DraftTicked:
    known = {r.id for r in playbook.tone.rules}
    if known and rule not in known:
        raise InvalidInput("rule", f"{rule!r} is not a checklist rule of the playbook")
    return ev.DraftTicked(draft_id=draft_id, rule=rule, ticked=bool(ticked))


def transition(draft: Draft, status: str) -> None:
    if status not in DRAFT_TRANSITIONS.get(draft.status, set()):
        raise InvalidInput("status", f"draft {draft.id} is {draft.status.replace('_', ' ')}; "
                                     f"it cannot become {status.replace('_', ' ')}")


def approver(draft: Draft, *, actor: str, role: str | None, playbook: Playbook) -> str:
    """The approver's seat, or the Forbidden that says why they may not approve `draft`
    (the room calls it to say so before asking anything)."""
    seat = member_role(role, actor)
    if draft.kind == "statement" and not playbook.has_decision_power(seat):
        raise Forbidden(
            f"a public statement needs approval by a member with decision power ({deciders(playbook)}); {actor} is {seat}"
        )
    if playbook.approval.four_eyes and actor in {*draft.editors, draft.author}:
        what = "public statement" if draft.kind == "statement" else "reply"
        raise Forbidden(f"four eyes: {actor} saved a version of this {what} (draft {draft.id}); "
                        "someone else must approve it")
    return seat


def draft_status(
    draft: Draft,
    status: str,
    *,
    actor: str,
    role: str | None = None,
    holder: str | None = None,
    override_reason: str = "",
    version: int | None = None,
    judge: Judge | None = None,
    playbook: Playbook,
) -> ev.DraftMoved:
    """Move a draft along draft -> in review -> approved -> sent (or withdraw it).

    Approving a public statement takes decision power; approving over failing
    automatic rules takes a written reason, which goes on the record with the
    rules. The rules are judged here, from the store's rows (`judge`), never
    taken from the client. `role` is the approver's seat (read only when
    approving); `holder` the reply's comment holder (read only when sending).
    With `version`, the step is refused unless the draft is still at the version
    the client read; an approval records its version and only that version is sent.
    """
    transition(draft, status)
    if version is not None and version != draft.version:
        raise InvalidInput("version", f"draft {draft.id} is at v{draft.version} now (saved by {draft.author}), "
                                      f"not v{version}: read it again first")
    moved = ev.DraftMoved(draft_id=draft.id, status=status, previous=draft.status, kind=draft.kind,
                          comment_id=draft.comment_id)
    if status == "approved":
        seat = approver(draft, actor=actor, role=role, playbook=playbook)
        if judge is None:
            raise ValueError("approving needs the draft's situation to judge it")  # a wiring bug, not a user error
        failing = blocking_rules(judge.checker, draft, judge.situation, seat, now=judge.now)
        if failing and not override_reason:
            raise InvalidInput(
                "override_reason", f"failing rules ({', '.join(failing)}): approving anyway needs a written reason"
            )
        return msgspec.structs.replace(moved, override_reason=override_reason, failing=failing, version=draft.version)
    if status == "sent":
        if draft.approved_version != draft.version:
            approved = f"v{draft.approved_version} was" if draft.approved_version else "no version was"
            raise InvalidInput("status", f"draft {draft.id} v{draft.version} was never approved ({approved}): "
                                         "submit it for approval again")
        if draft.kind == "reply" and draft.comment_id is not None:
            not_held_by_another(draft.comment_id, holder, actor)
        return msgspec.structs.replace(moved, version=draft.version)
    return moved


# --------------------------------------------------------------- decisions
def proposal(
    decision_id: int, title: str, rationale: str, *, supersedes: int | None, old: Decision | None,
    owner_decides: bool,
) -> ev.DecisionProposed:
    if supersedes is not None:
        if old is None:
            raise NotFound(f"no decision {supersedes} to supersede")
        if old.status == "superseded":
            raise InvalidInput("supersedes", f"decision {supersedes} is already superseded")
    # owner_decides only when set: the payloads (and hashes) of ordinary decisions do not change
    return ev.DecisionProposed(decision_id=decision_id, title=title, rationale=rationale, supersedes=supersedes,
                               owner_decides=True if owner_decides else msgspec.UNSET)


def proposal_input(title: str, rationale: str, owner_decides: bool, playbook: Playbook) -> tuple[str, str]:
    title = text(title, "title", 300).strip()
    if not isinstance(rationale, str) or not rationale.strip():
        raise InvalidInput("rationale", "a decision needs its rationale: say why, it goes on the record "
                                        "and the voters read it")
    rationale = text(rationale, "rationale", MAX_NOTE).strip()
    if owner_decides and not playbook.owners():
        raise InvalidInput("owner_decides", "the playbook has no role with owner = true to approve it")
    return title, rationale


def vote(
    decision: Decision | None, decision_id: int, incident_id: str, approve: bool, *, actor: str, role: str | None,
    present: Sequence[str], playbook: Playbook,
) -> ev.DecisionVoted:
    """A member with decision power approves or rejects; who was present goes on the record."""
    if decision is None:
        raise NotFound(f"no decision {decision_id} in incident {incident_id}")
    if decision.status != "proposed":
        raise InvalidInput("decision", f"decision {decision_id} is already {decision.status}")
    seat = member_role(role, actor)
    if not playbook.has_decision_power(seat) and not (decision.owner_decides and playbook.is_owner(seat)):
        raise Forbidden(
            f"only a member with decision power ({deciders(playbook)}) can approve or reject; {actor} is {seat}"
        )
    if approve and playbook.approval.four_eyes and decision.proposer == actor:
        raise Forbidden(f"four eyes: {actor} proposed decision {decision_id}; someone else must approve it")
    if approve and decision.owner_decides and not playbook.is_owner(seat):
        owners = ", ".join(r.id for r in playbook.owners())
        raise Forbidden(f"decision {decision_id} is not ours to take: only the owner ({owners}) can approve it; "
                        f"{actor} is {seat}")
    return ev.DecisionVoted(
        decision_id=decision_id, vote="approve" if approve else "reject", role=seat,
        title=decision.title, status="approved" if approve else "rejected",
        present=sorted(set(present) | {actor}),
    )


# ---------------------------------------------------------------- presence
def heartbeat_input(actor: str, role: str, focus: str | None, playbook: Playbook) -> tuple[str, str | None]:
    actor = text(actor, "name", 64).strip()
    if playbook.role(role) is None:
        raise InvalidInput("role", f"{role!r} is not a role of the playbook ({', '.join(r.id for r in playbook.roles)})")
    if focus is not None:
        focus = text(focus, "focus", 200, required=False)
    return actor, focus


def heartbeat(
    seat: tuple[str, str, float | None] | None, *, actor: str, role: str, focus: str | None
) -> ev.OperatorJoined | ev.OperatorFocus | None:
    """A join when the actor is new, back, or in another role; a focus change; else None (a touch)."""
    if seat is None or seat[2] is not None or seat[0] != role:
        return ev.OperatorJoined(name=actor, role=role, focus=focus or "")
    if focus is not None and focus != seat[1]:
        return ev.OperatorFocus(name=actor, focus=focus)
    return None


def alert_kind(kind: str) -> None:
    if not ev.is_alert_kind(kind):
        raise InvalidInput("kind", "alerts are alert.* events")


def drill_alert(kind: str, drill: bool) -> None:
    """A drill's own events (its start, injects and end) go on a drill incident only: a real
    incident's log never holds a rehearsal."""
    if kind.startswith(ev.DRILL_PREFIX) and not drill:
        raise InvalidInput("kind", f"{kind} belongs to a drill; this incident is not one (crisis-tui drill starts one)")


def alert_payload(payload: Mapping[str, object]) -> None:
    """A payload nested past json_input.MAX_DEPTH would be refused by every reader of the log later."""
    if json_input.depth_exceeds(dict(payload)):
        raise InvalidInput("payload", f"nests deeper than {json_input.MAX_DEPTH} levels")


# ------------------------------------------------------------- word out
def _deliveries(delivered: Sequence[str], failed: dict[str, str]) -> tuple[list[str], dict[str, str]]:
    names = [text(n, "delivered", 100).strip() for n in delivered]
    why = {text(k, "failed", 100).strip(): text(v, "failed", 500) for k, v in failed.items()}
    return names, why


def drill_reach(drill: bool, delivered: Sequence[str], failed: Mapping[str, str], playbook: Playbook) -> None:
    """A drill notifies only the playbook's drill targets: a delivery to any other one recorded
    on a drill is refused (whatever client records it), so no rehearsal reaches a real department."""
    if not drill:
        return
    rehearsing = {t.name for t in playbook.notify if t.drill}
    named = [n for n in [*delivered, *failed] if n not in rehearsing]
    if named:
        raise Forbidden(f"a drill notifies only the playbook's drill targets; {', '.join(sorted(set(named)))} "
                        "is not one (set drill = true on its [[notify]] target)")


def sitrep(report: str, delivered: Sequence[str], failed: dict[str, str]) -> ev.SitrepIssued:
    names, why = _deliveries(delivered, failed)
    return ev.SitrepIssued(text=text(report, "text", MAX_DRAFT).strip(), delivered=names, failed=why)


def _about_seq(about_seq: int) -> None:
    """A notice is about an event of the log: its seq, 1 or more."""
    if about_seq < 1:
        raise InvalidInput("about_seq", f"must be an event's seq (1 or more), got {about_seq}")


def notification(about_seq: int, about: str, words: str, delivered: Sequence[str], failed: dict[str, str]
                 ) -> ev.NotificationSent:
    _about_seq(about_seq)
    names, why = _deliveries(delivered, failed)
    return ev.NotificationSent(about_seq=about_seq, about=text(about, "about", 40).strip(),
                               text=text(words, "text", MAX_NOTE), delivered=names, failed=why)


#: The longest a notify runner may hold a notice before another may take it over (a runner asks for
#: its targets' longest wait and a margin).
MAX_NOTICE_LEASE = 600.0


def notice_claim(about_seq: int, runner: str, lease_seconds: float, now: float,
                 held: tuple[str, float, int] | None) -> ev.NotificationClaimed:
    """`runner` takes event `about_seq`'s notice for `lease_seconds`, unless it went out (`held`: the
    notices row, runner, held until, sent) or another runner holds it still: NoticeTaken then says
    which, and how long until the claim of a runner that stopped may be taken over."""
    _about_seq(about_seq)
    runner = text(runner, "runner", 200).strip()
    if not runner:
        raise InvalidInput("runner", "must name the notify runner (its host and process)")
    if not 0 < lease_seconds <= MAX_NOTICE_LEASE:
        raise InvalidInput("lease_seconds", f"must be more than 0 and at most {MAX_NOTICE_LEASE:g}, got {lease_seconds}")
    if held is not None:
        holder, until, sent = held
        if sent:
            raise NoticeTaken(about_seq, f"the notice of event {about_seq} went out already", None)
        if holder and holder != runner and until > now:
            raise NoticeTaken(about_seq, f"notify runner {holder} is sending the notice of event {about_seq} "
                                         f"(its claim holds {until - now:.0f} s more)", until - now)
    return ev.NotificationClaimed(about_seq=about_seq, runner=runner, until=now + lease_seconds)


def open_escalation(comment_id: int, events: Sequence[Event]) -> Event | None:
    """The comment's newest escalation that no recorded answer closed yet (None: nothing waits).

    `events` are the comment's `comment.status` and `escalation.answered` events, in log order."""
    waiting: Event | None = None
    for event in events:
        match event.body:
            case ev.CommentMarked(comment_id=cid, status="escalated") if cid == comment_id:
                waiting = event
            case ev.EscalationAnswered(comment_id=cid, escalated_seq=seq) if (
                    cid == comment_id and waiting is not None and seq == waiting.seq):
                waiting = None
    return waiting


def nothing_waits(comment_id: int) -> str:
    """Why an answer to the comment's escalation is refused: the store's refusal and the room's preview."""
    return f"comment #{comment_id} has no escalation waiting for an answer (escalate it first, e)"


def escalation_answer(comment_id: int, waiting: Event | None, answer: str) -> ev.EscalationAnswered:
    """The department's answer to the comment's open escalation, or a refusal naming why not."""
    answer = text(answer, "answer", MAX_NOTE).strip()
    body = waiting.body if waiting is not None else None
    if waiting is None or not isinstance(body, ev.CommentMarked):
        raise InvalidInput("comment_id", nothing_waits(comment_id))
    to = body.to if isinstance(body.to, str) else ""
    return ev.EscalationAnswered(comment_id=comment_id, to=to, answer=answer, escalated_seq=waiting.seq,
                                 escalated_at=waiting.ts, author=body.author)
