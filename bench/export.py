"""How long a 100k-event incident takes to export in each format.

Builds the incident with the real store (comments ingested in batches, then
claims, replies through review and approval, marks, notes and decisions as
single commands), then times `export_incident` end to end (reading the log and
the state, computing the metrics, writing) for json, csv, md and html, and
reports the best of `--repeat` runs (3 by default: the machine is shared, and
the best run is the one least disturbed by other work).
Targets: <= 3 s for json, csv and md, <= 5 s for html.

    .venv/bin/python bench/export.py            # figures, human-readable
    .venv/bin/python bench/export.py --json     # one JSON object
    .venv/bin/python bench/export.py --db big.db  # keep (or reuse) the incident file
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, this file's folder comes first on sys.path, and bench/http.py would hide
# the standard library's `http` package from httpx (the store imports it to publish).
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]

import msgspec  # noqa: E402

from crisis_tui import playbook as playbook_mod  # noqa: E402
from crisis_tui.comment_shape import parse_comment  # noqa: E402
from crisis_tui.export import FORMATS, export_incident  # noqa: E402
from crisis_tui.playbook import Playbook  # noqa: E402
from crisis_tui.store.sqlite import SqliteStore  # noqa: E402

TARGET_EVENTS = 100_000
REPLIES = 2_000
MARKS = 1_500
NOTES = 200
DECISIONS = 50
TARGETS = {"json": 3.0, "csv": 3.0, "md": 3.0, "html": 5.0}
LINES = ["Refund stuck since the update", "Nobody answers in the chat", "Rimborso bloccato da settimane",
         "¿Y mi reembolso?", "Thanks, got it sorted", "Worst brand ever!!!", "App says error 504"]


def _say(quiet: bool, text: str) -> None:
    if not quiet:
        print(text, file=sys.stderr, flush=True)


async def build(path: Path, book: Playbook, quiet: bool) -> str:
    """A 100k-event incident in `path`; returns its id."""
    rng = random.Random(11)
    store = await SqliteStore.open(path, playbook=book)
    try:
        inc = (await store.create_incident("Bench crisis", actor="Luis", severity="sev2")).id
        for name, role in (("Luis", "gm"), ("Ana", "cm"), ("Giulia", "care"), ("Sam", "marketing")):
            await store.heartbeat(inc, actor=name, role=role)
        per_reply = 5  # claim, draft, in review, approved, sent
        others = REPLIES * per_reply + MARKS + NOTES + DECISIONS * 2 + 6
        comments = TARGET_EVENTS - others
        started = time.perf_counter()
        for start in range(0, comments, 2000):
            batch = []
            for i in range(start, min(start + 2000, comments)):
                raw = parse_comment({"source": rng.choice(["x", "instagram", "facebook", "tiktok"]), "id": f"b-{i}",
                                     "author": f"@user_{rng.randint(1, 40_000)}", "text": rng.choice(LINES)})
                batch.append(msgspec.structs.replace(raw, negativity=rng.random(), priority=rng.random()))
            await store.ingest(inc, batch)
        await store.alert(inc, "alert.spike", {"per_minute": 900, "baseline": 40, "factor": 22})
        _say(quiet, f"ingested {comments:,} comments in {time.perf_counter() - started:.1f}s")
        started = time.perf_counter()
        for cid in range(1, REPLIES + 1):
            await store.claim(inc, cid, actor="Ana")
            draft = await store.save_draft(inc, f"Sorry for the wait on your refund, we will DM you today ({cid}).",
                                           actor="Ana", comment_id=cid)
            await store.set_draft_status(inc, draft.id, "in_review", actor="Ana")
            # The store judges the tone rules itself now; every tenth approval gives a reason anyway.
            await store.set_draft_status(inc, draft.id, "approved", actor="Luis",
                                         override_reason="apology by DM" if cid % 10 == 0 else "checked by hand")
            await store.set_draft_status(inc, draft.id, "sent", actor="Ana")
        for cid in range(REPLIES + 1, REPLIES + MARKS + 1):
            await store.mark(inc, cid, "ignored" if cid % 3 else "removal_requested", actor="Giulia", reason="bench")
        for n in range(NOTES):
            await store.add_note(inc, f"note {n}: checking the refund queue", actor="Sam")
        for n in range(DECISIONS):
            decision = await store.propose_decision(inc, f"Decision {n}", actor="Sam", rationale="bench")
            await store.vote_decision(inc, decision.id, n % 4 != 0, actor="Luis")
        _say(quiet, f"ran {others:,} commands in {time.perf_counter() - started:.1f}s")
    finally:
        await store.close()
    return inc


async def bench(db: Path | None, quiet: bool, repeat: int) -> dict[str, float]:
    book = playbook_mod.load(playbook_mod.shipped_path())
    work = Path(tempfile.mkdtemp(prefix="crisis-bench-export-"))
    path = db or work / "bench.db"
    if path.exists():
        store = await SqliteStore.open(path, read_only=True, playbook=book)
        inc = (await store.list_incidents())[-1].id
        await store.close()
    else:
        inc = await build(path, book, quiet)
    results: dict[str, float] = {}
    store = await SqliteStore.open(path, read_only=True, playbook=book)
    try:
        events = len(await store.raw_events(inc))
        _say(quiet, f"incident {inc}: {events:,} events")
        for fmt in FORMATS:
            out = f"{work}/csv/" if fmt == "csv" else str(work / f"bench.{fmt}")
            runs: list[float] = []
            for _ in range(repeat):
                started = time.perf_counter()
                written = await export_incident(store, inc, fmt, out, playbook=book)
                runs.append(time.perf_counter() - started)
            results[fmt] = min(runs)
            size = sum(p.stat().st_size for p in written)
            _say(quiet, f"{fmt:>4}: best {results[fmt]:.2f}s of {', '.join(f'{r:.2f}' for r in runs)}  "
                        f"({size / 1e6:.1f} MB, target <= {TARGETS[fmt]:.0f} s)")
    finally:
        await store.close()
        # the exports and a built incident (--db's file is the caller's, kept)
        shutil.rmtree(work, ignore_errors=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object with the figures")
    parser.add_argument("--db", type=Path, default=None, help="incident file to build (or reuse if it exists)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per format; the best is reported")
    args = parser.parse_args()
    results = asyncio.run(bench(args.db, quiet=args.json, repeat=max(1, args.repeat)))
    figures = {f"export_{fmt}_100k_s": round(seconds, 3) for fmt, seconds in results.items()}
    if args.json:
        print(json.dumps(figures))
    else:
        for key, value in figures.items():
            print(f"{key} = {value}")


if __name__ == "__main__":
    main()
