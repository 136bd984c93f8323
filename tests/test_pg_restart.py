"""A PostgreSQL restart under a running store and a running server: an outage, not an end.

These tests stop and start a database server, so they run on a PRIVATE cluster made here
(initdb into a temporary folder, pg_ctl on a free port, as the `postgres` OS user when
run as root), never on the machine's shared one.
"""

from __future__ import annotations

import asyncio
import glob
import inspect
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from crisis_tui.errors import StoreUnavailable
from crisis_tui.model import Event
from crisis_tui.store.http import HttpStore
from crisis_tui.store.pg import PgStore
from crisis_tui.tokens import TokenBook
from tests.test_server_process import free_port, start_server, stop

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]


class Cluster:
    """A PostgreSQL cluster of our own, in a temporary folder, on a free loopback port."""

    def __init__(self) -> None:
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
        if not found and shutil.which("pg_ctl") is None:
            pytest.fail("no PostgreSQL binaries (pg_ctl) on this machine: .ci/run installs them")
        self.bin = Path(found[-1]).parent if found else Path(shutil.which("pg_ctl") or "").parent
        self.dir = Path(tempfile.mkdtemp(prefix="crisis-pg-"))
        self.port = free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self._as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self._as:
            shutil.chown(self.dir, "postgres")

    def _run(self, *args: str) -> None:
        done = subprocess.run([*self._as, *args], capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed: {done.stdout}{done.stderr}")

    def init(self) -> None:
        self._run(str(self.bin / "initdb"), "-D", str(self.dir / "data"), "-U", "postgres", "-A", "trust",
                  "--no-sync", "-E", "UTF8")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=40"
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.dir / "data"), "-o", options,
                  "-l", str(self.dir / "log"), "-w", "start")

    def stop(self) -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.dir / "data"), "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        subprocess.run([*self._as, str(self.bin / "pg_ctl"), "-D", str(self.dir / "data"), "-m", "immediate",
                        "-w", "stop"], capture_output=True, timeout=60)
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    made = Cluster()
    try:
        made.init()
        made.start()
        yield made
    finally:
        made.remove()


async def until(check: Callable[[], bool | Awaitable[bool]], what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = check()
        if await result if inspect.isawaitable(result) else result:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"not within {seconds:.0f} s: {what}")


async def listening(url: str) -> bool:
    """Whether some connection to the database LISTENs (the store's listener came back)."""
    conn = await asyncpg.connect(url)
    try:
        return bool(await conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE query ILIKE 'LISTEN%' AND application_name = ''"))
    finally:
        await conn.close()


async def test_a_store_waits_out_a_database_restart_and_its_subscription_resumes_with_no_gap(
        cluster: Cluster) -> None:
    writer, reader = await PgStore.open(cluster.url), await PgStore.open(cluster.url)
    states: list[str] = []
    reader.on_connection_state = states.append
    try:
        inc = (await writer.create_incident("Outage", actor="Luis")).id
        seen: list[Event] = []

        async def follow() -> None:
            async for event in reader.subscribe(inc, 0):
                seen.append(event)

        following = asyncio.create_task(follow())
        await writer.add_note(inc, "before", actor="Luis")
        await until(lambda: len(seen) == 2, "the note before the restart streamed")
        await until(lambda: listening(cluster.url), "the listener listens")

        await asyncio.to_thread(cluster.stop)
        with pytest.raises(StoreUnavailable, match="does not answer"):
            await writer.add_note(inc, "while away", actor="Luis")
        with pytest.raises(StoreUnavailable):
            await reader.counts(inc)
        assert reader.connection_state == "reconnecting"
        await asyncio.to_thread(cluster.start)

        for n in range(3):
            await writer.add_note(inc, f"after {n}", actor="Luis")
        await until(lambda: len(seen) == 5, "the notes after the restart streamed")
        assert [e.seq for e in seen] == list(range(seen[0].seq, seen[0].seq + 5))
        assert [e.payload.get("text") for e in seen[1:]] == ["before", "after 0", "after 1", "after 2"]
        await until(lambda: reader.connection_state == "live", "the store says live again")
        assert states == ["reconnecting", "live"]
        await until(lambda: listening(cluster.url), "the listener listens again after the restart")
        assert (await reader.audit(inc)).intact
        following.cancel()
        with pytest.raises(asyncio.CancelledError):
            await following
    finally:
        await writer.close()
        await reader.close()


@pytest.fixture
async def served(cluster: Cluster) -> AsyncIterator[tuple[str, str]]:
    """A `crisis-tui serve` on the private cluster, and a lead's token for it."""
    await (await PgStore.open(cluster.url)).close()
    book = await TokenBook.open(cluster.url)
    try:
        secret = (await book.create("Luis", "lead"))[1]
    finally:
        await book.close()
    port = free_port()
    proc = await asyncio.to_thread(start_server, cluster.url, port)  # type: ignore[arg-type]
    try:
        yield f"http://127.0.0.1:{port}", secret
    finally:
        stop(proc)


async def test_serve_says_503_while_the_database_is_down_and_its_clients_resume_with_no_gap(
        cluster: Cluster, served: tuple[str, str]) -> None:
    base, secret = served
    client = await HttpStore.open(base, token=secret)
    states: list[str] = []
    client.on_connection_state = states.append
    try:
        inc = (await client.create_incident("Outage", actor="Luis")).id
        seen: list[Event] = []

        async def follow() -> None:
            async for event in client.subscribe(inc, 0):
                seen.append(event)

        following = asyncio.create_task(follow())
        await client.add_note(inc, "before", actor="Luis")
        await until(lambda: len(seen) == 2, "the note before the restart streamed")
        async with httpx.AsyncClient(base_url=base, timeout=10) as raw:
            assert (await raw.get("/health")).status_code == 200

            await asyncio.to_thread(cluster.stop)
            down = await raw.get("/health")
            assert down.status_code == 503, down.text
            assert down.json()["error"] == "database_unavailable"
            with pytest.raises(StoreUnavailable):
                await client.add_note(inc, "while away", actor="Luis")
            await until(lambda: client.connection_state == "reconnecting", "the client says reconnecting")

            await asyncio.to_thread(cluster.start)
            assert (await raw.get("/health")).status_code == 200
        for n in range(3):
            await client.add_note(inc, f"after {n}", actor="Luis")
        await until(lambda: len(seen) == 5, "the notes after the restart streamed")
        assert [e.seq for e in seen] == list(range(seen[0].seq, seen[0].seq + 5))
        assert [e.payload.get("text") for e in seen[1:]] == ["before", "after 0", "after 1", "after 2"]
        await until(lambda: client.connection_state == "live", "the client says live again")
        assert states[0] == "reconnecting" and states[-1] == "live"
        following.cancel()
        with pytest.raises(asyncio.CancelledError):
            await following
    finally:
        await client.close()
