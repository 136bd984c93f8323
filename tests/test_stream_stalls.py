"""Slow and greedy stream readers: bounded in bytes, capped per token, dropped when stalled.

The memory test runs a real `crisis-tui serve` process and reads its RSS from
/proc; the readers are raw loopback sockets with a tiny receive buffer that
never read a byte.
"""

from __future__ import annotations

import asyncio
import socket
import time
from pathlib import Path

import httpx
import pytest

from crisis_tui.store.sqlite import SqliteStore
from crisis_tui.tokens import TokenBook
from tests.test_server_process import free_port, start_server, stop
from tests.test_server_support import ServeFactory, serve  # noqa: F401 - the fixture

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

READERS = 20
#: Bytes of events posted while the readers stall: 24 MiB, which unbounded
#: per-stream queues (1,024 events each) would have held about 20 times over.
COMMENT_TEXT = 24 * 1024
BATCHES = 20
PER_BATCH = 50
#: How much the server may grow: 20 buffers of 1 MiB, their sockets' send buffers and slack.
RSS_BOUND = 64 * 1024 * 1024


def rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS in /proc status")


def stalled_reader(port: int, path: str, token: str) -> socket.socket:
    """An event-stream request on a socket that will never be read."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
                 "Accept: text/event-stream\r\n\r\n".encode())
    return sock


def answered(sock: socket.socket, timeout: float = 30.0) -> socket.socket:
    """Wait until the server has answered the reader's request, without taking the answer: the
    server counts the stream against its token before it answers, so from here it holds a slot
    (a sleep instead of this lost the race to a busy server now and then)."""
    status = b"HTTP/1.1 200"
    sock.settimeout(timeout)
    try:
        head = sock.recv(len(status), socket.MSG_PEEK | socket.MSG_WAITALL)
    finally:
        sock.settimeout(None)
    assert head == status, head
    return sock


def comments(batch: int) -> list[dict[str, object]]:
    return [{"source": "x", "id": f"b{batch}-{i}", "author": f"@u{i}", "text": f"{batch}/{i} " + "z" * COMMENT_TEXT}
            for i in range(PER_BATCH)]


async def _tokens(db: Path) -> tuple[str, list[str], str]:
    """The lead's token, one per stalled reader, and the greedy one that tries a fourth stream."""
    await (await SqliteStore.open(db)).close()
    book = await TokenBook.open(db)
    try:
        lead = (await book.create("Luis", "lead"))[1]
        viewers = [(await book.create(f"viewer{i}", "viewer"))[1] for i in range(READERS)]
        greedy = (await book.create("greedy", "viewer"))[1]
    finally:
        await book.close()
    return lead, viewers, greedy


async def test_twenty_stalled_readers_leave_the_server_flat_and_writes_fast(tmp_path: Path) -> None:
    db = tmp_path / "served.db"
    lead, viewers, greedy_token = await _tokens(db)
    port = free_port()
    proc = start_server(db, port, "--no-triage", "--max-streams", "3")
    readers: list[socket.socket] = []
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30,
                                     headers={"Authorization": f"Bearer {lead}"}) as client:
            inc = (await client.post("/incidents", json={"title": "Refund delays"})).json()["id"]
            path = f"/incidents/{inc}/events?after=0"
            readers = [answered(stalled_reader(port, path, token)) for token in viewers]
            await client.post(f"/incidents/{inc}/comments", json=comments(-1))  # warm up the server's pools
            await asyncio.sleep(0.5)
            before = rss(proc.pid)
            slowest = 0.0
            for batch in range(BATCHES):
                started = time.monotonic()
                answer = await client.post(f"/incidents/{inc}/comments", json=comments(batch))
                slowest = max(slowest, time.monotonic() - started)
                assert answer.status_code == 200 and answer.json()["ingested"] == PER_BATCH
            await asyncio.sleep(1.0)  # let every stream's pump run up against its buffer
            grown = rss(proc.pid) - before
            print(f"RSS {before / 2**20:.0f} MiB, grew {grown / 2**20:.1f} MiB; slowest write {slowest:.2f} s")
            started = time.monotonic()
            note = await client.post(f"/incidents/{inc}/notes", json={"text": "still fast"})
            note_took = time.monotonic() - started
            assert note.status_code == 201

            # The cap: one token holds 3 open streams; the 4th is 429 naming the cap. Streams of a
            # token of their own, opened now: a reader stalled since the start of the test is
            # dropped after the server's 30 s stall, which a slow run of the batches reached.
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10,
                                         headers={"Authorization": f"Bearer {greedy_token}",
                                                  "Accept": "text/event-stream"}) as greedy:
                readers.extend(answered(stalled_reader(port, path, greedy_token)) for _ in range(3))
                refused = await greedy.get(f"/incidents/{inc}/events")
                assert refused.status_code == 429, refused.text
                assert "--max-streams 3" in refused.json()["detail"] and refused.headers["Retry-After"]
    finally:
        for r in readers:
            r.close()
        stop(proc)
    assert grown < RSS_BOUND, f"the server grew by {grown / 2**20:.0f} MiB under {READERS} stalled readers"
    assert slowest < 3.0, f"a write took {slowest:.1f} s with stalled readers"
    assert note_took < 1.0


async def test_a_reader_that_stalls_is_dropped_and_resumes_with_no_gap(serve: ServeFactory) -> None:
    served = await serve(triage=False, stream_stall=1.0, stream_buffer=64 * 1024, max_streams=1)
    lead = served.raw(await served.token("Luis", "lead"))
    inc = (await lead.post("/incidents", json={"title": "Refund delays"})).json()["id"]
    wall, token = await served.tokens.create("Wall", "viewer")
    reader = stalled_reader(served.server.port, f"/incidents/{inc}/events?after=0", token)
    try:
        for batch in range(10):
            assert (await lead.post(f"/incidents/{inc}/comments", json=comments(batch))).status_code == 200
        state = served.server.app.state.crisis
        deadline = time.monotonic() + 10
        while state.streams.held(wall.id) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        assert state.streams.held(wall.id) == 0, "the stalled stream still holds its slot"
        # What the dropped reader got is a clean prefix of the log: it resumes after its last id.
        reader.setblocking(False)
        got = b""
        for _ in range(200):
            try:
                part = reader.recv(1 << 20)
            except BlockingIOError:
                break
            if not part:
                break
            got += part
        last = max((int(line[4:]) for line in got.decode(errors="replace").splitlines() if line.startswith("id: ")),
                   default=0)
    finally:
        reader.close()
    all_seqs = [e["seq"] for e in (await lead.get(f"/incidents/{inc}/events?after=0&limit=5000")).json()]
    viewer = served.raw(token)
    rest = (await viewer.get(f"/incidents/{inc}/events", params={"after": last, "limit": 5000})).json()
    assert [e["seq"] for e in rest] == [s for s in all_seqs if s > last]
    async with viewer.stream("GET", f"/incidents/{inc}/events", headers={"Accept": "text/event-stream",
                                                                           "Last-Event-ID": str(last)}) as live:
        assert live.status_code == 200  # the slot was given back


async def test_a_reader_catching_up_through_a_small_buffer_gets_every_event_once(serve: ServeFactory) -> None:
    served = await serve(triage=False, stream_buffer=64 * 1024)
    lead = served.raw(await served.token("Luis", "lead"))
    inc = (await lead.post("/incidents", json={"title": "Refund delays"})).json()["id"]
    for batch in range(6):
        assert (await lead.post(f"/incidents/{inc}/comments", json=comments(batch))).status_code == 200
    wanted = [e["seq"] for e in (await lead.get(f"/incidents/{inc}/events?after=0&limit=5000")).json()]
    store = await served.store("Wall", "viewer")
    seen: list[int] = []

    async def follow() -> None:
        async for event in store.subscribe(inc, 0):
            seen.append(event.seq)
            if event.seq == wanted[-1]:
                return

    await asyncio.wait_for(follow(), 60)
    assert seen == wanted


async def test_a_reader_that_hangs_up_on_a_quiet_stream_frees_it_at_once(serve: ServeFactory) -> None:
    """Not at the next ping: until it ends, its subscription wakes on every commit of the file."""
    served = await serve(triage=False, ping_interval=60.0)
    lead = served.raw(await served.token("Luis", "lead"))
    inc = (await lead.post("/incidents", json={"title": "Refund delays"})).json()["id"]
    wall, token = await served.tokens.create("Wall", "viewer")
    state = served.server.app.state.crisis
    async with httpx.AsyncClient(base_url=served.url, headers={"Authorization": f"Bearer {token}"}) as viewer:
        async with viewer.stream("GET", f"/incidents/{inc}/events", headers={"Accept": "text/event-stream"}) as live:
            assert live.status_code == 200
            await anext(live.aiter_bytes())  # the stream is open and has nothing to say
            assert state.streams.held(wall.id) == 1
    deadline = time.monotonic() + 5
    while state.streams.held(wall.id) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert state.streams.held(wall.id) == 0, "the stream outlived its reader"
