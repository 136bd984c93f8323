"""Room benchmark: first screen of a 100k-comment incident, keypress latency under load, memory.

    python bench/tui.py            # prints the figures
    python bench/tui.py --json     # one JSON object: first_screen_100k_ms, keypress_p95_ms, rss_100k_mb

Targets: first screen <= 1000 ms, keypress p95 <= 50 ms while 200 comments/s
arrive, resident memory <= 300 MB with 100k comments.

How it measures (each figure in a fresh process, on a real SQLite file):
- first_screen_100k_ms: from the start of the room's process (before Textual is
  imported) to the first frame with the incident's comments on screen (headless,
  120x40). The newest page shows first; the rest loads in the background, and
  `full_load_100k_ms` says when all 100,000 are in the stream.
- keypress_p95_ms: with every comment loaded, a separate writer process ingests
  200 comments/s into the same file while the bench presses down/up 200 times;
  each figure is from posting the key to the stream painting the new cursor row.
- rss_100k_mb: the room process's resident memory (VmRSS) once all 100k are loaded.
"""

from __future__ import annotations

import time

_PROCESS_START = time.perf_counter()

import argparse  # noqa: E402
import asyncio  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, this file's folder comes first on sys.path, and bench/http.py would hide
# the standard library's `http` package from httpx (the store imports it to publish).
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]

SOURCES = ["x", "instagram", "facebook", "tiktok", "reviews", "youtube"]
LINES = [
    "Llevo tres semanas esperando el reembolso y nadie contesta",
    "Rimborso sparito da 20 giorni, il servizio clienti non risponde",
    "Since the app update my refund is processing forever, support chat closes on me",
    "Worst brand ever!!! Boycott now",
    "Anyone else waiting for a refund since Tuesday?",
    "Got my refund today after calling care, thanks",
]


def _comments(start: int, count: int, rng: random.Random) -> list:
    from crisis_tui.model import NewComment

    return [
        NewComment(
            source=rng.choice(SOURCES), external_id=f"b-{i}", author=f"@user_{i}", lang=rng.choice(["es", "it", "en"]),
            text=f"{rng.choice(LINES)} (#{i}) " + "more detail " * rng.randint(0, 6),
            author_followers=rng.randint(0, 80_000), likes=rng.randint(0, 500), priority=rng.random(),
            bot_score=rng.random() * 0.7, bot_reasons=["account 2 days old"] if rng.random() < 0.1 else [],
        )
        for i in range(start, start + count)
    ]


async def generate(db: Path, count: int) -> str:
    from crisis_tui import playbook as playbook_mod
    from crisis_tui.store.sqlite import SqliteStore

    store = await SqliteStore.open(db, playbook=playbook_mod.load(playbook_mod.shipped_path()))
    try:
        inc = (await store.create_incident("Bench: refund delays", actor="bench")).id
        rng = random.Random(7)
        for start in range(0, count, 5000):
            await store.ingest(inc, _comments(start, min(5000, count - start), rng))
        return inc
    finally:
        await store.close()


async def write_load(db: Path, incident: str, per_second: int, seconds: float) -> None:
    """The writer process: `per_second` comments a second, in 10 batches a second."""
    from crisis_tui import playbook as playbook_mod
    from crisis_tui.store.sqlite import SqliteStore

    store = await SqliteStore.open(db, playbook=playbook_mod.load(playbook_mod.shipped_path()))
    rng = random.Random(11)
    try:
        batch = max(1, per_second // 10)
        start = 10_000_000
        end = time.monotonic() + seconds
        tick = time.monotonic()
        while time.monotonic() < end:
            await store.ingest(incident, _comments(start, batch, rng))
            start += batch
            tick += 0.1
            await asyncio.sleep(max(0.0, tick - time.monotonic()))
    finally:
        await store.close()


def _rss_mb() -> tuple[float, float]:
    status = Path("/proc/self/status").read_text()
    fields = {line.split(":")[0]: line.split(":")[1].strip() for line in status.splitlines() if ":" in line}
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


class _Painted:
    """When the stream last painted a comment row, and which one (the repaint we wait for)."""

    first_row: float | None = None
    cursor_row: tuple[int, float] = (-1, 0.0)


def _watch_paints() -> None:
    from textual.strip import Strip

    from crisis_tui.widgets.stream import CommentStream

    paint = CommentStream.render_line

    def render_line(self: CommentStream, y: int) -> Strip:
        strip = paint(self, y)
        index = self.scroll_offset.y + y
        if self.state.row_at(index) is not None:
            now = time.perf_counter()
            if _Painted.first_row is None:
                _Painted.first_row = now
            if index == self._cursor_index:
                _Painted.cursor_row = (index, now)
        return strip

    CommentStream.render_line = render_line  # type: ignore[method-assign]


async def room(db: Path, incident: str, presses: int) -> dict[str, float]:
    """The room's process: time to the first frame, to the full load, then keypresses under load."""
    from textual import events

    from crisis_tui import playbook as playbook_mod
    from crisis_tui.app import CrisisApp
    from crisis_tui.store.sqlite import SqliteStore

    _watch_paints()
    book = playbook_mod.load(playbook_mod.shipped_path())
    store = await SqliteStore.open(db, playbook=book)
    app = CrisisApp(store, incident, book, me="Bench", role="cm", watch_playbook_file=False)
    out: dict[str, float] = {}
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            while _Painted.first_row is None:
                await asyncio.sleep(0.001)
            out["first_screen_100k_ms"] = (_Painted.first_row - _PROCESS_START) * 1000
            while app.room.load_progress is not None:
                await asyncio.sleep(0.01)
            await pilot.pause()
            out["full_load_100k_ms"] = (time.perf_counter() - _PROCESS_START) * 1000
            out["comments_loaded"] = app.room.state.total
            out["rss_100k_mb"], out["peak_rss_100k_mb"] = _rss_mb()

            writer = subprocess.Popen([sys.executable, __file__, "--write-load", str(db), incident, "200",
                                       str(presses * 0.05 + 6)])
            try:
                await asyncio.sleep(1.0)  # let the stream start flowing
                before = app.room.state.total
                started = time.perf_counter()
                samples = []
                stream = app.room.stream
                for i in range(presses):
                    t0 = time.perf_counter()
                    app.post_message(events.Key("down" if i % 20 < 10 else "up", None))
                    while _Painted.cursor_row[1] < t0 or _Painted.cursor_row[0] != stream._cursor_index:
                        await asyncio.sleep(0.0005)
                    samples.append((_Painted.cursor_row[1] - t0) * 1000)
                    await asyncio.sleep(0.03)
                elapsed = time.perf_counter() - started
                arrived = app.room.state.total - before
            finally:
                writer.terminate()
                writer.wait(timeout=10)
            samples.sort()
            out["keypress_p50_ms"] = statistics.median(samples)
            out["keypress_p95_ms"] = samples[int(len(samples) * 0.95) - 1]
            out["arrivals_per_s_during_keys"] = arrived / elapsed
    finally:
        await store.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--comments", type=int, default=100_000)
    parser.add_argument("--presses", type=int, default=200)
    parser.add_argument("--room", nargs=2, metavar=("DB", "INCIDENT"), help=argparse.SUPPRESS)
    parser.add_argument("--write-load", nargs=4, metavar=("DB", "INCIDENT", "PER_S", "SECONDS"), help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.write_load:
        db, inc, per_s, seconds = args.write_load
        asyncio.run(write_load(Path(db), inc, int(per_s), float(seconds)))
        return
    if args.room:
        print(json.dumps(asyncio.run(room(Path(args.room[0]), args.room[1], args.presses))))
        return

    with tempfile.TemporaryDirectory(prefix="crisis-bench-") as tmp:
        db = Path(tmp) / "bench.db"
        t0 = time.perf_counter()
        inc = asyncio.run(generate(db, args.comments))
        made = time.perf_counter() - t0
        done = subprocess.run([sys.executable, __file__, "--room", str(db), inc, "--presses", str(args.presses)],
                              capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            sys.exit(f"room process failed:\n{done.stderr[-3000:]}")
        figures = json.loads(done.stdout.strip().splitlines()[-1])
    if args.json:
        print(json.dumps({k: round(v, 1) for k, v in figures.items()}))
        return
    print(f"incident of {args.comments:,} comments written in {made:.1f} s")
    print(f"first screen:            {figures['first_screen_100k_ms']:8.0f} ms   (target <= 1000)")
    print(f"all comments in stream:  {figures['full_load_100k_ms']:8.0f} ms   ({figures['comments_loaded']:,.0f} rows)")
    print(f"keypress to repaint p95: {figures['keypress_p95_ms']:8.1f} ms   (target <= 50; p50 "
          f"{figures['keypress_p50_ms']:.1f} ms) with {figures['arrivals_per_s_during_keys']:.0f} comments/s arriving")
    print(f"resident memory:         {figures['rss_100k_mb']:8.0f} MB   (target <= 300; peak "
          f"{figures['peak_rss_100k_mb']:.0f} MB)")


if __name__ == "__main__":
    main()
