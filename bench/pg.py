"""bench/pg.py: `crisis-tui serve` on PostgreSQL with several server processes, measured here.

Prints propagation from a write through server A to a client streaming from server B
(p95), webhook ingest in batches of 100 through two PostgreSQL servers against one
SQLite server measured in the same run, and claim latency (p95) with 50 concurrent
operators spread over the two servers, each claiming once a second (far above a
committee's pace), next to the same 50 operators on the one SQLite server (the same
client process and HTTP path: what is the database's and what is not); and the same 500
claims sent all at once (`*_claim_burst_p95_ms`: a stress test, where p95 is a queue); and
one operator's claims one after another (`*_claim_alone_p50_ms`: the floor of one claim
through HTTP, with nothing to wait for but the database and the machine).
`--json` prints one JSON object: pg_propagation_p95_ms, pg_webhook_per_s,
sqlite_webhook_per_s, pg_claim_p95_ms, sqlite_claim_p95_ms (and the p50s).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]

from crisis_tui.store.http import HttpStore  # noqa: E402
from crisis_tui.store.opening import open_database  # noqa: E402
from crisis_tui.tokens import TokenBook  # noqa: E402
from tests.pg_db import create_database, drop_database  # noqa: E402
from tests.test_server_process import batch, free_port, start_server, stop  # noqa: E402

OPERATORS = 50


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[18] if len(values) >= 2 else values[0]


async def tokens(db: Path | str, names: list[str]) -> dict[str, str]:
    await (await open_database(db)).close()
    book = await TokenBook.open(db)
    try:
        return {name: (await book.create(name, "lead"))[1] for name in names}
    finally:
        await book.close()


async def webhook_rate(urls: list[str], token: str, inc: str, batches: int, first: int = 100_000) -> float:
    """Comments/s posted in batches of 100, one poster per server URL, all at once: fresh comments,
    ids from `first` (a round that posted the last round's ids again measured duplicates refused)."""
    clients = [httpx.AsyncClient(base_url=u, headers={"Authorization": f"Bearer {token}"}, timeout=60) for u in urls]

    async def post(n: int) -> None:
        for b in range(n, batches, len(clients)):
            answer = await clients[n].post(f"/incidents/{inc}/comments", json=batch(first + b * 100, 100))
            answer.raise_for_status()

    started = time.perf_counter()
    await asyncio.gather(*(post(n) for n in range(len(clients))))
    elapsed = time.perf_counter() - started
    for c in clients:
        await c.aclose()
    return batches * 100 / elapsed


async def propagation(a: HttpStore, b: HttpStore, inc: str, samples: int) -> list[float]:
    stream = b.subscribe(inc, (await b.events_after(inc, 0, 100_000))[-1].seq)
    out: list[float] = []
    for n in range(samples):
        started = time.perf_counter()
        await a.add_note(inc, f"note {n}", actor="Luis")
        while (await anext(stream)).kind != "note.added":
            pass
        out.append((time.perf_counter() - started) * 1000)
    return out


async def claims(urls: list[str], keys: dict[str, str], inc: str, first: int, *, period: float | None) -> list[float]:
    """Each of 50 operators claims 10 comments of its own (ids from `first`). `period`: the
    seconds between one operator's claims, started at a random phase (people press keys
    now and then: one claim a second each is already far above a committee's pace); None:
    every claim at once, back to back (a stress test: its p95 is the queue of 500)."""
    stores = [await HttpStore.open(urls[n % len(urls)], token=keys[f"op{n}"]) for n in range(OPERATORS)]
    out: list[float] = []
    rng = random.Random(first)

    async def operator(n: int) -> None:
        if period is not None:
            await asyncio.sleep(rng.random() * period)
        for comment_id in range(first + n * 10, first + 10 + n * 10):
            started = time.perf_counter()
            await stores[n].claim(inc, comment_id, actor=f"op{n}")
            took = time.perf_counter() - started
            out.append(took * 1000)
            if period is not None:
                await asyncio.sleep(max(0.0, period - took))

    await asyncio.gather(*(operator(n) for n in range(OPERATORS)))
    for s in stores:
        await s.close()
    return out


async def alone(url: str, key: str, inc: str, first: int, count: int = 100) -> list[float]:
    """One operator's `count` claims one after another through the server at `url` (ids from `first`)."""
    store = await HttpStore.open(url, token=key)
    out: list[float] = []
    try:
        for comment_id in range(first, first + count):
            started = time.perf_counter()
            await store.claim(inc, comment_id, actor="op0")
            out.append((time.perf_counter() - started) * 1000)
    finally:
        await store.close()
    return out


async def main(as_json: bool, batches: int) -> None:
    url = await create_database()
    names = ["Luis", *(f"op{n}" for n in range(OPERATORS))]
    procs = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            file = Path(tmp) / "bench.db"
            pg_keys, file_keys = await tokens(url, names), await tokens(file, names)
            pg_urls = []
            for _ in range(2):
                port = free_port()
                procs.append(start_server(url, port))  # type: ignore[arg-type]
                pg_urls.append(f"http://127.0.0.1:{port}")
            port = free_port()
            procs.append(start_server(file, port))
            sqlite_url = f"http://127.0.0.1:{port}"

            a = await HttpStore.open(pg_urls[0], token=pg_keys["Luis"])
            b = await HttpStore.open(pg_urls[1], token=pg_keys["Luis"])
            inc = (await a.create_incident("Bench", actor="Luis")).id
            s = await HttpStore.open(sqlite_url, token=file_keys["Luis"])
            sinc = (await s.create_incident("Bench", actor="Luis")).id
            # the baseline first and the PostgreSQL figure after, then again, best of two each
            sqlite_rates, pg_rates = [], []
            for round_ in range(2):
                first = 100_000 + round_ * batches * 100
                sqlite_rates.append(await webhook_rate([sqlite_url, sqlite_url], file_keys["Luis"], sinc, batches, first))
                pg_rates.append(await webhook_rate(pg_urls, pg_keys["Luis"], inc, batches, first))
            prop = await propagation(a, b, inc, 100)
            claim = await claims(pg_urls, pg_keys, inc, 1, period=1.0)
            sqlite_claim = await claims([sqlite_url], file_keys, sinc, 1, period=1.0)
            claim_burst = await claims(pg_urls, pg_keys, inc, 1 + 10 * OPERATORS, period=None)
            sqlite_claim_burst = await claims([sqlite_url], file_keys, sinc, 1 + 10 * OPERATORS, period=None)
            claim_alone = await alone(pg_urls[0], pg_keys["op0"], inc, 1 + 20 * OPERATORS)
            sqlite_claim_alone = await alone(sqlite_url, file_keys["op0"], sinc, 1 + 20 * OPERATORS)
            for store in (a, b, s):
                await store.close()
    finally:
        for proc in procs:
            stop(proc)
        await drop_database(url)
    figures = {
        "pg_propagation_p50_ms": round(statistics.median(prop), 2),
        "pg_propagation_p95_ms": round(p95(prop), 2),
        "pg_webhook_per_s": round(max(pg_rates)),
        "sqlite_webhook_per_s": round(max(sqlite_rates)),
        "pg_claim_p50_ms": round(statistics.median(claim), 2),
        "pg_claim_p95_ms": round(p95(claim), 2),
        "sqlite_claim_p50_ms": round(statistics.median(sqlite_claim), 2),
        "sqlite_claim_p95_ms": round(p95(sqlite_claim), 2),
        "pg_claim_burst_p95_ms": round(p95(claim_burst), 2),
        "sqlite_claim_burst_p95_ms": round(p95(sqlite_claim_burst), 2),
        "pg_claim_alone_p50_ms": round(statistics.median(claim_alone), 2),
        "sqlite_claim_alone_p50_ms": round(statistics.median(sqlite_claim_alone), 2),
    }
    if as_json:
        print(json.dumps(figures))
    else:
        for key, value in figures.items():
            print(f"{key:24} {value}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--batches", type=int, default=100, help="webhook batches of 100 per measurement")
    args = parser.parse_args()
    if args.batches < 6:
        parser.error("--batches must be at least 6 (the claims take the first 1,100 comments of each incident)")
    asyncio.run(main(args.json, args.batches))
