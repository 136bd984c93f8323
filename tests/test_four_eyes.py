"""Four eyes (`[approval] four_eyes = true`): nobody approves what they wrote or proposed.
Stories through both transports, and a raw HTTP client that skips the room."""

from __future__ import annotations

import sqlite3
import tomllib
from pathlib import Path

import msgspec
import pytest

from crisis_tui import approval
from crisis_tui import playbook as playbook_mod
from crisis_tui.errors import Forbidden, PlaybookError
from crisis_tui.playbook import Playbook
from crisis_tui.store.protocol import IncidentStore
from crisis_tui.store.sqlite import SqliteStore
from tests.test_server_support import ServeFactory, serve  # noqa: F401 - the fixture

STATEMENT = "We are sorry: every delayed refund will be paid within 48 hours."


@pytest.fixture
def book() -> Playbook:
    shipped = playbook_mod.load(playbook_mod.shipped_path())
    return msgspec.structs.replace(shipped, approval=playbook_mod.ApprovalRules(four_eyes=True))


async def seated(store: IncidentStore, incident: str) -> None:
    for name, role in (("Ana", "cm"), ("Luis", "gm"), ("Sam", "marketing")):
        await store.heartbeat(incident, actor=name, role=role)


async def test_nobody_approves_a_statement_they_saved_a_version_of(store: IncidentStore, incident: str) -> None:
    await seated(store, incident)
    draft = await store.save_draft(incident, STATEMENT, actor="Ana", kind="statement")
    draft = await store.save_draft(incident, STATEMENT + " Thank you.", actor="Luis", draft_id=draft.id, base_version=1)
    assert draft.editors == ["Ana", "Luis"]
    await approval.submit(store, incident, draft.id, actor="Ana")
    with pytest.raises(Forbidden, match=r"four eyes: Luis saved a version of this public statement \(draft 1\)"):
        await approval.approve(store, None, incident, draft.id, actor="Luis", version=2)
    approved = await approval.approve(store, None, incident, draft.id, actor="Sam", version=2)
    assert (approved.status, approved.approvals) == ("approved", ["Sam"])


async def test_nobody_votes_to_approve_their_own_decision_but_may_withdraw_it_by_rejecting(
    store: IncidentStore, incident: str
) -> None:
    await seated(store, incident)
    mine = await store.propose_decision(incident, "Holding statement now", actor="Sam", rationale="buy time")
    with pytest.raises(Forbidden, match="four eyes: Sam proposed decision 1"):
        await store.vote_decision(incident, mine.id, True, actor="Sam")
    assert (await store.vote_decision(incident, mine.id, True, actor="Luis")).status == "approved"
    second = await store.propose_decision(incident, "Delete the post", actor="Sam", rationale="it spreads")
    assert (await store.vote_decision(incident, second.id, False, actor="Sam")).status == "rejected"


async def test_a_raw_client_meets_the_same_four_eyes(serve: ServeFactory) -> None:
    served = await serve()
    luis = served.raw(await served.token("Luis", "lead"))
    sam = served.raw(await served.token("Sam", "lead"))
    incident = (await luis.post("/incidents", json={"title": "Refund delays"})).json()["id"]
    await luis.post(f"/incidents/{incident}/presence", json={"role": "gm"})
    await sam.post(f"/incidents/{incident}/presence", json={"role": "marketing"})
    draft = (await luis.post(f"/incidents/{incident}/drafts", json={"body": STATEMENT, "kind": "statement"})).json()
    status = f"/incidents/{incident}/drafts/{draft['id']}/status"
    await luis.post(status, json={"status": "in_review"})
    own = await luis.post(status, json={"status": "approved", "version": 1})
    assert own.status_code == 403 and own.json()["detail"].startswith("four eyes: Luis saved a version")
    assert (await sam.post(status, json={"status": "approved", "version": 1})).status_code == 200

    decision = (await sam.post(f"/incidents/{incident}/decisions",
                               json={"title": "Holding statement", "rationale": "buy time"})).json()
    votes = f"/incidents/{incident}/decisions/{decision['id']}/votes"
    refused = await sam.post(votes, json={"approve": True})
    assert refused.status_code == 403 and "four eyes: Sam proposed decision" in refused.json()["detail"]
    assert (await luis.post(votes, json={"approve": True})).json()["status"] == "approved"


def test_four_eyes_is_off_by_default_and_a_wrong_type_is_a_one_line_playbook_error(tmp_path: Path) -> None:
    shipped = playbook_mod.shipped_path()
    assert playbook_mod.load(shipped).approval.four_eyes is False
    data = tomllib.loads(shipped.read_text(encoding="utf-8"))
    data["approval"] = {"four_eyes": "yes"}
    with pytest.raises(PlaybookError) as error:
        playbook_mod.parse(data, "team.toml")
    assert str(error.value) == "team.toml: approval.four_eyes: Expected `bool`, got `str`"


async def test_a_file_from_before_four_eyes_learns_who_saved_each_draft_from_its_log(
    tmp_path: Path, book: Playbook
) -> None:
    path = tmp_path / "incident.db"
    store = await SqliteStore.open(path, playbook=book)
    try:
        incident = (await store.create_incident("Refund delays", actor="Luis")).id
        await seated(store, incident)
        draft = await store.save_draft(incident, STATEMENT, actor="Sam", kind="statement")
        await store.save_draft(incident, STATEMENT + " Thanks.", actor="Ana", draft_id=draft.id, base_version=1)
    finally:
        await store.close()
    with sqlite3.connect(path) as db:  # as schema 5 left it: no editors, no approved version
        db.execute("ALTER TABLE drafts DROP COLUMN editors")
        db.execute("ALTER TABLE drafts DROP COLUMN approved_version")
        db.execute("ALTER TABLE tokens DROP COLUMN preset")  # schema 8's
        db.execute("ALTER TABLE incidents DROP COLUMN drill")  # schema 9's
        db.executescript("DROP TABLE comment_counts; DROP INDEX comments_waiting; DROP INDEX drafts_by_comment; "
                         "CREATE INDEX drafts_by_comment ON drafts (incident_id, comment_id);")  # schema 10's
        db.executescript("DROP TABLE arrival_minutes; ALTER TABLE comments DROP COLUMN since;")  # schema 11's, 12's
        db.executescript("DROP INDEX events_by_kind; DROP TABLE notices;")  # schema 13's
        db.execute("PRAGMA user_version = 5")
    store = await SqliteStore.open(path, playbook=book)
    try:
        assert (await store.get_draft(incident, draft.id)).editors == ["Ana", "Sam"]
        await approval.submit(store, incident, draft.id, actor="Ana")
        with pytest.raises(Forbidden, match="four eyes: Sam"):
            await store.set_draft_status(incident, draft.id, "approved", actor="Sam")
    finally:
        await store.close()


async def test_the_room_can_ask_before_approving_what_the_store_will_refuse(
    store: IncidentStore, incident: str, book: Playbook
) -> None:
    await seated(store, incident)
    draft = await store.save_draft(incident, STATEMENT, actor="Luis", kind="statement")
    with pytest.raises(Forbidden, match="four eyes: Luis"):
        await approval.check_approver(store, book, incident, draft, actor="Luis")
    with pytest.raises(Forbidden, match="decision power"):
        await approval.check_approver(store, book, incident, draft, actor="Ana")
    with pytest.raises(Forbidden, match="not in the room"):
        await approval.check_approver(store, book, incident, draft, actor="Carla")
    await approval.check_approver(store, book, incident, draft, actor="Sam")
