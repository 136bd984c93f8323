"""`crisis-tui serve` as its own process: kill -9 mid-ingest, restart, TLS."""

from __future__ import annotations

import asyncio
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from crisis_tui.errors import StoreUnavailable
from crisis_tui.model import Event
from crisis_tui.store.http import HttpStore
from crisis_tui.store.sqlite import SqliteStore
from crisis_tui.tokens import TokenBook

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(db: Path, port: int, *extra: str, verify: ssl.SSLContext | bool = True) -> subprocess.Popen[bytes]:
    """`crisis-tui serve` in its own process; returns once it answers /health."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "crisis_tui", "serve", "--db", str(db), "--port", str(port), "--log-level", "warning",
         *extra],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    scheme = "https" if "--ssl-certfile" in extra else "http"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"serve exited: {proc.stdout.read().decode() if proc.stdout else ''}")
        try:
            if httpx.get(f"{scheme}://127.0.0.1:{port}/health", verify=verify, timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("serve did not come up within 30 s")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


async def lead_token(db: Path) -> str:
    await (await SqliteStore.open(db)).close()
    book = await TokenBook.open(db)
    try:
        return (await book.create("Luis", "lead"))[1]
    finally:
        await book.close()


def batch(start: int, size: int) -> list[dict[str, object]]:
    return [{"source": "x", "id": f"c{n}", "author": f"@user{n}", "text": f"refund {n}"} for n in range(start, start + size)]


async def test_kill_9_mid_ingest_loses_no_acknowledged_comment_and_the_stream_resumes(tmp_path: Path) -> None:
    db = tmp_path / "room.db"
    token = await lead_token(db)
    port = free_port()
    proc = start_server(db, port)
    url = f"http://127.0.0.1:{port}"
    acknowledged: set[str] = set()
    try:
        lead = await HttpStore.open(url, token=token)
        watcher = await HttpStore.open(url, token=token)
        inc = (await lead.create_incident("Refund delays", actor="Luis")).id
        seen: list[Event] = []

        async def listen() -> None:
            async for event in watcher.subscribe(inc, 0):
                seen.append(event)

        listener = asyncio.create_task(listen())
        hook = httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=10)
        refused = 0

        async def ingest_until(stop_at: int, start: int) -> int:
            nonlocal refused
            n = start
            while len(acknowledged) < stop_at:
                comments = batch(n, 50)
                try:
                    answer = await hook.post(f"/incidents/{inc}/comments", json=comments)
                except httpx.TransportError:
                    refused += 1
                    await asyncio.sleep(0.05)
                    continue
                assert answer.status_code == 200, answer.text
                acknowledged.update(str(c["id"]) for c in comments)
                n += 50
            return n

        pump = asyncio.create_task(ingest_until(10**9, 0))
        while len(acknowledged) < 1500:
            await asyncio.sleep(0.005)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        at_kill = len(acknowledged)
        await asyncio.sleep(0.3)
        with pytest.raises(StoreUnavailable):
            await lead.add_note(inc, "while the server is dead", actor="Luis")
        assert watcher.connection_state == "reconnecting"
        proc = start_server(db, port)
        while len(acknowledged) < at_kill + 1000:
            await asyncio.sleep(0.01)
        pump.cancel()
        await asyncio.gather(pump, return_exceptions=True)
        assert refused >= 1, "some requests hit the dead server"

        stored = {c.external_id for c in await lead.comments(inc)}
        assert acknowledged <= stored, f"lost {len(acknowledged - stored)} acknowledged comments"
        log = await lead.events_after(inc, 0, 100_000)
        deadline = time.monotonic() + 20
        while len(seen) < len(log) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        listener.cancel()
        await asyncio.gather(listener, return_exceptions=True)
        assert [e.seq for e in seen] == [e.seq for e in log], "the subscriber saw every event once, in order"
        assert watcher.connection_state == "live"
        await hook.aclose()
        await lead.close()
        await watcher.close()
    finally:
        stop(proc)


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command (.ci/run installs it)")
async def test_tls_options_reach_uvicorn_and_a_client_trusting_the_cert_connects(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )
    db = tmp_path / "room.db"
    token = await lead_token(db)
    port = free_port()
    proc = start_server(db, port, "--ssl-certfile", str(cert), "--ssl-keyfile", str(key),
                        verify=ssl.create_default_context(cafile=str(cert)))
    try:
        with pytest.raises(StoreUnavailable):
            await HttpStore.open(f"https://127.0.0.1:{port}", token=token)
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))
        store = await HttpStore.open(f"https://127.0.0.1:{port}", token=token)
        made = await store.create_incident("Over TLS", actor="Luis")
        assert (await store.get_incident(made.id)).title == "Over TLS"
        await store.close()
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
    finally:
        stop(proc)


def test_serve_refuses_a_busy_port_and_half_a_tls_pair_in_one_line(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        out = subprocess.run(
            [sys.executable, "-m", "crisis_tui", "serve", "--db", str(tmp_path / "r.db"), "--port", str(port)],
            capture_output=True, text=True, timeout=60,
        )
    assert out.returncode == 2
    assert out.stderr.strip().splitlines()[-1] == f"crisis-tui: cannot listen on 127.0.0.1:{port}: Address already in use"
    (tmp_path / "c.pem").write_text("x")
    half = subprocess.run(
        [sys.executable, "-m", "crisis_tui", "serve", "--db", str(tmp_path / "r.db"), "--ssl-certfile",
         str(tmp_path / "c.pem")],
        capture_output=True, text=True, timeout=60,
    )
    assert half.returncode == 2 and "needs both --ssl-certfile and --ssl-keyfile" in half.stderr
    assert "Traceback" not in out.stderr + half.stderr


def test_serve_refuses_no_triage_with_a_triage_worker_on(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, "-m", "crisis_tui", "serve", "--db", str(tmp_path / "r.db"),
                          "--port", str(free_port()), "--no-triage", "--triage-worker", "on"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "--triage-worker on scores comments, which --no-triage turns off" in out.stderr
    assert "serving" not in out.stdout and "Traceback" not in out.stderr
