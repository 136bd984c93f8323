"""Several `crisis-tui serve` processes on one PostgreSQL database: one log, every client
sees every server's writes, and a server killed mid-webhook loses nothing acknowledged."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator

import httpx
import pytest

from crisis_tui.errors import ClaimConflict
from crisis_tui.model import Event
from crisis_tui.store.http import HttpStore
from crisis_tui.store.pg import PgStore
from crisis_tui.tokens import TokenBook
from tests.pg_db import create_database, drop_database
from tests.test_server_process import batch, free_port, start_server, stop

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    url = await create_database()
    try:
        yield url
    finally:
        await drop_database(url)


async def tokens_for(url: str, *names: str) -> dict[str, str]:
    await (await PgStore.open(url)).close()
    book = await TokenBook.open(url)
    try:
        return {name: (await book.create(name, "lead"))[1] for name in names}
    finally:
        await book.close()


async def servers(url: str, count: int) -> list[tuple[subprocess.Popen[bytes], str]]:
    out: list[tuple[subprocess.Popen[bytes], str]] = []
    for _ in range(count):
        port = free_port()
        proc = await asyncio.to_thread(start_server, url, port)  # type: ignore[arg-type]
        out.append((proc, f"http://127.0.0.1:{port}"))
    return out


async def test_three_servers_claim_1000_comments_once_each_and_share_one_chain(pg_url: str) -> None:
    tokens = await tokens_for(pg_url, "Luis", "op0", "op1", "op2")
    running = await servers(pg_url, 3)
    try:
        urls = [u for _, u in running]
        lead = await HttpStore.open(urls[0], token=tokens["Luis"])
        inc = (await lead.create_incident("Refund delays", actor="Luis")).id
        hook = httpx.AsyncClient(base_url=urls[0], headers={"Authorization": f"Bearer {tokens['Luis']}"}, timeout=30)
        for start in range(0, 1000, 100):
            answer = await hook.post(f"/incidents/{inc}/comments", json=batch(start, 100))
            assert answer.status_code == 200, answer.text
        await hook.aclose()
        watcher = await HttpStore.open(urls[2], token=tokens["Luis"])
        claims_seen: list[Event] = []

        async def watch() -> None:
            async for event in watcher.subscribe(inc, 0):
                if event.kind == "comment.claimed":
                    claims_seen.append(event)

        watching = asyncio.create_task(watch())
        operators = [await HttpStore.open(urls[n], token=tokens[f"op{n}"]) for n in range(3)]
        wins: dict[int, list[str]] = {}

        async def operator(n: int) -> None:
            order = range(1, 1001) if n % 2 == 0 else range(1000, 0, -1)
            for comment_id in order:
                try:
                    await operators[n].claim(inc, comment_id, actor=f"op{n}")
                except ClaimConflict:
                    continue
                wins.setdefault(comment_id, []).append(f"op{n}")

        await asyncio.gather(*(operator(n) for n in range(3)))
        assert sorted(wins) == list(range(1, 1001))
        assert all(len(holders) == 1 for holders in wins.values()), "a comment was claimed twice"
        assert {h[0] for h in wins.values()} == {"op0", "op1", "op2"}, "every server took part"
        deadline = time.monotonic() + 30
        while len(claims_seen) < 1000 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert len(claims_seen) == 1000, "the watcher on the third server saw every server's claims"
        watching.cancel()
        await asyncio.gather(watching, return_exceptions=True)
        store = await PgStore.open(pg_url)
        try:
            report = await store.audit(inc)
        finally:
            await store.close()
        assert report.intact, report
        log = await lead.events_after(inc, 0, 100_000)
        assert report.events == len(log)
        assert sum(e.kind == "comment.claimed" for e in log) == 1000
        for client in (lead, watcher, *operators):
            await client.close()
    finally:
        for proc, _ in running:
            stop(proc)


async def test_kill_9_of_one_server_mid_webhook_loses_nothing_and_its_clients_resume_on_another(pg_url: str) -> None:
    tokens = await tokens_for(pg_url, "Luis")
    running = await servers(pg_url, 2)
    (victim, dying), (_, surviving) = running
    acknowledged: set[str] = set()
    try:
        lead = await HttpStore.open(surviving, token=tokens["Luis"])
        inc = (await lead.create_incident("Refund delays", actor="Luis")).id
        watcher = await HttpStore.open(dying, token=tokens["Luis"])
        seen: list[Event] = []

        async def listen(store: HttpStore, after: int) -> None:
            async for event in store.subscribe(inc, after):
                seen.append(event)

        listener = asyncio.create_task(listen(watcher, 0))
        auth = {"Authorization": f"Bearer {tokens['Luis']}"}
        hooks = {u: httpx.AsyncClient(base_url=u, headers=auth, timeout=10) for u in (dying, surviving)}
        target = dying
        refused = 0

        async def pump() -> None:
            nonlocal target, refused
            n = 0
            while True:
                comments = batch(n, 100)
                try:
                    answer = await hooks[target].post(f"/incidents/{inc}/comments", json=comments)
                except httpx.TransportError:
                    refused += 1
                    target = surviving  # what a reverse proxy does with a dead upstream
                    continue
                assert answer.status_code == 200, answer.text
                acknowledged.update(str(c["id"]) for c in comments)
                n += 100

        pumping = asyncio.create_task(pump())
        while len(acknowledged) < 2000:
            await asyncio.sleep(0.005)
        victim.send_signal(signal.SIGKILL)
        victim.wait(10)
        at_kill = len(acknowledged)
        while len(acknowledged) < at_kill + 1000:
            await asyncio.sleep(0.01)
        pumping.cancel()
        await asyncio.gather(pumping, return_exceptions=True)
        assert refused >= 1, "some webhook posts hit the dead server"
        listener.cancel()
        await asyncio.gather(listener, return_exceptions=True)
        await watcher.close()
        # the dead server's client resumes on the other one from the last event it saw
        resumed = await HttpStore.open(surviving, token=tokens["Luis"])
        listener = asyncio.create_task(listen(resumed, seen[-1].seq if seen else 0))
        stored = {c.external_id for c in await lead.comments(inc)}
        assert acknowledged <= stored, f"lost {len(acknowledged - stored)} acknowledged comments"
        log = await lead.events_after(inc, 0, 100_000)
        deadline = time.monotonic() + 30
        while len(seen) < len(log) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        listener.cancel()
        await asyncio.gather(listener, return_exceptions=True)
        assert [e.seq for e in seen] == [e.seq for e in log], "every event once, in order, across the two servers"
        for hook in hooks.values():
            await hook.aclose()
        await resumed.close()
        await lead.close()
    finally:
        for proc, _ in running:
            stop(proc)


async def test_verify_over_a_server_on_postgresql_audits_the_database(pg_url: str) -> None:
    tokens = await tokens_for(pg_url, "Luis")
    [(proc, url)] = await servers(pg_url, 1)
    try:
        lead = await HttpStore.open(url, token=tokens["Luis"])
        inc = (await lead.create_incident("Refund delays", actor="Luis")).id
        await lead.close()
        checked = await asyncio.to_thread(
            subprocess.run, [sys.executable, "-m", "crisis_tui", "verify", f"{url}/incidents/{inc}"],
            capture_output=True, text=True, timeout=120, env={**os.environ, "CRISIS_TUI_TOKEN": tokens["Luis"]})
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert "chain intact, every table matches a replay of the log" in checked.stdout
    finally:
        stop(proc)
