"""The approval flow the room, the CLI and the server share.

draft -> in review -> approved (by whom) -> sent. Each step is a guarded store
command, so it lands on the timeline with who and when. Approval re-checks the
draft against the tone rules *at that moment*, from the store's own state (the
comment, the incident's fault and severity, the other replies, the ticks), and
hands the failing automatic rules to the store, which refuses to approve over
them without a written reason and records that reason with the approval. A
public statement also needs an approver with decision power; the store checks
that too, so no client can skip it.
"""

from __future__ import annotations

from dataclasses import replace

from crisis_tui.errors import InvalidInput
from crisis_tui.model import Draft
from crisis_tui.playbook import Playbook
from crisis_tui.store.protocol import IncidentStore
from crisis_tui.tone import ToneChecker, ToneContext, Verdict


async def _roles(store: IncidentStore, incident_id: str) -> dict[str, str]:
    """Each member's role as the room knows it (the latest join)."""
    return {p.name: p.role for p in await store.presence(incident_id)}


def _earlier(draft: Draft, others: list[Draft]) -> tuple[str, ...]:
    """Bodies this draft must not copy: drafts started before it, and anything sent."""
    return tuple(
        d.body
        for d in others
        if d.id != draft.id and d.status != "withdrawn" and d.body.strip() and (d.id < draft.id or d.status == "sent")
    )


async def context_for(store: IncidentStore, playbook: Playbook, incident_id: str, draft: Draft) -> ToneContext:
    """The draft's situation as the tone rules see it, read from the store."""
    incident = await store.get_incident(incident_id)
    comment = await store.get_comment(incident_id, draft.comment_id) if draft.comment_id is not None else None
    roles = await _roles(store, incident_id)
    approved = any(playbook.has_decision_power(roles.get(name, "")) for name in draft.approvals)
    return ToneContext(
        lang=comment.lang if comment else "",
        kind=draft.kind,
        comment_text=comment.text if comment else "",
        platform=comment.source if comment else "",
        our_fault=incident.our_fault,
        severity=incident.severity,
        comment_received_at=comment.received_at if comment else None,
        earlier_replies=_earlier(draft, await store.drafts(incident_id)),
        approved_by_decision_power=approved,
        ticked=dict(draft.checklist),
        bot_reasons=tuple(comment.bot_reasons) if comment else (),
    )


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
    """The rules that would block `actor` approving `draft` now (the room asks for a
    written reason over these before it approves; `approve` checks them again)."""
    ctx = await context_for(store, checker.playbook, incident_id, draft)
    role = (await _roles(store, incident_id)).get(actor, "")
    if checker.playbook.has_decision_power(role):
        ctx = replace(ctx, approved_by_decision_power=True)
    return checker.failing(checker.check(draft.body, ctx))


async def approve(
    store: IncidentStore,
    checker: ToneChecker,
    incident_id: str,
    draft_id: int,
    *,
    actor: str,
    override_reason: str = "",
    version: int | None = None,
) -> Draft:
    """in review -> approved by `actor`, over failing rules only with a written reason.

    The rules are evaluated as if this approval were given (a decision-power
    approver settles "authority"); the store then refuses an approver without
    decision power for a statement, and failing rules without a reason.
    `version` is the one the approver read: a draft saved since is refused, so
    nobody approves a text they have not seen.
    """
    draft = await store.get_draft(incident_id, draft_id)
    if version is not None and draft.version != version:
        raise InvalidInput("version", f"draft {draft_id} is now v{draft.version} (saved by {draft.author}), "
                                      f"not the v{version} you read: read it again before approving")
    _require_body(draft)
    failing = await failing_for_approval(store, checker, incident_id, draft, actor=actor)
    return await store.set_draft_status(
        incident_id, draft_id, "approved", actor=actor, override_reason=override_reason.strip(), failing=failing
    )


async def send(store: IncidentStore, incident_id: str, draft_id: int, *, actor: str) -> Draft:
    """approved -> sent (a reply's comment becomes answered)."""
    return await store.set_draft_status(incident_id, draft_id, "sent", actor=actor)


async def withdraw(store: IncidentStore, incident_id: str, draft_id: int, *, actor: str) -> Draft:
    """Drop a draft at any step before it is sent."""
    return await store.set_draft_status(incident_id, draft_id, "withdrawn", actor=actor)
