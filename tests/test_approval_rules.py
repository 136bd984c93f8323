"""The approval rules live in the store: stories through both transports (the `store` fixture)
and a raw HTTP client against a real server that skips the room and its previews."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

import httpx
import msgspec
import pytest

from crisis_tui import approval
from crisis_tui import playbook as playbook_mod
from crisis_tui.errors import InvalidInput
from crisis_tui.export.metrics import compute
from crisis_tui.model import Event, NewComment
from crisis_tui.playbook import Playbook
from crisis_tui.room_state import RoomState
from crisis_tui.server.app import create_app
from crisis_tui.server.background import BackgroundServer
from crisis_tui.store.http import HttpStore
from crisis_tui.store.protocol import IncidentStore
from crisis_tui.store.schema import MIGRATIONS
from crisis_tui.store.sqlite import SqliteStore
from crisis_tui.timeline_text import human_lines
from crisis_tui.tokens import TokenBook
from crisis_tui.tone import ToneChecker
from tests.test_server_process import free_port, lead_token, start_server, stop
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


async def test_an_approval_approves_one_version_and_an_edit_sends_it_back_to_review(
    store: IncidentStore, incident: str
) -> None:
    draft_id = await in_review(store, incident, GOOD)
    with pytest.raises(InvalidInput) as stale:
        await approval.approve(store, None, incident, draft_id, actor="Luis", version=2)
    assert stale.value.field == "version" and "is at v1 now" in str(stale.value)
    approved = await approval.approve(store, None, incident, draft_id, actor="Luis", version=1)
    assert (approved.status, approved.approvals, approved.approved_version) == ("approved", ["Luis"], 1)

    edited = await store.save_draft(incident, GOOD + " Un saludo.", actor="Ana", draft_id=draft_id, base_version=1)
    assert (edited.status, edited.version, edited.approvals, edited.approved_version) == ("in_review", 2, [], None)
    room = RoomState(incident)
    room.apply(await store.events_after(incident, 0, 1000))
    assert (room.drafts[draft_id].status, room.drafts[draft_id].approvals) == ("in_review", [])
    line = human_lines(await store.latest_events(incident, 2))[-1]
    assert line.endswith(" Ana saved v2 of the reply (draft 1): edited after approval: back in review")
    with pytest.raises(InvalidInput, match="it cannot become sent"):
        await approval.send(store, incident, draft_id, actor="Ana")

    await approval.approve(store, None, incident, draft_id, actor="Luis", version=2)
    with pytest.raises(InvalidInput, match="is at v2 now"):
        await approval.send(store, incident, draft_id, actor="Ana", version=1)
    sent = await approval.send(store, incident, draft_id, actor="Ana", version=2)
    assert (sent.status, sent.approved_version) == ("sent", 2)
    event = (await store.latest_events(incident, 1))[0]
    assert (event.payload["status"], event.payload["version"]) == ("sent", 2)


async def test_a_raw_client_sends_only_the_version_that_was_approved(serve: ServeFactory) -> None:
    served = await serve()
    luis = served.raw(await served.token("Luis", "lead"))
    incident = (await luis.post("/incidents", json={"title": "Refund delays"})).json()["id"]
    await luis.post(f"/incidents/{incident}/presence", json={"role": "gm"})
    statement = "We are sorry: every delayed refund will be paid within 48 hours."
    draft = (await luis.post(f"/incidents/{incident}/drafts", json={"body": statement, "kind": "statement"})).json()
    path = f"/incidents/{incident}/drafts/{draft['id']}"
    await luis.post(path + "/status", json={"status": "in_review"})
    assert (await luis.post(path + "/status", json={"status": "approved", "version": 1})).status_code == 200

    edited = await luis.put(path, json={"body": statement + " Thank you.", "base_version": 1})
    assert (edited.json()["status"], edited.json()["approved_version"]) == ("in_review", None)
    refused = await luis.post(path + "/status", json={"status": "sent"})
    assert refused.status_code == 422 and "it cannot become sent" in refused.json()["detail"]
    assert (await luis.post(path + "/status", json={"status": "approved", "version": 1})).status_code == 422
    assert (await luis.post(path + "/status", json={"status": "approved", "version": 2})).status_code == 200
    wrong = await luis.post(path + "/status", json={"status": "sent", "version": 1})
    assert wrong.status_code == 422 and wrong.json()["field"] == "version"
    sent = await luis.post(path + "/status", json={"status": "sent", "version": 2})
    assert (sent.status_code, sent.json()["status"], sent.json()["approved_version"]) == (200, "sent", 2)


async def test_a_draft_edited_after_approval_before_this_version_cannot_be_sent(tmp_path: Path, book: Playbook) -> None:
    """A file from before approvals named their version: an approved draft edited since (its
    approvals cleared, still "approved") opens with no approved version and is not sent."""
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:
        for script in MIGRATIONS[:4]:
            db.executescript(script)
        db.execute("PRAGMA user_version = 4")
        db.execute("INSERT INTO incidents (id, title, severity, opened_at) VALUES ('inc', 'Refunds', 'sev2', 1)")
        for did, approvals in ((1, '["Luis"]'), (2, "[]")):
            db.execute("INSERT INTO drafts (id, incident_id, kind, author, body, version, status, approvals, created_at, "
                       "updated_at) VALUES (?, 'inc', 'statement', 'Sam', 'We are sorry.', 2, 'approved', ?, 1, 1)",
                       (did, approvals))
    store = await SqliteStore.open(path, playbook=book)
    try:
        assert [(d.id, d.approved_version) for d in await store.drafts("inc")] == [(1, 2), (2, None)]
        with pytest.raises(InvalidInput, match="v2 was never approved"):
            await store.set_draft_status("inc", 2, "sent", actor="Sam")
        assert (await store.set_draft_status("inc", 1, "sent", actor="Sam")).status == "sent"
    finally:
        await store.close()


def test_the_export_does_not_count_an_approval_of_a_version_that_was_not_sent(book: Playbook) -> None:
    """An old log: v1 approved, v2 saved (the draft stayed approved), v2 sent."""
    def event(seq: int, event_kind: str, **payload: object) -> Event:
        return Event(seq=seq, incident_id="inc", ts=float(seq), actor="Luis", kind=event_kind, payload=dict(payload),
                     prev_hash="", hash="")

    saved = [event(1, "draft.saved", draft_id=1, kind="statement", body="a", version=1),
             event(2, "draft.status", draft_id=1, status="approved", kind="statement", failing=[])]
    fine = compute([*saved, event(3, "draft.status", draft_id=1, status="sent", kind="statement")], book)
    assert (fine.checklist.approvals, fine.checklist.passed) == (1, 1)
    edited = compute([*saved, event(3, "draft.saved", draft_id=1, kind="statement", body="b", version=2),
                      event(4, "draft.status", draft_id=1, status="sent", kind="statement")], book)
    assert (edited.checklist.approvals, edited.checklist.passed, edited.checklist.pass_rate) == (0, 0, None)
    assert [(o.name, o.approvals) for o in edited.operators] == [("Luis", 0)]


async def test_a_server_judges_with_each_good_edit_of_its_playbook(tmp_path: Path, book: Playbook) -> None:
    """`serve` follows its playbook file like the rooms do, so rooms and server judge alike."""
    source = tmp_path / "team.toml"
    source.write_text(playbook_mod.to_toml(book), encoding="utf-8")
    db = tmp_path / "served.db"
    await (await SqliteStore.open(db, playbook=book)).close()
    tokens = await TokenBook.open(db)
    server = BackgroundServer(create_app(db, playbook=playbook_mod.load(source), watch_playbook=True))
    server.start()
    try:
        luis = await HttpStore.open(server.url, token=(await tokens.create("Luis", "lead"))[1])
        try:
            incident = (await luis.create_incident("Refund delays", actor="Luis")).id
            await luis.heartbeat(incident, actor="Luis", role="gm")
            draft = await luis.save_draft(incident, "ok", actor="Luis", kind="statement")
            await approval.submit(luis, incident, draft.id, actor="Luis")
            with pytest.raises(InvalidInput, match="next_step"):
                await luis.set_draft_status(incident, draft.id, "approved", actor="Luis")
            relaxed = msgspec.structs.replace(book, tone=msgspec.structs.replace(book.tone, rules=[
                msgspec.structs.replace(r, enabled=r.id != "next_step") for r in book.tone.rules
            ]))
            source.write_text(playbook_mod.to_toml(relaxed), encoding="utf-8")
            deadline = time.monotonic() + 10
            while True:
                try:
                    approved = await luis.set_draft_status(incident, draft.id, "approved", actor="Luis")
                    break
                except InvalidInput:
                    if time.monotonic() > deadline:
                        raise
                    await asyncio.sleep(0.1)
            assert approved.status == "approved"
        finally:
            await luis.close()
    finally:
        server.stop()
        await tokens.close()


@pytest.mark.slow
@pytest.mark.timeout(120)
async def test_crisis_tui_serve_refuses_a_raw_client_and_judges_with_its_edited_playbook(
    tmp_path: Path, book: Playbook, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`crisis-tui serve` in its own process, a bare httpx client, no room anywhere."""
    source = tmp_path / "team.toml"
    source.write_text(playbook_mod.to_toml(book), encoding="utf-8")
    monkeypatch.setenv(playbook_mod.ENV_VAR, str(source))
    db = tmp_path / "room.db"
    token = await lead_token(db)
    port = free_port()
    proc = start_server(db, port)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10,
                                     headers={"Authorization": f"Bearer {token}"}) as luis:
            incident = (await luis.post("/incidents", json={"title": "Refund delays"})).json()["id"]
            await luis.post(f"/incidents/{incident}/presence", json={"role": "gm"})
            draft = (await luis.post(f"/incidents/{incident}/drafts", json={"body": "ok", "kind": "statement"})).json()
            status = f"/incidents/{incident}/drafts/{draft['id']}/status"
            await luis.post(status, json={"status": "in_review"})
            refused = await luis.post(status, json={"status": "approved", "failing": []})
            assert refused.status_code == 422 and "next_step" in refused.json()["detail"]

            relaxed = msgspec.structs.replace(book, tone=msgspec.structs.replace(book.tone, rules=[
                msgspec.structs.replace(r, enabled=r.id != "next_step") for r in book.tone.rules
            ]))
            source.write_text(playbook_mod.to_toml(relaxed), encoding="utf-8")
            deadline = time.monotonic() + 10
            while (answer := await luis.post(status, json={"status": "approved"})).status_code == 422:
                assert time.monotonic() < deadline, answer.text
                await asyncio.sleep(0.1)
            assert (answer.status_code, answer.json()["status"]) == (200, "approved")
    finally:
        stop(proc)
