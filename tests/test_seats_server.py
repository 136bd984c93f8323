"""Seats bound to credentials on a `crisis-tui serve` server: a real uvicorn on loopback, real
tokens in the incident file, raw httpx clients that skip the room."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from crisis_tui.cli import main
from crisis_tui.playbook import Playbook
from crisis_tui.seats import seats_in_force
from crisis_tui.store.schema import MIGRATIONS
from crisis_tui.store.sqlite import SqliteStore
from crisis_tui.tokens import Token, TokenBook, digest
from tests.test_server_support import Served, ServeFactory, serve  # noqa: F401 - the fixture

pytestmark = pytest.mark.timeout(120)


async def an_incident(served: Served) -> str:
    lead = await served.store("Luis", "lead")
    return (await lead.create_incident("Refund delays", actor="Luis")).id


async def test_an_operator_seated_as_cm_or_care_cannot_join_as_gm_or_client_nor_vote(serve: ServeFactory) -> None:
    served = await serve()
    inc = await an_incident(served)
    luis = served.raw(await served.token("Luis", "lead"))
    ana = served.raw(await served.token("Ana", "operator", ["cm", "care"]))
    for role in ("gm", "client"):
        answer = await ana.post(f"/incidents/{inc}/presence", json={"role": role})
        assert answer.status_code == 403, role
        assert answer.json() == {"error": "forbidden",
                                 "detail": f"Ana's token may sit only as cm, care, not as {role}: "
                                           f"it cannot join the room as {role}"}
    presence = (await luis.get(f"/incidents/{inc}/presence")).json()
    assert presence == [], "a refused join leaves no seat behind"
    assert (await ana.post(f"/incidents/{inc}/presence", json={"role": "care"})).status_code == 200
    await luis.post(f"/incidents/{inc}/presence", json={"role": "gm"})
    proposed = await luis.post(f"/incidents/{inc}/decisions", json={"title": "Pause the campaign",
                                                                       "rationale": "the client's campaign",
                                                                       "owner_decides": True})
    assert proposed.status_code == 201
    vote = await ana.post(f"/incidents/{inc}/decisions/1/votes", json={"approve": True})
    assert vote.status_code == 403 and "decision power" in vote.json()["detail"]
    decision = (await luis.get(f"/incidents/{inc}/decisions")).json()[0]
    assert (decision["status"], decision["approvals"]) == ("proposed", [])


async def test_a_seat_taken_with_another_token_of_the_same_name_gives_no_vote(serve: ServeFactory) -> None:
    """Ana's lead token seats her as gm; it is revoked and her name given a new operator token
    (cm only), which then votes and approves. The seat in the room is not one of that token's: 403."""
    served = await serve()
    inc = await an_incident(served)
    ana_lead = served.raw(await served.token("Ana", "lead"))
    assert (await ana_lead.post(f"/incidents/{inc}/presence", json={"role": "gm"})).status_code == 200
    await ana_lead.post(f"/incidents/{inc}/decisions", json={"title": "Apologise publicly", "rationale": "it is ours"})
    made = await ana_lead.post(f"/incidents/{inc}/drafts",
                               json={"body": "Lamentamos los retrasos.", "kind": "statement"})
    draft = made.json()["id"]
    await ana_lead.post(f"/incidents/{inc}/drafts/{draft}/status", json={"status": "in_review"})
    await served.revoke("Ana")
    ana_op = served.raw(await served.token("Ana", "operator", ["cm"]))
    vote = await ana_op.post(f"/incidents/{inc}/decisions/1/votes", json={"approve": True})
    assert vote.status_code == 403
    assert vote.json()["detail"] == "Ana's token may sit only as cm, not as gm: it cannot vote as gm"
    approved = await ana_op.post(f"/incidents/{inc}/drafts/{draft}/status",
                                 json={"status": "approved", "override_reason": "checked by phone"})
    assert approved.status_code == 403 and "cannot approve as gm" in approved.json()["detail"]
    assert (await ana_op.get(f"/incidents/{inc}/decisions")).json()[0]["status"] == "proposed"
    assert (await ana_op.get(f"/incidents/{inc}/drafts/{draft}")).json()["status"] == "in_review"


async def test_a_lead_seated_as_gm_approves_a_public_statement(serve: ServeFactory) -> None:
    served = await serve()
    inc = await an_incident(served)
    await served.revoke("Luis")  # his first token opened the incident; this one sits as gm only
    sam = served.raw(await served.token("Sam", "operator"))
    luis = served.raw(await served.token("Luis", "lead", ["gm"]))
    assert (await sam.post(f"/incidents/{inc}/presence", json={"role": "cm"})).status_code == 200
    assert (await luis.post(f"/incidents/{inc}/presence", json={"role": "gm"})).status_code == 200
    body = ("Lamentamos los retrasos en los reembolsos. Hoy mismo escribimos a cada cliente afectado "
            "y publicaremos una actualización a las 18:00.")
    made = await sam.post(f"/incidents/{inc}/drafts", json={"body": body, "kind": "statement"})
    draft = made.json()["id"]
    assert (await sam.post(f"/incidents/{inc}/drafts/{draft}/status", json={"status": "in_review"})).status_code == 200
    by_sam = await sam.post(f"/incidents/{inc}/drafts/{draft}/status",
                            json={"status": "approved", "override_reason": "urgent"})
    assert by_sam.status_code == 403 and "decision power" in by_sam.json()["detail"]
    by_luis = await luis.post(f"/incidents/{inc}/drafts/{draft}/status",
                              json={"status": "approved", "override_reason": "read with legal"})
    assert by_luis.status_code == 200, by_luis.text
    assert (by_luis.json()["status"], by_luis.json()["approvals"]) == ("approved", ["Luis"])
    assert (await luis.post(f"/incidents/{inc}/presence", json={"role": "client"})).status_code == 403


async def test_whoami_lists_the_seats_and_the_http_store_exposes_them(serve: ServeFactory) -> None:
    served = await serve()
    seats = {}
    for name, role, given in [("Ana", "operator", ["cm", "care"]), ("Bea", "operator", None),
                              ("Luis", "lead", None), ("Gio", "lead", ["gm", "cm"]), ("Wall", "viewer", None)]:
        answer = await served.raw(await served.token(name, role, given)).get("/whoami")
        seats[name] = answer.json()["seat_roles"]
    assert seats == {"Ana": ["cm", "care"], "Bea": ["cm", "care", "legal"],
                     "Luis": ["gm", "marketing", "cm", "care", "client", "legal"], "Gio": ["gm", "cm"], "Wall": []}
    store = await served.store("Eve", "operator", ["legal"])
    assert store.seat_roles == ("legal",)


def test_tokens_from_before_seats_get_the_safe_default(tmp_path: Path, book: Playbook) -> None:
    """A file whose tokens predate seats: after the upgrade an operator has no vote, a lead sits anywhere."""
    path = tmp_path / "old.db"
    before_seats = next(i for i, script in enumerate(MIGRATIONS) if "seat_roles" in script)
    with sqlite3.connect(path) as db:
        for script in MIGRATIONS[:before_seats]:
            db.executescript(script)
        db.execute(f"PRAGMA user_version = {before_seats}")
        for name, role in (("Ana", "operator"), ("Luis", "lead")):
            db.execute("INSERT INTO tokens (name, role, digest, created_at) VALUES (?, ?, ?, 0)",
                       (name, role, digest(f"ctk_{name}-secret")))

    async def upgrade_and_look_up() -> list[Token | None]:
        await (await SqliteStore.open(path, playbook=book)).close()
        tokens = await TokenBook.open(path)
        try:
            return [await tokens.lookup("ctk_Ana-secret"), await tokens.lookup("ctk_Luis-secret")]
        finally:
            await tokens.close()

    ana, luis = asyncio.run(upgrade_and_look_up())
    assert ana is not None and luis is not None and ana.seat_roles is None and luis.seat_roles is None
    assert seats_in_force(book, ana.role, ana.seat_roles) == ("cm", "care", "legal")
    listed = CliRunner().invoke(main, ["token", "list", "--db", str(path)])
    lines = listed.output.splitlines()
    assert lines[0].split() == ["id", "role", "seats", "created", "revoked", "name"]
    assert "cm, care, legal (default)" in lines[1] and lines[1].endswith("Ana")
    assert "gm, marketing, cm, care, client, legal (default)" in lines[2]


def test_token_create_gives_power_seats_to_leads_only(tmp_path: Path) -> None:
    runner = CliRunner()
    db = str(tmp_path / "room.db")
    for role, seats, line in [
        ("operator", "cm,gm", "crisis-tui: --seat-roles: gm has decision power: only a lead token may sit as gm"),
        ("operator", "client", ("crisis-tui: --seat-roles: client speaks for the owner (owner = true): "
                               "only a lead token may sit as client")),
        ("viewer", "cm", ("crisis-tui: --seat-roles: a viewer token has no seat: it reads only "
                         "(give it no --seat-roles)")),
        ("operator", "cm,janitor", ("crisis-tui: --seat-roles: 'janitor' is not a role of the playbook "
                                   "(gm, marketing, cm, care, client, legal)")),
        ("operator", " , ", "crisis-tui: --seat-roles: name at least one role of the playbook, e.g. cm,care"),
    ]:
        refused = runner.invoke(main, ["token", "create", "--db", db, "--name", "Ana", "--role", role,
                                       "--seat-roles", seats])
        assert refused.exit_code == 2, (role, seats)
        assert refused.output.strip() == line
    assert not Path(db).exists(), "a refusal touches no file"
    made = runner.invoke(main, ["token", "create", "--db", db, "--name", "Ana", "--role", "operator",
                                "--seat-roles", "cm, care"])
    assert made.exit_code == 0, made.output
    assert made.output.splitlines()[0] == ("token 1 for Ana (operator, seats: cm, care); "
                                           "keep it secret, it is not shown again:")
    lead = runner.invoke(main, ["token", "create", "--db", db, "--name", "Luis", "--role", "lead",
                                "--seat-roles", "gm,client"])
    assert lead.exit_code == 0 and "(lead, seats: gm, client)" in lead.output
    viewer = runner.invoke(main, ["token", "create", "--db", db, "--name", "Wall", "--role", "viewer"])
    assert viewer.exit_code == 0 and "(viewer, seats: no seat)" in viewer.output
    listed = runner.invoke(main, ["token", "list", "--db", db]).output.splitlines()
    rows = [re.split(r"\s{2,}", row.strip())[:3] for row in listed]
    assert rows == [["id", "role", "seats"], ["1", "operator", "cm, care"], ["2", "lead", "gm, client"],
                    ["3", "viewer", "-"]]
