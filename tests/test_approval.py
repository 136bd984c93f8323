"""The approval flow against a real SqliteStore file: draft -> in review ->
approved (by whom) -> sent, with the guards the committee relies on."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from crisis_tui import approval
from crisis_tui import playbook as playbook_mod
from crisis_tui.errors import Forbidden, InvalidInput
from crisis_tui.model import NewComment
from crisis_tui.playbook import Playbook
from crisis_tui.store.sqlite import SqliteStore
from crisis_tui.timeline_text import human_lines
from crisis_tui.tone import ToneChecker

COMMENT = NewComment(
    source="x", external_id="x-1001", author="@marta_viaja", lang="es",
    text="Llevo TRES semanas esperando el reembolso y nadie contesta. Vergüenza de servicio.",
    bot_reasons=["account 3 days old"],
)
GOOD = "Hola Marta, lo sentimos mucho: tres semanas sin reembolso es demasiado. Escríbenos por privado y hoy lo revisamos."
NO_APOLOGY = "Hola Marta, revisamos tu reembolso hoy mismo. Escríbenos por privado con el número de pedido."
STATEMENT = "Comunicado: los reembolsos retrasados por la actualización se pagan en las próximas 48 horas. Pedimos disculpas."


@pytest.fixture
def book() -> Playbook:
    return playbook_mod.load(playbook_mod.shipped_path())


@pytest.fixture
def checker(book: Playbook) -> ToneChecker:
    return ToneChecker(book)


@pytest.fixture
async def room(tmp_path: Path, book: Playbook) -> AsyncIterator[tuple[SqliteStore, str, int]]:
    """An incident that is our fault, one comment claimed by Ana (cm); Luis (gm) is in the room."""
    store = await SqliteStore.open(tmp_path / "incident.db", playbook=book)
    try:
        incident = await store.create_incident("Refund delays", actor="Luis", severity="sev1", our_fault=True)
        await store.heartbeat(incident.id, actor="Ana", role="cm")
        await store.heartbeat(incident.id, actor="Luis", role="gm")
        comment_id = (await store.ingest(incident.id, [COMMENT])).ids[0]
        await store.claim(incident.id, comment_id, actor="Ana")
        yield store, incident.id, comment_id
    finally:
        await store.close()


async def test_a_reply_goes_from_draft_to_sent_and_every_step_is_on_the_timeline(
    room: tuple[SqliteStore, str, int], checker: ToneChecker
) -> None:
    store, incident, comment_id = room
    draft = await store.save_draft(incident, GOOD, actor="Ana", comment_id=comment_id)
    assert draft.status == "draft"
    assert (await approval.submit(store, incident, draft.id, actor="Ana")).status == "in_review"
    approved = await approval.approve(store, checker, incident, draft.id, actor="Ana")
    assert (approved.status, approved.approvals, approved.override_reason) == ("approved", ["Ana"], "")
    sent = await approval.send(store, incident, draft.id, actor="Ana")
    assert sent.status == "sent"
    assert (await store.get_comment(incident, comment_id)).status == "answered"

    events = [e for e in await store.events_after(incident, 0, 1000) if e.kind == "draft.status"]
    assert [(e.actor, e.payload["status"]) for e in events] == [("Ana", "in_review"), ("Ana", "approved"), ("Ana", "sent")]
    assert all(e.ts > 0 for e in events)
    assert events[1].payload["failing"] == []
    lines = human_lines(events)
    assert "Ana approved the reply (draft 1)" in lines[1]


async def test_an_operator_cannot_approve_a_public_statement(
    room: tuple[SqliteStore, str, int], checker: ToneChecker
) -> None:
    store, incident, _ = room
    draft = await store.save_draft(incident, STATEMENT, actor="Ana", kind="statement")
    await approval.submit(store, incident, draft.id, actor="Ana")
    with pytest.raises(Forbidden) as err:
        await approval.approve(store, checker, incident, draft.id, actor="Ana")
    assert "a public statement needs approval by a member with decision power" in str(err.value)
    assert "Ana is cm" in str(err.value)
    assert (await store.get_draft(incident, draft.id)).status == "in_review"

    before = await approval.verdicts_for(store, checker, incident, await store.get_draft(incident, draft.id))
    assert next(v for v in before if v.rule == "authority").state == "pending"
    approved = await approval.approve(store, checker, incident, draft.id, actor="Luis")
    assert (approved.status, approved.approvals) == ("approved", ["Luis"])
    after = await approval.verdicts_for(store, checker, incident, approved)
    assert next(v for v in after if v.rule == "authority").state == "pass"


async def test_an_override_without_a_reason_is_refused_and_with_one_it_is_recorded(
    room: tuple[SqliteStore, str, int], checker: ToneChecker
) -> None:
    store, incident, comment_id = room
    draft = await store.save_draft(incident, NO_APOLOGY, actor="Ana", comment_id=comment_id)
    await approval.submit(store, incident, draft.id, actor="Ana")
    with pytest.raises(InvalidInput) as err:
        await approval.approve(store, checker, incident, draft.id, actor="Ana")
    assert str(err.value) == "override_reason: failing rules (apology): approving anyway needs a written reason"
    with pytest.raises(InvalidInput):
        await approval.approve(store, checker, incident, draft.id, actor="Ana", override_reason="   ")
    assert (await store.get_draft(incident, draft.id)).status == "in_review"

    reason = "Legal asked us not to apologise before the audit"
    approved = await approval.approve(store, checker, incident, draft.id, actor="Luis", override_reason=reason)
    assert (approved.status, approved.override_reason) == ("approved", reason)
    event = (await store.latest_events(incident, 1))[0]
    assert (event.actor, event.payload["failing"], event.payload["override_reason"]) == ("Luis", ["apology"], reason)
    assert "Luis approved the reply (draft 1) overriding apology: Legal asked us not to apologise" in human_lines([event])[0]


async def test_a_copy_of_an_earlier_reply_blocks_approval(
    room: tuple[SqliteStore, str, int], checker: ToneChecker
) -> None:
    store, incident, comment_id = room
    first = await store.save_draft(incident, GOOD, actor="Ana", comment_id=comment_id)
    second = await store.save_draft(incident, GOOD.replace("Marta", "Pablo"), actor="Ana", comment_id=comment_id)
    await approval.submit(store, incident, second.id, actor="Ana")
    with pytest.raises(InvalidInput) as err:
        await approval.approve(store, checker, incident, second.id, actor="Ana")
    assert "failing rules (personal)" in str(err.value)

    # The earlier draft is not judged against the later one, and a withdrawn draft no longer counts.
    ctx_first = await approval.context_for(store, checker.playbook, incident, first)
    assert ctx_first.earlier_replies == ()
    await approval.withdraw(store, incident, first.id, actor="Ana")
    approved = await approval.approve(store, checker, incident, second.id, actor="Ana")
    assert approved.status == "approved"


async def test_the_context_is_read_from_the_store(
    room: tuple[SqliteStore, str, int], checker: ToneChecker
) -> None:
    store, incident, comment_id = room
    draft = await store.save_draft(incident, GOOD, actor="Ana", comment_id=comment_id)
    draft = await store.tick(incident, draft.id, "real_user", True, actor="Ana")
    ctx = await approval.context_for(store, checker.playbook, incident, draft)
    assert (ctx.lang, ctx.kind, ctx.platform, ctx.our_fault, ctx.severity) == ("es", "reply", "x", True, "sev1")
    assert ctx.comment_text == COMMENT.text
    assert ctx.comment_received_at is not None
    assert ctx.ticked == {"real_user": True}
    assert ctx.bot_reasons == ("account 3 days old",)
    verdicts = await approval.verdicts_for(store, checker, incident, draft)
    real_user = next(v for v in verdicts if v.rule == "real_user")
    assert (real_user.state, real_user.reason) == ("pass", "checked by a person (bot? account 3 days old)")
    assert checker.failing(verdicts) == []


async def test_an_empty_draft_cannot_be_submitted_and_an_edit_sends_it_back_to_draft(
    room: tuple[SqliteStore, str, int], checker: ToneChecker
) -> None:
    store, incident, comment_id = room
    empty = await store.save_draft(incident, "  ", actor="Ana", comment_id=comment_id)
    with pytest.raises(InvalidInput, match="is empty"):
        await approval.submit(store, incident, empty.id, actor="Ana")

    draft = await store.save_draft(incident, GOOD, actor="Ana", comment_id=comment_id)
    await approval.submit(store, incident, draft.id, actor="Ana")
    await store.save_draft(incident, GOOD + " Un saludo.", actor="Ana", draft_id=draft.id, base_version=1)
    with pytest.raises(InvalidInput, match="it cannot become approved"):
        await approval.approve(store, checker, incident, draft.id, actor="Ana")


async def test_nothing_is_sent_before_it_is_approved(room: tuple[SqliteStore, str, int]) -> None:
    store, incident, comment_id = room
    draft = await store.save_draft(incident, GOOD, actor="Ana", comment_id=comment_id)
    await approval.submit(store, incident, draft.id, actor="Ana")
    with pytest.raises(InvalidInput, match="it cannot become sent"):
        await approval.send(store, incident, draft.id, actor="Ana")
