"""The store's stories, run against every transport (see conftest.STORE_FACTORIES)."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import cast

import pytest

from crisis_tui.comment_shape import parse_comment
from crisis_tui.errors import ClaimConflict, DraftConflict, Forbidden, InvalidInput, NotFound, StoreUnavailable
from crisis_tui.eventlog import encode_payload, verify_chain
from crisis_tui.model import Event, NewComment
from crisis_tui.playbook import Playbook
from crisis_tui.store.protocol import IncidentStore
from crisis_tui.store.schema import MIGRATIONS
from crisis_tui.store.sqlite import SqliteStore


def comment(n: int, **extra: object) -> NewComment:
    raw: dict[str, object] = {"source": "x", "id": f"c{n}", "author": f"@user{n}", "text": f"Where is my refund? ({n})"}
    raw.update(extra)
    return parse_comment(raw)


async def all_events(store: IncidentStore, incident: str) -> list:
    return await store.events_after(incident, 0, 100_000)


async def test_ingesting_the_same_comment_twice_keeps_one(store: IncidentStore, incident: str) -> None:
    first = await store.ingest(incident, [comment(1), comment(2)])
    again = await store.ingest(incident, [comment(2), comment(3), comment(3)])
    assert (first.ingested, first.duplicates) == (2, 0)
    assert (again.ingested, again.duplicates) == (1, 2)
    stored = await store.comments(incident)
    assert [c.external_id for c in stored] == ["c1", "c2", "c3"]
    assert [c.id for c in stored] == first.ids + again.ids
    kinds = [e.kind for e in await all_events(store, incident)]
    assert kinds.count("comment.ingested") == 3


async def test_two_operators_claim_the_same_comment(store: IncidentStore, incident: str) -> None:
    (cid,) = (await store.ingest(incident, [comment(1)])).ids
    won = await store.claim(incident, cid, actor="Ana")
    assert (won.status, won.holder) == ("claimed", "Ana")
    with pytest.raises(ClaimConflict) as lost:
        await store.claim(incident, cid, actor="Luis")
    assert lost.value.holder == "Ana"
    assert "held by Ana" in str(lost.value)
    again = await store.claim(incident, cid, actor="Ana")
    assert again.holder == "Ana"
    with pytest.raises(Forbidden):
        await store.release(incident, cid, actor="Luis")
    released = await store.release(incident, cid, actor="Ana")
    assert (released.status, released.holder) == ("new", None)
    assert (await store.claim(incident, cid, actor="Luis")).holder == "Luis"


async def test_concurrent_claims_in_one_process_have_one_winner(store: IncidentStore, incident: str) -> None:
    (cid,) = (await store.ingest(incident, [comment(1)])).ids
    results = await asyncio.gather(
        *(store.claim(incident, cid, actor=f"op{i}") for i in range(8)), return_exceptions=True
    )
    winners = [r for r in results if not isinstance(r, BaseException)]
    losers = [r for r in results if isinstance(r, ClaimConflict)]
    assert len(winners) == 1 and len(losers) == 7
    assert all(loser.holder == winners[0].holder for loser in losers)


async def test_marking_and_tagging_a_comment(store: IncidentStore, incident: str) -> None:
    a, b = (await store.ingest(incident, [comment(1), comment(2)])).ids
    await store.claim(incident, a, actor="Ana")
    with pytest.raises(Forbidden):
        await store.mark(incident, a, "ignored", actor="Luis")
    assert (await store.mark(incident, b, "removal_requested", actor="Luis", reason="bot farm")).status == "removal_requested"
    with pytest.raises(InvalidInput):
        await store.mark(incident, b, "deleted", actor="Luis")
    tagged = await store.tag(incident, a, ["Refund", "refund", " app "], actor="Ana")
    assert tagged.tags == ["app", "refund"]
    with pytest.raises(ClaimConflict):
        await store.claim(incident, b, actor="Ana")
    counts = await store.counts(incident)
    assert (counts.total, counts.claimed, counts.removal_requested, counts.unanswered) == (2, 1, 1, 1)


async def test_a_stale_draft_save_is_refused_and_kept(store: IncidentStore, incident: str) -> None:
    (cid,) = (await store.ingest(incident, [comment(1)])).ids
    await store.claim(incident, cid, actor="Ana")
    draft = await store.save_draft(incident, "Hola Marta", actor="Ana", comment_id=cid)
    assert draft.version == 1
    newer = await store.save_draft(incident, "Hola Marta, lo sentimos", actor="Ana", draft_id=draft.id, base_version=1)
    assert newer.version == 2
    with pytest.raises(DraftConflict) as conflict:
        await store.save_draft(incident, "my stale text", actor="Ana", draft_id=draft.id, base_version=1)
    assert conflict.value.current.version == 2
    assert conflict.value.current.body == "Hola Marta, lo sentimos"
    refused = [e for e in await all_events(store, incident) if e.kind == "draft.conflict"]
    assert refused and refused[-1].payload["body"] == "my stale text"
    assert (await store.get_draft(incident, draft.id)).body == "Hola Marta, lo sentimos"


async def test_nobody_drafts_on_a_comment_someone_else_holds(store: IncidentStore, incident: str) -> None:
    (cid,) = (await store.ingest(incident, [comment(1)])).ids
    await store.claim(incident, cid, actor="Ana")
    with pytest.raises(Forbidden, match="held by Ana"):
        await store.save_draft(incident, "hi", actor="Luis", comment_id=cid)


async def test_reply_flow_to_sent_answers_the_comment(store: IncidentStore, incident: str) -> None:
    (cid,) = (await store.ingest(incident, [comment(1)])).ids
    await store.heartbeat(incident, actor="Ana", role="cm")
    await store.heartbeat(incident, actor="Luis", role="gm")
    await store.claim(incident, cid, actor="Ana")
    draft = await store.save_draft(incident, "We're sorry, Marta.", actor="Ana", comment_id=cid)
    await store.tick(incident, draft.id, "real_user", True, actor="Ana")
    await store.set_draft_status(incident, draft.id, "in_review", actor="Ana")
    with pytest.raises(InvalidInput, match="written reason"):
        await store.set_draft_status(incident, draft.id, "approved", actor="Luis")
    approved = await store.set_draft_status(
        incident, draft.id, "approved", actor="Luis", override_reason="DM already sent"
    )
    assert approved.approvals == ["Luis"] and approved.override_reason == "DM already sent"
    assert approved.checklist == {"real_user": True}
    sent = await store.set_draft_status(incident, draft.id, "sent", actor="Ana")
    assert sent.status == "sent"
    assert (await store.get_comment(incident, cid)).status == "answered"
    with pytest.raises(InvalidInput):
        await store.set_draft_status(incident, draft.id, "draft", actor="Ana")


async def test_only_decision_power_approves_a_statement(store: IncidentStore, incident: str) -> None:
    await store.heartbeat(incident, actor="Ana", role="cm")
    await store.heartbeat(incident, actor="Luis", role="gm")
    draft = await store.save_draft(incident, "We are sorry: every delayed refund will be paid within 48 hours.",
                                   actor="Ana", kind="statement")
    await store.set_draft_status(incident, draft.id, "in_review", actor="Ana")
    with pytest.raises(Forbidden, match="decision power"):
        await store.set_draft_status(incident, draft.id, "approved", actor="Ana")
    assert (await store.set_draft_status(incident, draft.id, "approved", actor="Luis")).status == "approved"


async def test_a_decision_records_who_was_present(store: IncidentStore, incident: str) -> None:
    await store.heartbeat(incident, actor="Ana", role="cm", focus="replying to @marta")
    await store.heartbeat(incident, actor="Luis", role="gm")
    decision = await store.propose_decision(incident, "Holding statement", actor="Ana", rationale="buy time")
    with pytest.raises(Forbidden, match="decision power"):
        await store.vote_decision(incident, decision.id, True, actor="Ana")
    with pytest.raises(Forbidden, match="not in the room"):
        await store.vote_decision(incident, decision.id, True, actor="Stranger")
    approved = await store.vote_decision(incident, decision.id, True, actor="Luis")
    assert approved.status == "approved" and approved.decided_by == "Luis"
    assert approved.present == ["Ana", "Luis"]
    with pytest.raises(InvalidInput, match="already approved"):
        await store.vote_decision(incident, decision.id, False, actor="Luis")
    newer = await store.propose_decision(incident, "Full apology", actor="Luis", rationale="it is ours",
                                         supersedes=decision.id)
    statuses = {d.id: d.status for d in await store.decisions(incident)}
    assert statuses == {decision.id: "superseded", newer.id: "proposed"}


async def test_a_decision_that_is_not_ours_waits_for_the_owner(store: IncidentStore, incident: str) -> None:
    """The articles: consult the client before acting on decisions that are not ours."""
    await store.heartbeat(incident, actor="Luis", role="gm")
    await store.heartbeat(incident, actor="Carla", role="client")
    takedown = await store.propose_decision(incident, "Take the campaign post down", actor="Luis",
                                            rationale="the client owns the campaign", owner_decides=True)
    assert takedown.owner_decides and takedown.status == "proposed"
    with pytest.raises(Forbidden, match=r"not ours to take: only the owner \(client\) can approve it; Luis is gm"):
        await store.vote_decision(incident, takedown.id, True, actor="Luis")
    approved = await store.vote_decision(incident, takedown.id, True, actor="Carla")
    assert approved.status == "approved" and approved.decided_by == "Carla" and approved.present == ["Carla", "Luis"]
    ours = await store.propose_decision(incident, "Holding statement", actor="Luis", rationale="buy time")
    assert not ours.owner_decides
    assert (await store.vote_decision(incident, ours.id, True, actor="Luis")).status == "approved"
    proposed = [e for e in await all_events(store, incident) if e.kind == "decision.proposed"]
    assert [e.payload.get("owner_decides") for e in proposed] == [True, None]  # ordinary payloads unchanged
    assert {d.id: d.owner_decides for d in await store.decisions(incident)} == {takedown.id: True, ours.id: False}


async def test_presence_join_focus_leave_and_timeout(store: IncidentStore, incident: str) -> None:
    await store.heartbeat(incident, actor="Ana", role="cm")
    await store.heartbeat(incident, actor="Ana", role="cm", focus="replying to @marta")
    await store.heartbeat(incident, actor="Ana", role="cm", focus="replying to @marta")
    await store.heartbeat(incident, actor="Luis", role="gm")
    here = {p.name: p for p in await store.presence(incident)}
    assert here["Ana"].focus == "replying to @marta" and here["Ana"].left_at is None
    await store.leave(incident, actor="Luis")
    assert {p.name for p in await store.presence(incident) if p.left_at is None} == {"Ana"}
    await asyncio.sleep(0.05)
    assert await store.expire_presence(incident, gone_after=0.01) == ["Ana"]
    kinds = [e.kind for e in await all_events(store, incident)]
    assert kinds.count("operator.joined") == 2 and kinds.count("operator.focus") == 1
    assert kinds.count("operator.left") == 2
    with pytest.raises(InvalidInput, match="not a role"):
        await store.heartbeat(incident, actor="Eve", role="hacker")


async def test_every_change_is_an_event_in_a_verifiable_chain(store: IncidentStore, incident: str) -> None:
    (cid,) = (await store.ingest(incident, [comment(1)])).ids
    await store.claim(incident, cid, actor="Ana")
    await store.add_note(incident, "spike on X", actor="Ana")
    await store.update_incident(incident, actor="Luis", role="gm", severity="sev1", our_fault=True)
    events = await all_events(store, incident)
    assert [e.kind for e in events] == [
        "incident.created", "comment.ingested", "comment.claimed", "note.added", "incident.updated",
    ]
    assert [e.seq for e in events] == sorted(e.seq for e in events)
    rows = [(e.seq, e.incident_id, e.ts, e.actor, e.kind, encode_payload(e.payload), e.prev_hash, e.hash) for e in events]
    checked, broken = verify_chain(rows)
    assert (checked, broken) == (5, None)
    tampered = list(rows)
    seq, inc, ts, actor, kind, _payload, prev, digest = tampered[3]
    tampered[3] = (seq, inc, ts, actor, kind, encode_payload({"note_id": 1, "text": "nothing happened"}), prev, digest)
    checked, broken = verify_chain(tampered)
    assert checked == 3 and broken is not None and broken.seq == seq
    incident_now = await store.get_incident(incident)
    assert (incident_now.severity, incident_now.our_fault) == ("sev1", True)


async def test_subscribe_sees_new_events_live(store: IncidentStore, incident: str) -> None:
    seen: list[str] = []

    async def listen() -> None:
        async for event in store.subscribe(incident, 0):
            seen.append(event.kind)
            if event.kind == "note.added":
                return

    task = asyncio.create_task(listen())
    await asyncio.sleep(0.1)
    await store.ingest(incident, [comment(1)])
    await store.add_note(incident, "done", actor="Ana")
    await asyncio.wait_for(task, 5)
    assert seen == ["incident.created", "comment.ingested", "note.added"]


async def test_unknown_things_are_refused_precisely(store: IncidentStore, incident: str) -> None:
    with pytest.raises(NotFound):
        await store.claim(incident, 999, actor="Ana")
    with pytest.raises(NotFound):
        await store.get_incident("no-such-incident")
    with pytest.raises(InvalidInput, match="severity"):
        await store.create_incident("x", actor="Ana", severity="sev9")
    with pytest.raises(InvalidInput, match="note"):
        await store.add_note(incident, "   ", actor="Ana")


async def test_a_bulk_action_changes_many_comments_each_on_the_record(store: IncidentStore, incident: str) -> None:
    result = await store.ingest(incident, [comment(n) for n in range(1, 6)])
    one, two, three, four, five = result.ids
    await store.claim(incident, two, actor="Ana")
    tagged = await store.tag(incident, one, ["bot"], actor="Luis")
    assert tagged.tags == ["bot"]
    before = len(await all_events(store, incident))
    done = await store.bulk(incident, [one, two, three, one, 999], "tag", tags=["Refund "], actor="Luis")
    assert (done.done, done.unchanged) == ([one, three], [])
    assert [(s.comment_id, s.reason) for s in done.skipped] == [(two, f"comment {two} is held by Ana"),
                                                                (999, "no such comment")]
    assert (await store.get_comment(incident, one)).tags == ["bot", "refund"]  # added, not replaced
    again = await store.bulk(incident, [one, three], "tag", tags=["refund"], actor="Luis")
    assert (again.done, again.unchanged) == ([], [one, three])
    ignored = await store.bulk(incident, [three, four, five], "ignore", reason="spam wave", actor="Luis")
    assert ignored.done == [three, four, five]
    assert {(await store.get_comment(incident, c)).status for c in (three, four, five)} == {"ignored"}
    removal = await store.bulk(incident, [four], "request_removal", actor="Luis")
    assert (await store.get_comment(incident, four)).status == "removal_requested" and removal.done == [four]
    everything = await all_events(store, incident)
    assert [e.kind for e in everything[before:]] == ["comment.tagged"] * 2 + ["comment.status"] * 4
    rows = [(e.seq, e.incident_id, e.ts, e.actor, e.kind, encode_payload(e.payload), e.prev_hash, e.hash)
            for e in everything]
    assert verify_chain(rows) == (len(everything), None)
    released = await store.bulk(incident, [two], "release", actor="Ana")
    assert released.done == [two] and (await store.get_comment(incident, two)).holder is None
    for action, ids, tags, field in (("delete", [one], [], "action"), ("ignore", [], [], "comment_ids"),
                                     ("tag", [one], [], "tags"), ("ignore", [one], ["x"], "tags"),
                                     ("ignore", list(range(1, 1002)), [], "comment_ids")):
        with pytest.raises(InvalidInput) as refused:
            await store.bulk(incident, ids, action, tags=tags, actor="Luis")
        assert refused.value.field == field


async def test_a_second_open_incident_with_one_title_is_refused_unless_again(
        store: IncidentStore, incident: str) -> None:
    """The rule is the store's, so a raw HTTP client meets it as the command line does."""
    with pytest.raises(InvalidInput, match=f"title: {incident} is already open with this title"):
        await store.create_incident("  refund   DELAYS ", actor="Ana")
    assert [i.id for i in await store.list_incidents()] == [incident]
    second = await store.create_incident("Refund delays", actor="Ana", again=True)
    assert second.id != incident and len(await store.list_incidents()) == 2
    await store.create_incident("Refund delays, day two", actor="Ana")  # another title is fine


async def test_a_file_from_an_older_crisis_tui_is_upgraded_in_place(tmp_path: Path, book: Playbook) -> None:
    """A file written before decisions could be "not ours" (schema 3) opens, keeps its data, and takes them."""
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:
        for script in MIGRATIONS[:3]:
            db.executescript(script)
        db.execute("PRAGMA user_version = 3")
    old = await SqliteStore.open(path, playbook=book)
    try:
        inc = (await old.create_incident("Refund delays", actor="Luis")).id
        decided = await old.propose_decision(inc, "Take the post down", actor="Luis", rationale="tone-deaf",
                                             owner_decides=True)
        assert decided.owner_decides
    finally:
        await old.close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    with pytest.raises(StoreUnavailable, match="newer crisis-tui"):
        with sqlite3.connect(path) as db:
            db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
        await SqliteStore.open(path, playbook=book)


async def test_not_ours_needs_an_owner_in_the_playbook(tmp_path: Path, book: Playbook) -> None:
    for role in book.roles:
        role.owner = False
    store = await SqliteStore.open(tmp_path / "no-owner.db", playbook=book)
    try:
        inc = (await store.create_incident("Refund delays", actor="Luis")).id
        with pytest.raises(InvalidInput, match="no role with owner = true"):
            await store.propose_decision(inc, "Take the post down", actor="Luis", rationale="tone-deaf",
                                         owner_decides=True)
    finally:
        await store.close()


async def test_the_file_watcher_runs_only_while_someone_subscribes(tmp_path: Path, book: Playbook) -> None:
    """The WAL watcher woke the process on every write of its own for nobody once its last reader left
    (about 5 us of a webhook comment's server CPU); another connection's writes still wake a new reader."""
    file = tmp_path / "room.db"
    async with await SqliteStore.open(file, playbook=book) as store, \
            await SqliteStore.open(file, playbook=book) as other:
        inc = (await store.create_incident("Refund delays", actor="Luis")).id
        waker = store._waker
        first, second = (cast(AsyncGenerator[Event, None], store.subscribe(inc, 0)) for _ in range(2))
        head = await anext(first)
        await anext(second)
        assert waker.watching == 2 and waker._task is not None
        await first.aclose()
        assert waker.watching == 1 and waker._task is not None
        await second.aclose()
        assert waker.watching == 0 and waker._task is None
        third = cast(AsyncGenerator[Event, None], store.subscribe(inc, head.seq))
        coming = asyncio.ensure_future(anext(third))
        await asyncio.sleep(0.2)
        assert waker._task is not None
        await other.add_note(inc, "written by another connection", actor="Ana")
        woke = await asyncio.wait_for(coming, 5)
        assert woke.actor == "Ana"
        await third.aclose()
        assert waker._task is None
