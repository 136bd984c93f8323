"""The approval flow the room, the CLI and the server share.

draft -> in review -> approved (by whom, which version) -> sent. Each step is a
guarded store command, so it lands on the timeline with who and when. The
store re-checks the draft against the tone rules at approval, from its own rows
and the playbook in force (crisis_tui.tone.situation, which this module uses
for the room's preview too), ignores anything a client says about them, and
refuses failing automatic rules without a written reason; a public statement
also needs an approver with decision power. No client can skip either.
"""

from __future__ import annotations

from crisis_tui.errors import InvalidInput
from crisis_tui.model import Draft
from crisis_tui.playbook import Playbook
from crisis_tui.store import guards
from crisis_tui.store.protocol import IncidentStore
from crisis_tui.tone import (
    Situation,
    ToneChecker,
    ToneContext,
    Verdict,
    blocking_rules,
    draft_context,
)


async def situation_of(store: IncidentStore, incident_id: str, draft: Draft) -> Situation:
    """The rows the store judges `draft` against, read through the store."""
    return Situation(
        incident=await store.get_incident(incident_id),
        comment=await store.get_comment(incident_id, draft.comment_id) if draft.comment_id is not None else None,
        drafts=await store.drafts(incident_id),
        roles={p.name: p.role for p in await store.presence(incident_id)},
    )


async def context_for(store: IncidentStore, playbook: Playbook, incident_id: str, draft: Draft) -> ToneContext:
    """The draft's situation as the tone rules see it, read from the store."""
    return draft_context(draft, await situation_of(store, incident_id, draft), playbook)


async def verdicts_for(store: IncidentStore, checker: ToneChecker, incident_id: str, draft: Draft) -> list[Verdict]:
    """The checklist of a stored draft (what the room shows when it opens one)."""
    ctx = await context_for(store, checker.playbook, incident_id, draft)
    return checker.check(draft.body, ctx)


def _require_body(draft: Draft) -> None:
    if not draft.body.strip():
        raise InvalidInput("body", f"draft {draft.id} is empty: write the reply first")


async def submit(store: IncidentStore, incident_id: str, draft_id: int, *, actor: str) -> Draft:
    """Ask for approval: draft -> in review."""
    _require_body(await store.get_draft(incident_id, draft_id))
    return await store.set_draft_status(incident_id, draft_id, "in_review", actor=actor)


async def failing_for_approval(
    store: IncidentStore, checker: ToneChecker, incident_id: str, draft: Draft, *, actor: str
) -> list[str]:
    """The rules that would block `actor` approving `draft` now: the same function on the
    same rows as the store's guard, so the room asks for a reason exactly when the store will."""
    situation = await situation_of(store, incident_id, draft)
    return blocking_rules(checker, draft, situation, situation.roles.get(actor, ""))


async def check_approver(store: IncidentStore, playbook: Playbook, incident_id: str, draft: Draft, *, actor: str) -> None:
    """Raise the Forbidden the store would answer `actor` approving `draft` (seat, decision
    power, four eyes), so the room can say so before it asks for a reason or a confirmation."""
    roles = {p.name: p.role for p in await store.presence(incident_id) if p.left_at is None}
    guards.approver(draft, actor=actor, role=roles.get(actor), playbook=playbook)


async def approve(
    store: IncidentStore,
    checker: ToneChecker | None,
    incident_id: str,
    draft_id: int,
    *,
    actor: str,
    override_reason: str = "",
    version: int | None = None,
) -> Draft:
    """in review -> approved by `actor`, over failing rules only with a written reason.

    `version` is the version the approver read: the store refuses when the draft
    has moved on since. The store judges the rules with its own playbook;
    `checker` is not consulted (it stays in the signature for existing callers).
    """
    draft = await store.get_draft(incident_id, draft_id)
    _require_body(draft)
    return await store.set_draft_status(
        incident_id, draft_id, "approved", actor=actor, override_reason=override_reason.strip(), version=version
    )


async def send(store: IncidentStore, incident_id: str, draft_id: int, *, actor: str, version: int | None = None) -> Draft:
    """approved -> sent (a reply's comment becomes answered); only the approved version goes out."""
    return await store.set_draft_status(incident_id, draft_id, "sent", actor=actor, version=version)


async def withdraw(store: IncidentStore, incident_id: str, draft_id: int, *, actor: str) -> Draft:
    """Drop a draft at any step before it is sent."""
    return await store.set_draft_status(incident_id, draft_id, "withdrawn", actor=actor)
