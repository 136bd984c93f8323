"""bench/http.py: what sharing an incident over `crisis-tui serve` costs, on loopback.

The server runs as its own process (`python -m crisis_tui serve`, as an operator
would start it, with the per-token rate limit raised so the limiter does not cap
what is measured). Prints:
- propagation: one client's write (HttpStore.add_note) until another client's
  HttpStore.subscribe yields it, p50/p95 over --samples writes;
- webhook ingest: comments/s posted in the native shape in batches of 100 over 4
  connections, each answered after COMMIT; once with the webhook's triage (the
  default) and once with --no-triage (the transport and the store alone);
- burst: 20 clients on the raw SSE stream while the webhook posts 1,000
  comments/s for --burst-seconds; every client must get every event id exactly
  once (counted on the wire: no client-side de-duplication hides a duplicate).
  The server's resident memory is sampled each second; the growth is counted
  from WARMUP_SECONDS into the burst to its end. This server runs --no-triage,
  so the figure is the server's own (the triage keeps per-author state of its own).
  It includes SQLite's page cache filling with the new pages: SqliteStore asks
  for 64 MiB per connection and the server has two (writer and read-only).
`--json` prints exactly one JSON object with the figures. Every loop is bounded
in count and time and talks only to 127.0.0.1.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path and its name would
# hide the standard library's `http` package from httpx: put the repo there instead.
ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]

import argparse  # noqa: E402
import asyncio  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import httpx  # noqa: E402
import msgspec  # noqa: E402

from crisis_tui.store.http import HttpStore  # noqa: E402
from crisis_tui.store.sqlite import SqliteStore  # noqa: E402
from crisis_tui.tokens import TokenBook  # noqa: E402

#: Seconds into the burst after which the server's memory must stay flat (connections
#: open, SQLite page caches and allocator arenas warm).
WARMUP_SECONDS = 5
TEXT = ("Llevo tres semanas esperando el reembolso y nadie contesta en el chat. "
        "Since the app update my refund is stuck as processing. ")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def bodies(prefix: str, batches: int, size: int = 100) -> list[bytes]:
    out = []
    for b in range(batches):
        out.append(msgspec.json.encode([
            {"source": "x", "id": f"{prefix}{b}-{i}", "author": f"@user_{b}_{i}", "text": f"{TEXT} #{b}-{i}",
             "lang": "es", "likes": i % 70, "author_followers": (b * i) % 5000}
            for i in range(size)
        ]))
    return out


def start_server(db: Path, port: int, *extra: str) -> subprocess.Popen[bytes]:
    log = tempfile.TemporaryFile()  # not a pipe: a chatty server must never block on it
    proc = subprocess.Popen(
        [sys.executable, "-m", "crisis_tui", "serve", "--db", str(db), "--port", str(port),
         "--log-level", "warning", "--rate-limit", "5000", "--burst", "5000", *extra],
        stdout=subprocess.DEVNULL, stderr=log,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            log.seek(0)
            raise SystemExit(f"the server exited: {log.read().decode(errors='replace')}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("the server did not start")


async def propagation(url: str, writer_token: str, reader_token: str, incident: str, samples: int) -> list[float]:
    writer = await HttpStore.open(url, token=writer_token)
    reader = await HttpStore.open(url, token=reader_token)
    arrived: dict[str, float] = {}
    signal = asyncio.Event()
    start_seq = (await reader.latest_events(incident, 1))[-1].seq

    async def listen() -> None:
        async for event in reader.subscribe(incident, start_seq):
            if event.kind == "note.added":
                arrived[event.payload["text"]] = time.perf_counter()
                signal.set()

    task = asyncio.create_task(listen())
    await asyncio.sleep(0.3)
    latencies: list[float] = []
    for i in range(samples):
        text = f"propagation {i}"
        signal.clear()
        sent = time.perf_counter()
        await writer.add_note(incident, text, actor="bench")
        deadline = sent + 5
        while text not in arrived and time.perf_counter() < deadline:
            signal.clear()
            try:
                await asyncio.wait_for(signal.wait(), 5)
            except TimeoutError:
                break
        if text in arrived:
            latencies.append((arrived[text] - sent) * 1000)
        await asyncio.sleep(0.005)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await writer.close()
    await reader.close()
    return latencies


def _stat_cpu(stat: Path) -> float:
    fields = stat.read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    return _stat_cpu(Path(f"/proc/{pid}/stat"))


def main_thread_cpu_seconds(pid: int) -> float:
    """CPU of the server's event loop alone; the rest of its figure is its threads' (the SQLite
    connections' and the file watcher's), which tells the store's share from the HTTP path's."""
    return _stat_cpu(Path(f"/proc/{pid}/task/{pid}/stat"))


def children_cpu_seconds(pid: int) -> float:
    """CPU of the server's child processes (the triage worker), which its own figure leaves out."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


async def webhook(url: str, token: str, incident: str, batches: int, server_pid: int,
                  concurrency: int = 4) -> tuple[float, float, float, float]:
    """Comments/s, and the server's CPU microseconds per comment (what one idle core would allow),
    its child processes' (the triage worker's, on the other core) and its event loop's alone."""
    payloads = bodies("w", batches)
    queue = list(reversed(payloads))
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as client:
        await client.post(f"/incidents/{incident}/comments", content=bodies("warm", 1)[0])

        async def worker() -> None:
            while queue:
                answer = await client.post(f"/incidents/{incident}/comments", content=queue.pop())
                answer.raise_for_status()

        cpu, worker_cpu, loop_cpu = (cpu_seconds(server_pid), children_cpu_seconds(server_pid),
                                     main_thread_cpu_seconds(server_pid))
        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
        cpu, worker_cpu, loop_cpu = (cpu_seconds(server_pid) - cpu, children_cpu_seconds(server_pid) - worker_cpu,
                                     main_thread_cpu_seconds(server_pid) - loop_cpu)
    per_comment = 1e6 / (batches * 100)
    return batches * 100 / elapsed, cpu * per_comment, worker_cpu * per_comment, loop_cpu * per_comment


async def sse_client(url: str, token: str, incident: str, after: int, got: list[int], stop: asyncio.Event) -> None:
    headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=httpx.Timeout(30, read=60)) as client:
        async with client.stream("GET", f"/incidents/{incident}/events", params={"after": after}) as stream:
            lines = stream.aiter_lines()
            async for line in lines:
                if line.startswith("id: "):
                    got.append(int(line[4:]))
                if stop.is_set():
                    return


async def burst(url: str, hook_token: str, viewer_tokens: list[str], incident: str, seconds: float,
                server_pid: int) -> dict[str, object]:
    lead_view = await HttpStore.open(url, token=viewer_tokens[0] if viewer_tokens else hook_token)
    after = (await lead_view.latest_events(incident, 1))[-1].seq
    received: list[list[int]] = [[] for _ in viewer_tokens]
    stop = asyncio.Event()
    clients = [asyncio.create_task(sse_client(url, t, incident, after, received[i], stop))
               for i, t in enumerate(viewer_tokens)]
    await asyncio.sleep(1.0)
    batches = int(seconds * 10)
    payloads = bodies("b", batches)
    rss: list[float] = [rss_mb(server_pid)]
    headers = {"Authorization": f"Bearer {hook_token}", "Content-Type": "application/json"}
    ingested = 0
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as poster:
        start = time.perf_counter()
        next_sample = start + 1
        for i, body in enumerate(payloads):
            due = start + i * 0.1
            now = time.perf_counter()
            if due > now:
                await asyncio.sleep(due - now)
            answer = await poster.post(f"/incidents/{incident}/comments", content=body)
            answer.raise_for_status()
            ingested += answer.json()["ingested"]
            if time.perf_counter() >= next_sample:
                rss.append(rss_mb(server_pid))
                next_sample += 1
        posted_in = time.perf_counter() - start
    deadline = time.perf_counter() + 60
    while time.perf_counter() < deadline and any(len(r) < ingested for r in received):
        await asyncio.sleep(0.1)
    drained_after = time.perf_counter() - start - posted_in
    rss.append(rss_mb(server_pid))
    stop.set()
    for c in clients:
        c.cancel()
    await asyncio.gather(*clients, return_exceptions=True)
    expected = {e.seq for e in await lead_view.events_after(incident, after, 10 ** 7)}
    await lead_view.close()
    warm = rss[min(WARMUP_SECONDS, len(rss) - 1)]
    return {
        "comments": len(expected), "rate": ingested / posted_in,
        "lost": sum(len(expected - set(r)) for r in received),
        "duplicated": sum(len(r) - len(set(r)) for r in received),
        "rss": rss, "rss_growth": rss[-1] - warm, "drain_s": drained_after,
    }


async def main(args: argparse.Namespace) -> dict[str, object]:
    folder = Path(tempfile.mkdtemp(prefix="crisis-bench-http-"))
    db = folder / "bench.db"
    await (await SqliteStore.open(db)).close()
    book = await TokenBook.open(db)
    _, lead = await book.create("bench", "lead")
    _, hook = await book.create("webhook", "operator")
    viewers = [(await book.create(f"wall{i}", "viewer"))[1] for i in range(args.clients)]
    await book.close()

    async def incident(url: str, title: str) -> str:
        async with await HttpStore.open(url, token=lead) as store:
            return (await store.create_incident(title, actor="bench")).id

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = start_server(db, port)
    try:
        latencies = await propagation(url, lead, viewers[0], await incident(url, "propagation"), args.samples)
        triaged, triaged_cpu, worker_cpu, loop_cpu = await webhook(url, hook, await incident(url, "webhook"),
                                                                   args.batches, proc.pid)
    finally:
        proc.terminate()
        proc.wait(15)
    proc = start_server(db, port, "--triage-worker", "off")
    try:
        inline, inline_cpu, _, _ = await webhook(url, hook, await incident(url, "webhook, triage in process"),
                                              args.batches, proc.pid)
    finally:
        proc.terminate()
        proc.wait(15)
    proc = start_server(db, port, "--no-triage")
    try:
        untriaged, untriaged_cpu, _, _ = await webhook(url, hook, await incident(url, "webhook, no triage"), args.batches,
                                                 proc.pid)
        crowd = await burst(url, hook, viewers, await incident(url, "burst"), args.burst_seconds, proc.pid)
    finally:
        proc.terminate()
        proc.wait(15)
    q = statistics.quantiles(latencies, n=100)
    rss: list[float] = crowd["rss"]  # type: ignore[assignment]
    return {
        "propagation_p50_ms": round(statistics.median(latencies), 2),
        "propagation_p95_ms": round(q[94], 2),
        "propagation_samples": len(latencies),
        "webhook_ingest_per_s": round(triaged),
        "webhook_ingest_untriaged_per_s": round(untriaged),
        "webhook_server_cpu_us_per_comment": round(triaged_cpu, 1),
        "webhook_triage_worker_cpu_us_per_comment": round(worker_cpu, 1),
        "webhook_server_event_loop_cpu_us_per_comment": round(loop_cpu, 1),
        "webhook_inprocess_triage_per_s": round(inline),
        "webhook_inprocess_triage_server_cpu_us_per_comment": round(inline_cpu, 1),
        "webhook_untriaged_server_cpu_us_per_comment": round(untriaged_cpu, 1),
        "burst_clients": args.clients,
        "burst_comments": crowd["comments"],
        "burst_rate_per_s": round(crowd["rate"]),  # type: ignore[call-overload]
        "burst_lost": crowd["lost"],
        "burst_duplicated": crowd["duplicated"],
        "burst_drain_s": round(crowd["drain_s"], 2),  # type: ignore[call-overload]
        "server_rss_growth_mb": round(crowd["rss_growth"], 1),  # type: ignore[call-overload]
        "server_rss_mb": [round(x, 1) for x in rss],
    }


def report(f: dict[str, object]) -> None:
    print(f"propagation, one client's write -> another client's stream: p50 {f['propagation_p50_ms']} ms, "
          f"p95 {f['propagation_p95_ms']} ms over {f['propagation_samples']} writes (target p95 <= 25 ms)")
    print(f"webhook ingest, batches of 100, 4 connections: {f['webhook_ingest_per_s']:,} comments/s with triage "
          f"(the default), {f['webhook_ingest_untriaged_per_s']:,} comments/s with --no-triage (target >= 20,000)")
    untriaged_us = f["webhook_untriaged_server_cpu_us_per_comment"]
    assert isinstance(untriaged_us, (int, float))
    print(f"  server CPU per comment: {f['webhook_server_cpu_us_per_comment']} us with triage (target <= 35; "
          f"its worker process on the other core took {f['webhook_triage_worker_cpu_us_per_comment']} us; "
          f"the event loop {f['webhook_server_event_loop_cpu_us_per_comment']} us of it, the SQLite and watcher "
          f"threads the rest), "
          f"{f['webhook_untriaged_server_cpu_us_per_comment']} us without (one idle core would take "
          f"{1e6 / untriaged_us:,.0f}/s untriaged)")
    print(f"  triage in the server's own process (--triage-worker off): {f['webhook_inprocess_triage_per_s']:,} "
          f"comments/s, {f['webhook_inprocess_triage_server_cpu_us_per_comment']} us server CPU per comment")
    print(f"burst: {f['burst_clients']} SSE clients, {f['burst_comments']:,} comments posted at "
          f"{f['burst_rate_per_s']:,}/s: lost {f['burst_lost']}, duplicated {f['burst_duplicated']}; "
          f"every client had everything {f['burst_drain_s']} s after the last post")
    print(f"server memory during the burst (--no-triage; MB, each second): {f['server_rss_mb']}")
    print(f"server memory growth after the first {WARMUP_SECONDS} s: {f['server_rss_growth_mb']} MB")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--samples", type=int, default=300, help="propagation writes")
    parser.add_argument("--batches", type=int, default=300, help="webhook batches of 100")
    parser.add_argument("--clients", type=int, default=20, help="subscribed clients during the burst")
    parser.add_argument("--burst-seconds", type=float, default=30.0, help="burst length at 1,000 comments/s")
    options = parser.parse_args()
    if options.burst_seconds < WARMUP_SECONDS + 1 or options.samples < 20:
        parser.error(f"--burst-seconds must be at least {WARMUP_SECONDS + 1} and --samples at least 20")
    figures = asyncio.run(main(options))
    if options.json:
        print(json.dumps(figures))
    else:
        report(figures)
