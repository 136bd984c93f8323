"""Lax types and out-of-range numbers on a real loopback server: 422 or 404, never 500, never a guess."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from crisis_tui.errors import InvalidInput
from crisis_tui.playbook import Playbook
from crisis_tui.store.sqlite import SqliteStore
from tests.test_server_support import Served, ServeFactory, serve  # noqa: F401 - the fixture

pytestmark = pytest.mark.timeout(120)


async def _room(served: Served) -> tuple[httpx.AsyncClient, str]:
    lead = served.raw(await served.token("Luis", "lead"))
    made = await lead.post("/incidents", json={"title": "Refund delays"})
    assert made.status_code == 201
    inc = made.json()["id"]
    # Changing the incident takes decision power: the lead sits as gm first.
    assert (await lead.post(f"/incidents/{inc}/presence", json={"role": "gm"})).status_code == 200
    return lead, inc


async def test_a_boolean_is_a_json_boolean_and_an_object_is_no_title(serve: ServeFactory) -> None:
    served = await serve()
    lead, inc = await _room(served)
    for body, field in (({"our_fault": "false"}, "our_fault"), ({"title": {"a": 1}}, "title"),
                        ({"our_fault": 0}, "our_fault"), ({"severity": 3}, "severity")):
        answer = await lead.patch(f"/incidents/{inc}", json=body)
        assert answer.status_code == 422, (body, answer.text)
        assert answer.json()["field"] == field
    incident = (await lead.get(f"/incidents/{inc}")).json()
    assert (incident["title"], incident["our_fault"]) == ("Refund delays", False)
    changed = await lead.patch(f"/incidents/{inc}", json={"our_fault": True, "title": None})
    assert changed.status_code == 200 and changed.json()["our_fault"] is True
    assert changed.json()["title"] == "Refund delays"
    made = await lead.post("/incidents", json={"title": "Other", "our_fault": "true"})
    assert (made.status_code, made.json()["field"]) == (422, "our_fault")


async def test_unknown_keys_are_422_naming_the_key_even_actor_and_incident_id(serve: ServeFactory) -> None:
    served = await serve()
    lead, inc = await _room(served)
    for path, body in ((f"/incidents/{inc}", {"actor": "Ana"}), (f"/incidents/{inc}", {"incident_id": "x"}),
                       (f"/incidents/{inc}/notes", {"text": "hi", "actor": "Ana"}),
                       ("/incidents", {"title": "T", "incident_id": "x"})):
        method = lead.patch if path == f"/incidents/{inc}" else lead.post
        answer = await method(path, json=body)
        assert answer.status_code == 422, (path, body, answer.text)
        key = next(k for k in body if k in ("actor", "incident_id"))
        assert (answer.json()["field"], answer.json()["problem"]) == (key, "is not a known field")


async def test_huge_ids_in_paths_queries_and_bodies_are_404_or_422(serve: ServeFactory) -> None:
    served = await serve()
    lead, inc = await _room(served)
    huge = "99999999999999999999999"
    for path in (f"/incidents/{inc}/drafts/{huge}/status", f"/incidents/{inc}/comments/{huge}/claim",
                 f"/incidents/{inc}/decisions/{huge}/votes"):
        answer = await lead.post(path, json={"status": "in_review", "approve": True})
        assert answer.status_code == 404, (path, answer.text)
    fits = await lead.get(f"/incidents/{inc}/drafts/999999999999999999")
    assert fits.status_code == 404 and fits.json()["error"] == "not_found"
    for query in ("events?after=1e99", f"events?after={huge}", "comments?limit=-5", f"comments?after_id={huge}",
                  "events/latest?limit=0", "drafts?comment_id=1.5", f"head?number={huge}", "audit?at=-1",
                  "events?after=%D9%A3"):
        answer = await lead.get(f"/incidents/{inc}/{query}")
        assert answer.status_code == 422, (query, answer.text)
        assert answer.json()["error"] == "invalid"
    stream = await lead.get(f"/incidents/{inc}/events", headers={"Last-Event-ID": huge})
    assert (stream.status_code, stream.json()["field"]) == (422, "Last-Event-ID")
    for body in ({"body": "x", "comment_id": int(huge)}, {"body": "x", "comment_id": 1e300}):
        answer = await lead.post(f"/incidents/{inc}/drafts", json=body)
        assert (answer.status_code, answer.json()["field"]) == (422, "comment_id")
    gone = await lead.post(f"/incidents/{inc}/presence/expire", content=b'{"gone_after": 1e999}')
    assert gone.status_code == 422


async def test_a_lone_surrogate_becomes_a_replacement_character(serve: ServeFactory) -> None:
    served = await serve()
    lead, inc = await _room(served)
    note = await lead.post(f"/incidents/{inc}/notes", content=b'{"text": "a\\ud800b \\ud83d\\ude00 \\\\ud800"}',
                           headers={"Content-Type": "application/json"})
    assert note.status_code == 201, note.text
    assert note.json()["text"] == "a\ufffdb \U0001f600 \\ud800"
    comment = await lead.post(f"/incidents/{inc}/comments",
                              content=b'{"source": "x", "id": "1", "author": "@a\\udfff", "text": "hi \\udbff"}')
    assert comment.status_code == 200, comment.text
    stored = (await lead.get(f"/incidents/{inc}/comments")).json()
    assert (stored[0]["author"], stored[0]["text"]) == ("@a\ufffd", "hi \ufffd")


async def test_a_deep_alert_payload_is_422(serve: ServeFactory) -> None:
    served = await serve()
    lead, inc = await _room(served)
    deep = b'{"kind": "alert.x", "payload": {"a": ' + b"[" * 100 + b"]" * 100 + b"}}"
    answer = await lead.post(f"/incidents/{inc}/alerts", content=deep)
    assert (answer.status_code, answer.json()["field"]) == (422, "payload")


async def test_a_deep_alert_payload_is_refused_by_the_store_itself(tmp_path: Path, book: Playbook) -> None:
    async with await SqliteStore.open(tmp_path / "room.db", playbook=book) as store:
        inc = (await store.create_incident("Refund delays", actor="Luis")).id
        deep: dict[str, object] = {"a": {}}
        inner = deep["a"]
        for _ in range(40):
            assert isinstance(inner, dict)
            inner["a"] = {}
            inner = inner["a"]
        with pytest.raises(InvalidInput, match="payload: nests deeper"):
            await store.alert(inc, "alert.x", deep)
        assert [e.kind for e in await store.events_after(inc, 0, 10)] == ["incident.created"]


async def test_the_store_itself_takes_no_string_for_a_boolean_and_no_object_for_a_title(
        tmp_path: Path, book: Playbook) -> None:
    async with await SqliteStore.open(tmp_path / "room.db", playbook=book) as store:
        inc = (await store.create_incident("Refund delays", actor="Luis")).id
        with pytest.raises(InvalidInput, match="our_fault: must be true or false"):
            await store.update_incident(inc, actor="Luis", role="gm", our_fault="false")
        with pytest.raises(InvalidInput, match="title: must be a string"):
            await store.update_incident(inc, actor="Luis", role="gm", title={"a": 1})
        assert (await store.update_incident(inc, actor="Luis", role="gm", our_fault=True)).our_fault is True
