#!/usr/bin/env python3
"""The room on a big incident: first screen, full load, memory, a text filter and a re-ordering.

    python bench/scale_room.py --size 1000000          # prints the figures
    python bench/scale_room.py --size 1000000 --json   # one JSON object (first_screen_1m_ms, ...)

Importable: `measure_room(size) -> dict[str, float]` (bench/scale.py prints it with the rest).

Targets on 1M comments: first_screen_1m_ms <= 500, full_load_1m_s <= 5, rss_1m_mb <= 400,
filter_1m_ms <= 300.

How it measures, in a fresh process started the way a user starts a room (an operator's
seat, headless at 120x40, on a copy of bench/scale_build.py's cached incident, so the
room's heartbeats never touch the cache the other benches read, with crisis_tui's bytecode
compiled as an installed package has it):
- first_screen_<n>_ms: from the process's start (before Textual is imported) to the first
  frame with a whole comment on screen (a placeholder row waiting for its details does not count).
- full_load_<n>_s: from the process's start to every comment in the stream's index.
- rss_<n>_mb: the room process's resident memory (VmRSS) once they are all in.
- filter_<n>_ms: the operator types "boycott" in the filter (/) and presses Enter (a sixth of
  the comments match): from the filter form's submit to the first frame whose first line is a
  whole matching comment.
- order_<n>_ms: `t` (newest first) with the filter still on: from the key to the first frame
  whose first line is, whole, the comment the new order puts there (the cursor keeps its comment).
"""

from __future__ import annotations

import time

_PROCESS_START = time.perf_counter()

import argparse  # noqa: E402
import asyncio  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, this file's folder comes first on sys.path, and bench/http.py would hide
# the standard library's `http` package from httpx (the store imports it to publish).
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]

NEEDLE = "boycott"


def label(size: int) -> str:
    """1_000_000 -> "1m", 100_000 -> "100k": the size in the figures' names."""
    if size % 1_000_000 == 0:
        return f"{size // 1_000_000}m"
    if size % 1000 == 0:
        return f"{size // 1000}k"
    return str(size)


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class _Painted:
    """The last frame's top row, and when a whole comment was first painted."""

    first_whole: float | None = None
    top: tuple[int, float] = (-1, 0.0)  # (the comment painted whole on the stream's first line, when)


def _watch_paints() -> None:
    from textual.strip import Strip

    from crisis_tui.widgets.stream import CommentStream

    paint = CommentStream.render_line

    def render_line(self: CommentStream, y: int) -> Strip:
        strip = paint(self, y)
        index = self.scroll_offset.y + y
        row = self.state.row_at(index)
        if row is not None and row.complete:
            now = time.perf_counter()
            if _Painted.first_whole is None:
                _Painted.first_whole = now
            if y == 0:
                _Painted.top = (row.id, now)
        return strip

    CommentStream.render_line = render_line  # type: ignore[method-assign]


async def _until(check: object, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise TimeoutError(f"the room did not get there in time ({_Painted.top})")
        await asyncio.sleep(0.002)


async def room(db: Path, incident: str, size: int) -> dict[str, float]:
    """The room's process: the figures of one run."""
    from textual import events

    from crisis_tui import playbook as playbook_mod
    from crisis_tui.app import CrisisApp
    from crisis_tui.screens.pickers import FilterStream
    from crisis_tui.store.sqlite import SqliteStore

    _watch_paints()
    book = playbook_mod.load(playbook_mod.shipped_path())
    store = await SqliteStore.open(db, playbook=book)
    app = CrisisApp(store, incident, book, me="Bench", role="cm", watch_playbook_file=False)
    n = label(size)
    out: dict[str, float] = {}
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await _until(lambda: _Painted.first_whole is not None)
            assert _Painted.first_whole is not None
            out[f"first_screen_{n}_ms"] = (_Painted.first_whole - _PROCESS_START) * 1000
            await _until(lambda: app.room.loaded and app.room.load_progress is None, 600)
            out[f"full_load_{n}_s"] = time.perf_counter() - _PROCESS_START
            await pilot.pause()
            out[f"rss_{n}_mb"] = _rss_mb()
            state = app.room.state
            out[f"comments_in_room_{n}"] = float(state.total)

            await pilot.press("slash")
            await _until(lambda: isinstance(app.screen, FilterStream))
            form = app.screen
            assert isinstance(form, FilterStream)
            form.query_one("#filter-text").value = NEEDLE  # type: ignore[attr-defined]
            await pilot.pause()
            t0 = time.perf_counter()
            form.submit()

            stream = app.room.stream

            def top_matches() -> bool:
                row = state.row_at(stream.scroll_offset.y)
                return (row is not None and _Painted.top[1] > t0 and _Painted.top[0] == row.id
                        and NEEDLE in f"{row.author}\n{row.text}".casefold())

            await _until(top_matches)
            out[f"filter_{n}_ms"] = (_Painted.top[1] - t0) * 1000

            stream.focus()
            await pilot.pause()
            t0 = time.perf_counter()
            app.post_message(events.Key("t", "t"))
            await _until(lambda: state.order == "time" and _Painted.top[1] > t0
                         and _Painted.top[0] == state.id_at(stream.scroll_offset.y))
            out[f"order_{n}_ms"] = (_Painted.top[1] - t0) * 1000
    finally:
        await store.close()
    return out


def measure_room(size: int) -> dict[str, float]:
    """The room's figures on an incident of `size` comments (built once by bench/scale_build.py)."""
    build = _scale_build()
    cached, incident = asyncio.run(build.incident_file(size))
    build.compiled_package()
    with tempfile.TemporaryDirectory(prefix="crisis-scale-room-") as tmp:
        db = Path(tmp) / "room.db"
        shutil.copyfile(cached, db)
        done = subprocess.run(
            [sys.executable, __file__, "--room", str(db), incident, "--size", str(size)],
            capture_output=True, text=True, timeout=1200, env=_env(),
        )
    if done.returncode != 0:
        raise RuntimeError(f"the room's process failed:\n{done.stderr[-3000:]}")
    figures: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def _scale_build() -> Any:
    """bench/scale_build.py, by its path (bench/ is a folder of scripts, not a package)."""
    spec = importlib.util.spec_from_file_location("scale_build", Path(__file__).with_name("scale_build.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _env() -> dict[str, str]:
    import os

    env = dict(os.environ)
    env["PYTHONSAFEPATH"] = "1"
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--room", nargs=2, metavar=("DB", "INCIDENT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.room:
        print(json.dumps(asyncio.run(room(Path(args.room[0]), args.room[1], args.size))))
        return
    figures = measure_room(args.size)
    if args.json:
        print(json.dumps({k: round(v, 1) for k, v in figures.items()}))
        return
    n = label(args.size)
    print(f"room on {args.size:,} comments ({figures[f'comments_in_room_{n}']:,.0f} in the stream)")
    print(f"first screen:       {figures[f'first_screen_{n}_ms']:8.0f} ms   (target <= 500 at 1M)")
    print(f"fully loaded:       {figures[f'full_load_{n}_s']:8.1f} s    (target <= 5 at 1M)")
    print(f"resident memory:    {figures[f'rss_{n}_mb']:8.0f} MB   (target <= 400 at 1M)")
    print(f"text filter:        {figures[f'filter_{n}_ms']:8.0f} ms   (target <= 300 at 1M; {NEEDLE!r})")
    print(f"newest first (t):   {figures[f'order_{n}_ms']:8.0f} ms   (with the filter on)")


if __name__ == "__main__":
    main()
