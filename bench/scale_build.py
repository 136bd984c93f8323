"""Builds (once) the big incidents bench/scale.py measures: N comments through the store itself.

    python bench/scale_build.py --size 1000000     # builds or finds the cached file, prints its path

The file is cached by size in the temporary folder and rebuilt when the schema or this
builder changes (both are in the file's name), so a run of bench/scale.py measures and
does not wait for a million inserts each time. The incident is built the way a real one
grows: comments in ingest batches, posted over the last hours (the room's real clock),
with a draft, a claim or a note on a small share of them, and decisions on the record.
"""

from __future__ import annotations

import argparse
import asyncio
import compileall
import hashlib
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, this file's folder comes first on sys.path, and bench/http.py would hide
# the standard library's `http` package from httpx (the store imports it to publish).
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]

from crisis_tui import playbook as playbook_mod  # noqa: E402
from crisis_tui.model import NewComment  # noqa: E402
from crisis_tui.store.schema import SCHEMA_VERSION  # noqa: E402
from crisis_tui.store.sqlite import SqliteStore  # noqa: E402

TITLE = "Bench: refund delays at scale"
SOURCES = ["x", "instagram", "facebook", "tiktok", "reviews", "youtube"]
LINES = [
    "Llevo tres semanas esperando el reembolso y nadie contesta",
    "Rimborso sparito da 20 giorni, il servizio clienti non risponde",
    "Since the app update my refund is processing forever, support chat closes on me",
    "Worst brand ever!!! Boycott now",
    "Anyone else waiting for a refund since Tuesday?",
    "Got my refund today after calling care, thanks",
]
BATCH = 5000
#: One in this many comments gets claimed and drafted (the work a committee does).
WORKED_EVERY = 500


def _fingerprint() -> str:
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:10]


def compiled_package() -> None:
    """crisis_tui's bytecode in its __pycache__, as an installed package has it (pip compiles it at
    install; a checkout's first run writes it). A measured child started with PYTHONDONTWRITEBYTECODE
    in its environment (some sandboxes and CI images set it) would otherwise compile every module
    from source on each start, about 100 ms of a first screen no user waits for twice."""
    compileall.compile_dir(ROOT / "crisis_tui", quiet=1)


def cached_path(size: int) -> Path:
    """Where the incident of `size` comments lives, for this schema and this builder."""
    folder = Path(tempfile.gettempdir()) / "crisis-tui-scale"
    return folder / f"scale-{size}-schema{SCHEMA_VERSION}-{_fingerprint()}.db"


def _comments(start: int, count: int, rng: random.Random, now: float, span: float) -> list[NewComment]:
    return [
        NewComment(
            source=rng.choice(SOURCES), external_id=f"s-{i}", author=f"@user_{i % 200_000}",
            lang=rng.choice(["es", "it", "en"]),
            text=f"{rng.choice(LINES)} (#{i}) " + "more detail " * rng.randint(0, 6),
            author_followers=rng.randint(0, 80_000), likes=rng.randint(0, 500), priority=rng.random(),
            bot_score=rng.random() * 0.7, bot_reasons=["account 2 days old"] if rng.random() < 0.1 else [],
            posted_at=now - span + span * (i / max(1, start + count)),
        )
        for i in range(start, start + count)
    ]


async def _build(path: Path, size: int, quiet: bool) -> str:
    book = playbook_mod.load(playbook_mod.shipped_path())
    store = await SqliteStore.open(path, playbook=book)
    try:
        inc = (await store.create_incident(TITLE, actor="bench")).id
        await store.heartbeat(inc, actor="Luis", role="gm")
        rng = random.Random(7)
        now, span = time.time(), 6 * 3600.0
        started = time.perf_counter()
        for start in range(0, size, BATCH):
            stored = await store.ingest(inc, _comments(start, min(BATCH, size - start), rng, now, span))
            for comment_id in stored.ids[::WORKED_EVERY]:
                await store.claim(inc, comment_id, actor="Luis")
                await store.save_draft(inc, "Hola, lo siento mucho: te escribo por privado.",
                                       actor="Luis", comment_id=comment_id)
            if start and start % 100_000 == 0:
                await store.add_note(inc, f"{start} comments in", actor="Luis")
                if not quiet:
                    rate = start / (time.perf_counter() - started)
                    print(f"  built {start:,} of {size:,} ({rate:,.0f}/s)", file=sys.stderr)
        return inc
    finally:
        await store.close()


async def incident_file(size: int, *, quiet: bool = False) -> tuple[Path, str]:
    """The cached incident file of `size` comments and its incident id (built when missing)."""
    path = cached_path(size)
    if path.exists():
        async with await SqliteStore.open(path, playbook=playbook_mod.load(playbook_mod.shipped_path())) as store:
            incidents = await store.list_incidents()
        if incidents:
            return path, incidents[0].id
    path.parent.mkdir(parents=True, exist_ok=True)
    building = path.with_suffix(f".building-{os.getpid()}")
    for leftover in (building, Path(f"{building}-wal"), Path(f"{building}-shm")):
        leftover.unlink(missing_ok=True)
    if not quiet:
        print(f"building an incident of {size:,} comments in {path} (once) ...", file=sys.stderr)
    inc = await _build(building, size, quiet)
    os.replace(building, path)
    return path, inc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1_000_000)
    args = parser.parse_args()
    path, inc = asyncio.run(incident_file(args.size))
    print(f"{path} {inc}")


if __name__ == "__main__":
    main()
