"""`crisis-tui serve` stories: a real uvicorn on loopback, real httpx clients."""

from __future__ import annotations

import asyncio
import contextlib
import random
import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from crisis_tui.cli import main
from crisis_tui.comment_shape import parse_comment
from crisis_tui.errors import (
    ClaimConflict,
    Forbidden,
    InvalidInput,
    NotFound,
    RateLimited,
    StoreUnavailable,
    Unauthorized,
)
from crisis_tui.model import Event, NewComment
from crisis_tui.store.http import HttpStore
from tests.silent_network import SilentNetwork
from tests.test_server_support import ServeFactory, serve  # noqa: F401 - the fixture

pytestmark = pytest.mark.timeout(120)


def native(n: int, **extra: object) -> dict[str, object]:
    raw: dict[str, object] = {"source": "x", "id": f"c{n}", "author": f"@user{n}", "text": f"Where is my refund? ({n})"}
    raw.update(extra)
    return raw


async def an_incident(served: object) -> tuple[HttpStore, str]:
    lead = await served.store("Luis", "lead")  # type: ignore[attr-defined]
    return lead, (await lead.create_incident("Refund delays", actor="Luis")).id


async def test_no_token_a_bad_token_and_a_revoked_token_get_401(serve: ServeFactory) -> None:
    served = await serve()
    for client in (served.raw(None), served.raw("ctk_not-a-real-token")):
        answer = await client.get("/incidents")
        assert answer.status_code == 401
        assert answer.json()["error"] == "unauthorized"
    basic = await served.raw(None).get("/incidents", headers={"Authorization": "Basic abc"})
    assert basic.status_code == 401 and "Bearer" in basic.json()["detail"]
    secret = await served.token("Ana", "operator")
    await served.tokens.revoke(name="Ana")
    revoked = await served.raw(secret).get("/incidents")
    assert (revoked.status_code, revoked.json()["detail"]) == (401, "unknown or revoked token")
    with pytest.raises(Unauthorized, match="revoked"):
        await HttpStore.open(served.url, token=secret)
    with pytest.raises(Unauthorized, match="needs a token"):
        await HttpStore.open(served.url, token=None)


async def test_a_viewer_reads_the_room_but_every_write_is_403(serve: ServeFactory) -> None:
    served = await serve()
    lead, inc = await an_incident(served)
    wall = await served.store("Wallboard", "viewer")
    assert wall.read_only
    assert (await wall.get_incident(inc)).title == "Refund delays"
    with pytest.raises(Forbidden, match="viewer token"):
        await wall.add_note(inc, "hi", actor="Wallboard")
    raw = served.raw(await served.token("Wall2", "viewer"))
    for method, path, body in [
        ("POST", f"/incidents/{inc}/notes", {"text": "hi"}),
        ("POST", f"/incidents/{inc}/comments", native(1)),
        ("POST", f"/incidents/{inc}/presence", {"role": "cm"}),
        ("PATCH", f"/incidents/{inc}", {"severity": "sev1"}),
    ]:
        answer = await raw.request(method, path, json=body)
        assert answer.status_code == 403, path
        assert answer.json() == {"error": "forbidden", "detail": answer.json()["detail"]}
        assert "viewer token" in answer.json()["detail"]
    assert [e.kind for e in await lead.events_after(inc)] == ["incident.created"]


async def test_an_operator_works_the_room_but_only_a_lead_opens_or_changes_incidents(serve: ServeFactory) -> None:
    served = await serve()
    _, inc = await an_incident(served)
    ana = await served.store("Ana", "operator")
    with pytest.raises(Forbidden, match="lead token"):
        await ana.create_incident("Mine", actor="Ana")
    with pytest.raises(Forbidden, match="lead token"):
        await ana.update_incident(inc, actor="Ana", severity="sev1")
    note = await ana.add_note(inc, "spike on X", actor="Ana")
    assert note.author == "Ana"


async def test_the_actor_is_always_the_tokens_name(serve: ServeFactory) -> None:
    served = await serve()
    _, inc = await an_incident(served)
    ana = await served.store("Ana", "operator")
    result = await served.raw(await served.token("hook", "operator")).post(f"/incidents/{inc}/comments", json=native(1))
    (cid,) = result.json()["ids"]
    claimed = await ana.claim(inc, cid, actor="Luis")
    note = await ana.add_note(inc, "posing as Luis", actor="Luis")
    await ana.heartbeat(inc, actor="Luis", role="cm")
    assert claimed.holder == "Ana" and note.author == "Ana"
    assert [p.name for p in await ana.presence(inc)] == ["Ana"]
    actors = {e.kind: e.actor for e in await ana.events_after(inc)}
    assert actors == {"incident.created": "Luis", "comment.ingested": "hook", "comment.claimed": "Ana",
                      "note.added": "Ana", "operator.joined": "Ana"}


async def test_an_oversized_body_is_413_and_nothing_is_stored(serve: ServeFactory) -> None:
    served = await serve(max_body=64 * 1024)
    lead, inc = await an_incident(served)
    hook = served.raw(await served.token("hook", "operator"))
    batch = [native(i, text="x" * 1000) for i in range(100)]
    answer = await hook.post(f"/incidents/{inc}/comments", json=batch)
    assert answer.status_code == 413
    assert answer.json()["error"] == "too_large" and "65,536" in answer.json()["detail"]
    async def chunks() -> AsyncIterator[bytes]:
        for part in (b"[", b" " * 70_000, b"]"):
            yield part

    chunked = await hook.post(f"/incidents/{inc}/comments", content=chunks())
    assert chunked.status_code == 413
    assert (await lead.counts(inc)).total == 0
    ingested = await lead.ingest(inc, [_parsed(i, "y" * 1000) for i in range(100)])
    assert ingested.ingested == 100, "HttpStore splits a big ingest under the server's limit"


def _parsed(n: int, text: str) -> NewComment:
    from crisis_tui.comment_shape import parse_comment

    return parse_comment(native(n, text=text))


async def test_bad_fields_are_422_naming_the_field_and_a_bad_batch_is_refused_whole(serve: ServeFactory) -> None:
    served = await serve()
    lead, inc = await an_incident(served)
    hook = served.raw(await served.token("hook", "operator"))
    path = f"/incidents/{inc}/comments"
    cases = [
        (b"{not json", "body"),
        (b"42", "body"),
        (b"[]", "comments"),
        (b'{"source": "x", "id": "1", "author": "@a"}', "text"),
        (b'{"source": "x", "id": "1", "author": "@a", "text": "hi", "shares": -3}', "shares"),
    ]
    for body, field in cases:
        answer = await hook.post(path, content=body, headers={"Content-Type": "application/json"})
        assert answer.status_code == 422, body
        assert answer.json()["error"] == "invalid" and answer.json()["field"] == field, answer.json()
    batch = [native(0), native(1), native(2, posted_at="yesterday"), native(3)]
    answer = await hook.post(path, json=batch)
    assert answer.status_code == 422
    assert answer.json()["field"] == "comments[2].posted_at"
    assert "not an ISO 8601 time" in answer.json()["detail"]
    assert (await lead.counts(inc)).total == 0, "nothing of a bad batch is half-applied"
    note = await hook.post(f"/incidents/{inc}/notes", json={"text": 3})
    assert (note.status_code, note.json()["field"]) == (422, "text")
    extra = await hook.post(f"/incidents/{inc}/notes", json={"text": "hi", "actor": "Luis"})
    assert (extra.status_code, extra.json()["field"], extra.json()["problem"]) == (422, "actor", "is not a known field")
    query = await hook.get(f"/incidents/{inc}/events", params={"after": "soon"})
    assert (query.status_code, query.json()["field"]) == (422, "after")
    with pytest.raises(InvalidInput, match="role"):
        await lead.heartbeat(inc, actor="Luis", role="janitor")


async def test_past_the_rate_limit_a_token_gets_429_with_retry_after(serve: ServeFactory) -> None:
    served = await serve(rate=1, burst=5)  # one request back a second: a loaded machine cannot refill it mid-test
    ana = served.raw(await served.token("Ana", "operator"))
    codes = [(await ana.get("/incidents")).status_code for _ in range(5)]
    refused = await ana.get("/incidents")
    assert codes == [200] * 5
    assert refused.status_code == 429 and refused.json()["error"] == "rate_limited"
    assert int(refused.headers["Retry-After"]) >= 1 and refused.json()["retry_after"] > 0
    other = served.raw(await served.token("Luis", "lead"))
    assert (await other.get("/incidents")).status_code == 200, "the limit is per token"
    store = await served.store("Eve", "operator")
    with pytest.raises(RateLimited, match="requests/s"):
        for _ in range(10):
            await store.list_incidents()
    await asyncio.sleep(1.1)
    assert (await ana.get("/incidents")).status_code == 200, "the bucket refills"


async def test_an_unknown_incident_is_404(serve: ServeFactory) -> None:
    served = await serve()
    lead, _ = await an_incident(served)
    with pytest.raises(NotFound, match="no incident 'nope'"):
        await lead.get_incident("nope")
    with pytest.raises(NotFound):
        await lead.add_note("nope", "x", actor="Luis")
    with pytest.raises(NotFound):
        async for _ in lead.subscribe("nope"):
            pass
    answer = await served.raw(await served.token("a", "viewer")).get("/incidents/nope/events")
    assert answer.status_code == 404 and answer.json()["error"] == "not_found"


async def test_the_webhook_takes_one_comment_or_a_batch_and_is_idempotent(serve: ServeFactory) -> None:
    served = await serve()
    lead, inc = await an_incident(served)
    hook = served.raw(await served.token("hook", "operator"))
    path = f"/incidents/{inc}/comments"
    one = (await hook.post(path, json=native(1))).json()
    batch = (await hook.post(path, json=[native(1), native(2), native(3)])).json()
    again = (await hook.post(path, json=[native(2), native(3)])).json()
    assert (one["ingested"], batch["ingested"], batch["duplicates"]) == (1, 2, 1)
    assert (again["ingested"], again["duplicates"]) == (0, 2)
    stored = await lead.comments(inc)
    assert [c.external_id for c in stored] == ["c1", "c2", "c3"]
    assert stored[0].text == "Where is my refund? (1)"


async def test_events_as_json_and_as_a_live_sse_stream_honouring_last_event_id(serve: ServeFactory) -> None:
    served = await serve()
    lead, inc = await an_incident(served)
    for i in range(3):
        await lead.add_note(inc, f"note {i}", actor="Luis")
    log = await lead.events_after(inc)
    raw = served.raw(await served.token("wall", "viewer"))
    page = (await raw.get(f"/incidents/{inc}/events", params={"after": log[0].seq})).json()
    assert [e["seq"] for e in page] == [e.seq for e in log[1:]]
    got: list[tuple[int, Event]] = []
    headers = {"Accept": "text/event-stream", "Last-Event-ID": str(log[1].seq)}
    async with raw.stream("GET", f"/incidents/{inc}/events", headers=headers) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        ident = 0
        async for line in stream.aiter_lines():
            if line.startswith("id: "):
                ident = int(line[4:])
            elif line.startswith("data: "):
                import msgspec

                got.append((ident, msgspec.json.decode(line[6:], type=Event)))
                if len(got) == 2:
                    await lead.add_note(inc, "live one", actor="Luis")
                if len(got) == 3:
                    break
    assert [i for i, _ in got] == [e.seq for _, e in got]
    assert [e.seq for _, e in got[:2]] == [log[2].seq, log[3].seq]
    assert got[2][1].payload["text"] == "live one"


async def test_a_stopping_server_ends_its_live_streams_cleanly_so_clients_reconnect_at_once(serve: ServeFactory) -> None:
    """uvicorn alone would wait out its graceful timeout on an SSE stream and then cut it mid-flight."""
    served = await serve()
    lead, inc = await an_incident(served)
    raw = served.raw(await served.token("wall", "viewer"))
    lines: list[str] = []
    async with raw.stream("GET", f"/incidents/{inc}/events", headers={"Accept": "text/event-stream"}) as stream:
        stopping: asyncio.Future[None] | None = None
        async for line in stream.aiter_lines():  # a cut stream would raise RemoteProtocolError here
            lines.append(line)
            if line.startswith("data: ") and stopping is None:
                stopping = asyncio.ensure_future(asyncio.to_thread(served.server.stop))
        assert stopping is not None
        await stopping
    assert any(line.startswith("data: ") for line in lines)


@pytest.mark.slow
async def test_two_clients_claim_the_same_1000_comments_each_claimed_once(serve: ServeFactory) -> None:
    served = await serve(rate=0)
    lead, inc = await an_incident(served)
    await lead.ingest(inc, [_parsed(i, f"refund {i}") for i in range(1000)])
    ids = [c.id for c in await lead.comments(inc)]
    assert len(ids) == 1000
    ana, bea = await served.store("Ana", "operator"), await served.store("Bea", "operator")

    async def claim_all(store: HttpStore, order: list[int]) -> list[int]:
        won: list[int] = []
        queue = list(order)

        async def worker() -> None:
            while queue:
                cid = queue.pop()
                try:
                    won.append((await store.claim(inc, cid, actor="")).id)
                except ClaimConflict:
                    pass

        await asyncio.gather(*(worker() for _ in range(8)))
        return won

    shuffled = random.Random(4).sample(ids, len(ids))
    a_won, b_won = await asyncio.gather(claim_all(ana, ids), claim_all(bea, shuffled))
    assert not set(a_won) & set(b_won)
    assert sorted(a_won + b_won) == sorted(ids)
    holders = {c.id: c.holder for c in await lead.comments(inc)}
    assert {cid for cid, h in holders.items() if h == "Ana"} == set(a_won)
    assert {cid for cid, h in holders.items() if h == "Bea"} == set(b_won)
    claims = [e for e in await lead.events_after(inc, 0, 10_000) if e.kind == "comment.claimed"]
    assert len(claims) == 1000


async def test_a_subscriber_rides_out_a_restart_and_offline_writes_are_refused(serve: ServeFactory) -> None:
    served = await serve()
    lead, inc = await an_incident(served)
    watcher = await served.store("wall", "viewer")
    states: list[str] = []
    watcher.on_connection_state = states.append
    seen: list[Event] = []
    enough = asyncio.Event()

    async def listen() -> None:
        async for event in watcher.subscribe(inc, 0):
            seen.append(event)
            if len(seen) == 7:
                enough.set()
                return

    task = asyncio.create_task(listen())
    for i in range(3):
        await lead.add_note(inc, f"before {i}", actor="Luis")
    while len(seen) < 4:
        await asyncio.sleep(0.01)
    await asyncio.to_thread(served.server.stop)
    with pytest.raises(StoreUnavailable, match="cannot reach"):
        await lead.add_note(inc, "while down", actor="Luis")
    for _ in range(200):
        if watcher.connection_state == "reconnecting":
            break
        await asyncio.sleep(0.01)
    assert watcher.connection_state == "reconnecting"
    await asyncio.to_thread(served.server.start)
    for i in range(3):
        await lead.add_note(inc, f"after {i}", actor="Luis")
    await asyncio.wait_for(enough.wait(), 20)
    await task
    log = await lead.events_after(inc)
    assert [e.seq for e in seen] == [e.seq for e in log]
    assert [e.hash for e in seen] == [e.hash for e in log]
    assert "while down" not in [e.payload.get("text") for e in log]
    assert states[:2] == ["reconnecting", "live"] and watcher.connection_state == "live"


def test_token_commands_create_list_and_revoke(tmp_path: Path) -> None:
    runner = CliRunner()
    db = str(tmp_path / "room.db")
    made = runner.invoke(main, ["token", "create", "--db", db, "--name", "Ana", "--role", "operator"])
    assert made.exit_code == 0, made.output
    secret = made.output.strip().splitlines()[-1]
    assert secret.startswith("ctk_") and len(secret) > 40
    assert secret.encode() not in open(db, "rb").read(), "only the digest is stored"
    listed = runner.invoke(main, ["token", "list", "--db", db])
    assert "operator" in listed.output and "Ana" in listed.output and secret not in listed.output
    bad = runner.invoke(main, ["token", "create", "--db", db, "--name", "x", "--role", "admin"])
    assert bad.exit_code != 0 and "admin" in bad.output
    gone = runner.invoke(main, ["token", "revoke", "--db", db, "--name", "Ana"])
    assert gone.exit_code == 0 and "revoked token 1 of Ana" in gone.output
    twice = runner.invoke(main, ["token", "revoke", "--db", db, "--id", "1"])
    assert twice.exit_code == 2 and "already revoked" in twice.output
    assert "no tokens (active)" in runner.invoke(main, ["token", "list", "--db", db]).output


async def test_whoami_tells_the_client_who_it_is(serve: ServeFactory) -> None:
    served = await serve(max_batch=50)
    ana = await served.store("Ana", "operator")
    assert (ana.identity.name, ana.identity.role, ana.identity.max_batch) == ("Ana", "operator", 50)
    assert not ana.read_only
    lead, inc = await an_incident(served)
    hook = served.raw(await served.token("hook", "operator"))
    over = await hook.post(f"/incidents/{inc}/comments", json=[native(i) for i in range(51)])
    assert (over.status_code, over.json()["field"]) == (422, "comments")
    assert "at most 50" in over.json()["detail"]
    split = await lead.ingest(inc, [_parsed(i, f"refund {i}") for i in range(120)])
    assert (split.ingested, len(split.ids)) == (120, 120), "HttpStore sends batches the server accepts"
    forced = await served.store("Bea", "operator", read_only=True)
    with pytest.raises(Forbidden, match="read-only"):
        await forced.add_note("any", "x", actor="Bea")
    async with httpx.AsyncClient(base_url=served.url) as anonymous:
        assert (await anonymous.get("/health")).json() == {"ok": True}


async def test_webhook_comments_are_triaged_unless_the_server_is_told_not_to(serve: ServeFactory) -> None:
    angry = native(1, text="Llevo tres semanas esperando el reembolso, es una vergüenza, nadie contesta")
    for served, triaged in ((await serve(), True), (await serve(triage=False), False)):
        lead, inc = await an_incident(served)
        hook = served.raw(await served.token("hook", "operator"))
        assert (await hook.post(f"/incidents/{inc}/comments", json=angry)).status_code == 200
        (stored,) = await lead.comments(inc)
        assert (stored.lang == "es", stored.negativity > 0.5, stored.priority > 0) == (triaged,) * 3


async def test_a_spike_through_the_webhook_goes_on_the_timeline(serve: ServeFactory) -> None:
    import time

    served = await serve()
    lead, inc = await an_incident(served)
    hook = served.raw(await served.token("hook", "operator"))
    now = time.time()
    quiet = [native(i, posted_at=now - 60 * (2 + i % 14)) for i in range(28)]
    burst = [native(100 + i, posted_at=now - 5) for i in range(90)]
    assert (await hook.post(f"/incidents/{inc}/comments", json=quiet)).status_code == 200
    kinds = [e.kind for e in await lead.events_after(inc, 0, 1000)]
    assert "alert.spike" not in kinds
    assert (await hook.post(f"/incidents/{inc}/comments", json=burst)).status_code == 200
    alerts = [e for e in await lead.events_after(inc, 0, 1000) if e.kind == "alert.spike"]
    assert len(alerts) == 1 and alerts[0].payload["per_minute"] >= 90


async def test_concurrent_webhook_batches_share_a_commit_and_each_gets_its_own_answer(tmp_path: object, book: object) -> None:
    from crisis_tui.comment_shape import parse_comment
    from crisis_tui.server.group_commit import GroupCommit
    from crisis_tui.store.sqlite import SqliteStore

    db = f"{tmp_path}/group.db"
    writer = await SqliteStore.open(db, playbook=book)  # type: ignore[arg-type]
    reader = await SqliteStore.open(db, read_only=True, playbook=book)  # type: ignore[arg-type]
    try:
        inc = (await writer.create_incident("Refund delays", actor="Luis")).id
        await writer.ingest(inc, [parse_comment(native(n)) for n in (3, 7)])
        group = GroupCommit(writer, reader)
        batches = [[parse_comment(native(n)) for n in ns] for ns in ([1, 2, 3], [2, 4], [5, 5, 6], [7], [8, 1, 9])]
        for clean in (True, False):
            todo = batches if not clean else [[parse_comment(native(n)) for n in ns] for ns in ([10, 11], [12], [11, 13])]
            before = await writer.events_after(inc, 0, 10_000)
            answers = await asyncio.gather(*(group.ingest(inc, b, actor="hook") for b in todo))
            after = await writer.events_after(inc, 0, 10_000)
            commits = {e.ts for e in after[len(before):]}
            assert len(commits) == 1, "one transaction for the whole group"
            for batch, answer in zip(todo, answers, strict=True):
                assert answer.ingested + answer.duplicates == len(batch)
                for cid in answer.ids:
                    assert (await writer.get_comment(inc, cid)).external_id in {c.external_id for c in batch}
            ids = [i for a in answers for i in a.ids]
            assert len(ids) == len(set(ids)) == len(after) - len(before)
        assert [(a.ingested, a.duplicates) for a in answers] == [(2, 1), (1, 1), (2, 1), (0, 1), (2, 1)]
        assert sorted(c.external_id for c in await writer.comments(inc)) == sorted(f"c{n}" for n in range(1, 14))
    finally:
        await reader.close()
        await writer.close()


async def test_a_group_of_all_new_comments_gives_each_request_its_own_ids_in_order(tmp_path: object,
                                                                                  book: object) -> None:
    from crisis_tui.comment_shape import parse_comment
    from crisis_tui.server.group_commit import GroupCommit
    from crisis_tui.store.sqlite import SqliteStore

    db = f"{tmp_path}/group.db"
    writer = await SqliteStore.open(db, playbook=book)  # type: ignore[arg-type]
    reader = await SqliteStore.open(db, read_only=True, playbook=book)  # type: ignore[arg-type]
    try:
        inc = (await writer.create_incident("Refund delays", actor="Luis")).id
        group = GroupCommit(writer, reader)
        batches = [[parse_comment(native(n)) for n in ns] for ns in ([1, 2], [3], [4, 5, 6])]
        answers = await asyncio.gather(*(group.ingest(inc, b, actor="hook") for b in batches))
        for batch, answer in zip(batches, answers, strict=True):
            assert (answer.ingested, answer.duplicates) == (len(batch), 0)
            assert [(await writer.get_comment(inc, cid)).external_id for cid in answer.ids] == \
                [c.external_id for c in batch]
        assert len({e.ts for e in await writer.events_after(inc, 1, 100)}) == 1, "one transaction for the group"
    finally:
        await reader.close()
        await writer.close()


async def test_an_incident_id_with_url_characters_is_sent_quoted(serve: ServeFactory) -> None:
    served = await serve()
    lead, _ = await an_incident(served)
    for odd in ("x?y=1", "#frag", "sp ace", "ü"):
        with pytest.raises(NotFound, match=re.escape(f"no incident {odd!r}")):
            await lead.get_incident(odd)
    for odd in ("a/b", "../incidents"):
        with pytest.raises(NotFound, match="no route"):
            await lead.get_incident(odd)


async def test_a_revoked_token_stops_working_within_two_seconds(serve: ServeFactory) -> None:
    from crisis_tui.server.auth import CACHE_SECONDS

    served = await serve()
    secret = await served.token("Ana", "operator")
    ana = served.raw(secret)
    assert (await ana.get("/incidents")).status_code == 200
    await served.tokens.revoke(name="Ana")
    await asyncio.sleep(CACHE_SECONDS + 0.2)
    assert (await ana.get("/incidents")).status_code == 401


@pytest.mark.slow
async def test_a_network_gone_silent_shows_reconnecting_then_resumes_with_no_gap_and_no_duplicate(
        serve: ServeFactory) -> None:
    """No reset, no close: only silence. Three missed pings are a dead connection."""
    served = await serve(ping_interval=0.5)
    lead, inc = await an_incident(served)  # the lead talks to the server directly
    network = SilentNetwork(served.server.port)
    await network.start()
    watcher = await HttpStore.open(network.url, token=await served.token("wall", "viewer"))
    states: list[str] = []
    watcher.on_connection_state = states.append
    seen: list[int] = []

    async def listen() -> None:
        async for event in watcher.subscribe(inc, 0):
            seen.append(event.seq)

    async def until(check: Callable[[], bool], timeout: float) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        while not check():
            assert asyncio.get_running_loop().time() < deadline, f"not within {timeout} s: {states=} {seen=}"
            await asyncio.sleep(0.02)

    task = asyncio.create_task(listen())
    try:
        await lead.add_note(inc, "before the silence", actor="Luis")
        await until(lambda: len(seen) == 2, 10)
        network.freeze()
        for i in range(3):
            await lead.add_note(inc, f"said during the silence {i}", actor="Luis")
        await until(lambda: states[-1:] == ["reconnecting"], 20)
        network.thaw()
        await lead.add_note(inc, "after the silence", actor="Luis")
        every = [e.seq for e in await lead.events_after(inc)]
        await until(lambda: len(seen) >= len(every) and states[-1:] == ["live"], 20)
        assert seen == every  # in order, none missing, none twice
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await watcher.close()
        await network.close()


async def test_long_reads_come_in_pages_the_server_allows_and_miss_nothing(serve: ServeFactory) -> None:
    served = await serve(page_max=3)
    lead, inc = await an_incident(served)
    await lead.ingest(inc, [parse_comment(native(n)) for n in range(8)])
    assert [c.id for c in await lead.comments(inc)] == list(range(1, 9))
    assert [c.id for c in await lead.comments(inc, after_id=1, limit=5)] == [2, 3, 4, 5, 6]
    log = await lead.events_after(inc, 0, 100)
    assert len(log) == 9 and [e.seq for e in log] == sorted({e.seq for e in log})  # created + 8 arrivals
    assert await lead.events_after(inc, log[0].seq, 4) == log[1:5]


async def test_a_server_restart_does_not_rewrite_presence_history(serve: ServeFactory) -> None:
    """Heartbeats nobody could send while the server was down are no absence: just after a
    restart nobody is timed out; once the server has been up for the whole timeout, the rule
    holds again for whoever really stopped beating."""
    served = await serve()
    lead, inc = await an_incident(served)
    ana = await served.store("Ana", "operator")
    await ana.heartbeat(inc, actor="Ana", role="cm")
    await lead.heartbeat(inc, actor="Luis", role="gm")
    gone_after = 1.5
    await asyncio.to_thread(served.server.stop)
    await asyncio.sleep(gone_after + 0.5)  # down for longer than the timeout
    await asyncio.to_thread(served.server.start)
    assert await lead.expire_presence(inc, gone_after) == []
    await lead.heartbeat(inc, actor="Luis", role="gm")  # Luis is back; Ana's room never returns
    left = [e for e in await lead.events_after(inc, 0) if e.kind == "operator.left"]
    assert left == []
    await asyncio.sleep(gone_after + 0.2)
    await lead.heartbeat(inc, actor="Luis", role="gm")
    assert await lead.expire_presence(inc, gone_after) == ["Ana"]
