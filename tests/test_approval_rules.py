"""The approval rules live in the store: stories through both transports (the `store` fixture)
and a raw HTTP client against a real server that skips the room and its previews."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from crisis_tui import approval
from crisis_tui.errors import InvalidInput
from crisis_tui.model import NewComment
from crisis_tui.playbook import Playbook
from crisis_tui.store.protocol import IncidentStore
from crisis_tui.store.sqlite import SqliteStore
from crisis_tui.tone import ToneChecker
from tests.test_server_support import ServeFactory, serve  # noqa: F401 - the fixture

GOOD = "Hola Marta, lo sentimos mucho: tres semanas sin reembolso es demasiado. Escríbenos por privado y hoy lo revisamos."
COMMENT = NewComment(source="x", external_id="x-1", author="@marta", lang="es",
                     text="Llevo tres semanas esperando el reembolso y nadie contesta.")


async def in_review(store: IncidentStore, incident: str, body: str) -> int:
    """Ana (cm) writes a reply to a comment she holds and submits it; Luis (gm) is in the room."""
    await store.heartbeat(incident, actor="Ana", role="cm")
    await store.heartbeat(incident, actor="Luis", role="gm")
    (cid,) = (await store.ingest(incident, [COMMENT])).ids
    await store.claim(incident, cid, actor="Ana")
    draft = await store.save_draft(incident, body, actor="Ana", comment_id=cid)
    await store.tick(incident, draft.id, "real_user", True, actor="Ana")
    await approval.submit(store, incident, draft.id, actor="Ana")
    return draft.id


async def test_the_store_finds_the_failing_rules_itself_and_wants_a_reason(
    store: IncidentStore, incident: str, book: Playbook
) -> None:
    draft_id = await in_review(store, incident, "ok")
    preview = await approval.failing_for_approval(store, ToneChecker(book), incident,
                                                  await store.get_draft(incident, draft_id), actor="Luis")
    assert "next_step" in preview
    with pytest.raises(InvalidInput) as refused:
        await store.set_draft_status(incident, draft_id, "approved", actor="Luis")
    assert refused.value.field == "override_reason"
    assert f"failing rules ({', '.join(preview)})" in str(refused.value)
    assert (await store.get_draft(incident, draft_id)).status == "in_review"

    approved = await approval.approve(store, None, incident, draft_id, actor="Luis", override_reason="the DM has it")
    assert (approved.status, approved.override_reason) == ("approved", "the DM has it")
    event = (await store.latest_events(incident, 1))[0]
    assert (event.payload["failing"], event.payload["override_reason"]) == (preview, "the DM has it")


async def test_a_passing_reply_needs_no_reason_and_its_record_says_nothing_failed(
    store: IncidentStore, incident: str
) -> None:
    draft_id = await in_review(store, incident, GOOD)
    approved = await store.set_draft_status(incident, draft_id, "approved", actor="Luis")
    assert approved.status == "approved"
    assert (await store.latest_events(incident, 1))[0].payload["failing"] == []


async def test_the_store_judges_with_the_playbook_in_force(tmp_path: Path, book: Playbook) -> None:
    """The room's hot reload hands the store the new rules: a rule switched off stops blocking."""
    relaxed = msgspec.structs.replace(book, tone=msgspec.structs.replace(book.tone, rules=[
        msgspec.structs.replace(r, enabled=r.id != "next_step") for r in book.tone.rules
    ]))
    store = await SqliteStore.open(tmp_path / "incident.db", playbook=book)
    try:
        incident = (await store.create_incident("Refund delays", actor="Luis")).id
        draft_id = await in_review(store, incident, "Hola Marta, el reembolso.")
        with pytest.raises(InvalidInput, match="next_step"):
            await store.set_draft_status(incident, draft_id, "approved", actor="Luis")
        store.use_playbook(relaxed)
        assert (await store.set_draft_status(incident, draft_id, "approved", actor="Luis")).status == "approved"
    finally:
        await store.close()


async def test_a_raw_client_cannot_approve_over_failing_rules_by_saying_none_fail(serve: ServeFactory) -> None:
    served = await serve()
    luis = served.raw(await served.token("Luis", "lead"))
    incident = (await luis.post("/incidents", json={"title": "Refund delays"})).json()["id"]
    assert (await luis.post(f"/incidents/{incident}/presence", json={"role": "gm"})).status_code == 200
    made = await luis.post(f"/incidents/{incident}/drafts", json={"body": "ok", "kind": "statement"})
    draft = made.json()["id"]
    status = f"/incidents/{incident}/drafts/{draft}/status"
    assert (await luis.post(status, json={"status": "in_review"})).status_code == 200

    for body in ({"status": "approved"}, {"status": "approved", "failing": []}):
        refused = await luis.post(status, json=body)
        assert refused.status_code == 422, refused.text
        assert refused.json()["field"] == "override_reason" and "next_step" in refused.json()["detail"]
    assert (await luis.get(f"/incidents/{incident}/drafts/{draft}")).json()["status"] == "in_review"

    approved = await luis.post(status, json={"status": "approved", "failing": [], "override_reason": "legal signed it"})
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    event = (await luis.get(f"/incidents/{incident}/events/latest", params={"limit": 1})).json()[0]
    assert "next_step" in event["payload"]["failing"]
    assert event["payload"]["override_reason"] == "legal signed it"
