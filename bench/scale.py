"""A million comments in one incident: each figure measured as the whole process a user starts.

    python bench/scale.py                  # 1,000,000 comments (built once, then cached)
    python bench/scale.py --size 100000 --json

The incident comes from bench/scale_build.py (built through the store once per size, schema
and builder, then cached in the temporary folder). Each figure is one child process, timed
from its start, the way a user meets it: `crisis-tui wallboard` until its first board is on
screen (headless), `crisis-tui export -f json`, `crisis-tui verify`, and a room's claims
(a process that opens the file and claims comments one by one, on a copy so the cached
incident stays as built). Peak memory is the child's own max RSS (os.wait4), never ours.
The room's figures come from bench/scale_room.py's `measure_room(size)` when that file is
there. Keys are named by size: wallboard_start_1m_s, verify_100k_peak_mb, ...

Targets at 1M: wallboard_start <= 1 s, export_json <= 6 s and <= 300 MB, verify <= 4 s and
<= 100 MB, claim p95 <= 5 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, this file's folder comes first on sys.path, and bench/http.py would hide
# the standard library's `http` package from httpx (the store imports it to publish).
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]

TARGETS: dict[str, tuple[float, str]] = {
    "wallboard_start": (1.0, "s"), "export_json": (6.0, "s"), "export_json_peak": (300.0, "mb"),
    "verify": (4.0, "s"), "verify_peak": (100.0, "mb"), "claim_p95": (5.0, "ms"),
}
CLAIMS = 300
READY = "READY"


def size_name(size: int) -> str:
    """1m, 100k, 2500 ... as the keys spell a size."""
    if size % 1_000_000 == 0:
        return f"{size // 1_000_000}m"
    if size % 1000 == 0:
        return f"{size // 1000}k"
    return str(size)


def _say(quiet: bool, text: str) -> None:
    if not quiet:
        print(text, file=sys.stderr, flush=True)


def _env() -> dict[str, str]:
    env = dict(os.environ, PYTHONSAFEPATH="1", PYTHONPATH=str(ROOT), NO_COLOR="1")
    env.pop("CRISIS_TUI_PLAYBOOK", None)
    return env


def _child(args: list[str], *, ready: str | None = None, cwd: Path | None = None) -> tuple[float, float, str]:
    """Run one child to its end (or to the line `ready` it prints): (seconds, its max RSS in MB, stdout)."""
    started = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(), cwd=cwd)
    assert proc.stdout is not None
    seconds: float | None = None
    lines: list[str] = []
    if ready is not None:
        for line in proc.stdout:
            lines.append(line)
            if line.strip() == ready:
                seconds = time.perf_counter() - started
                break
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    elapsed = time.perf_counter() - started
    err = proc.stderr.read() if proc.stderr else ""
    if proc.returncode != 0 or (ready is not None and seconds is None):
        raise SystemExit(f"{' '.join(args[:4])} ... failed ({proc.returncode}): {(err or out).strip()[-600:]}")
    # ru_maxrss is in kilobytes on Linux
    return (seconds if seconds is not None else elapsed), usage.ru_maxrss / 1024.0, "".join(lines) + out


def _cli() -> list[str]:
    return [sys.executable, "-m", "crisis_tui"]


def measure_wallboard(db: Path, inc: str) -> float:
    """`crisis-tui wallboard` until its first board (start state and projections read) is drawn."""
    seconds, _, _ = _child([sys.executable, __file__, "--wallboard-child", str(db), inc], ready=READY)
    return seconds


def measure_export(db: Path, inc: str, work: Path) -> tuple[float, float]:
    out = work / "export.json"
    seconds, peak, _ = _child([*_cli(), "export", f"{db}#{inc}", "-f", "json", "-o", str(out), "-q"])
    out.unlink(missing_ok=True)
    return seconds, peak


def measure_verify(db: Path, inc: str) -> tuple[float, float]:
    seconds, peak, _ = _child([*_cli(), "verify", f"{db}#{inc}"])
    return seconds, peak


def measure_claims(db: Path, inc: str, work: Path) -> float:
    """p95 of single claims, from a process that opens (a copy of) the file as a room does."""
    copy = work / "claims.db"
    shutil.copyfile(db, copy)
    try:
        _, _, out = _child([sys.executable, __file__, "--claims-child", str(copy), inc])
    finally:
        for leftover in (copy, Path(f"{copy}-wal"), Path(f"{copy}-shm")):
            leftover.unlink(missing_ok=True)
    return float(out.strip().splitlines()[-1])


# ------------------------------------------------------------------ the children
def wallboard_child(db: Path, inc: str) -> None:
    """The wallboard as `crisis-tui wallboard` runs it, headless; READY with the first frame that
    shows the board started from the store (its start read, then its projections)."""
    from crisis_tui import playbook as playbook_mod  # noqa: PLC0415 - timed as part of the child
    from crisis_tui.store.sqlite import SqliteStore  # noqa: PLC0415
    from crisis_tui.wallboard.app import WallboardApp  # noqa: PLC0415

    painted = asyncio.Event()

    class Timed(WallboardApp):
        def _display(self, screen: Any, renderable: Any) -> None:
            super()._display(screen, renderable)
            if renderable is not None and self.started and self.incident is not None and not painted.is_set():
                print(READY, flush=True)
                painted.set()

    async def go() -> None:
        book = playbook_mod.load(playbook_mod.shipped_path())
        store = await SqliteStore.open(db, playbook=book, read_only=True)
        app = Timed(store, inc, playbook=book)
        try:
            async with app.run_test(size=(160, 50)):
                await painted.wait()
        finally:
            await store.close()

    asyncio.run(go())


def claims_child(db: Path, inc: str) -> None:
    """Claim CLAIMS unclaimed comments spread over the incident, one command each; print the p95 in ms."""
    from crisis_tui import playbook as playbook_mod  # noqa: PLC0415
    from crisis_tui.store.sqlite import SqliteStore  # noqa: PLC0415

    async def go() -> float:
        book = playbook_mod.load(playbook_mod.shipped_path())
        async with await SqliteStore.open(db, playbook=book) as store:
            await store.heartbeat(inc, actor="Bench", role="cm")
            total = (await store.counts(inc)).total
            # the builder claims ids 1, 501, 1001 ...: ids 2 + a multiple of 500 are free
            step = max(500, total // CLAIMS // 500 * 500)
            times: list[float] = []
            for n in range(min(CLAIMS, max(1, (total - 2) // step + 1))):
                comment_id = 2 + n * step
                started = time.perf_counter()
                await store.claim(inc, comment_id, actor="Bench")
                times.append((time.perf_counter() - started) * 1000)
            times.sort()
            return times[max(0, int(len(times) * 0.95 + 0.5) - 1)]

    print(round(asyncio.run(go()), 3))


# ------------------------------------------------------------------ the run
def _bench_module(name: str) -> Any:
    """Another bench/ file as a module (bench/ is no package, and its folder is off sys.path)."""
    spec = importlib.util.spec_from_file_location(f"bench_{name}", Path(__file__).with_name(f"{name}.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def room_figures(size: int, quiet: bool) -> dict[str, float]:
    """bench/scale_room.py's figures, when that file exists (another part of the bench)."""
    path = Path(__file__).with_name("scale_room.py")
    if not path.exists():
        print("room figures skipped: bench/scale_room.py is not there", file=sys.stderr)
        return {}
    _say(quiet, "room figures from bench/scale_room.py ...")
    return dict(_bench_module("scale_room").measure_room(size))


def run(size: int, quiet: bool, repeat: int) -> dict[str, float]:
    build = _bench_module("scale_build")
    db, inc = asyncio.run(build.incident_file(size, quiet=quiet))
    build.compiled_package()
    _say(quiet, f"incident {inc} in {db} ({db.stat().st_size / 1e6:,.0f} MB)")
    name = size_name(size)
    work = Path(tempfile.mkdtemp(prefix="crisis-bench-scale-"))
    figures: dict[str, float] = {}
    try:
        def best(key: str, measure: object) -> None:
            runs = [measure() for _ in range(repeat)]  # type: ignore[operator]
            if isinstance(runs[0], tuple):
                figures[f"{key}_{name}_s"] = round(min(r[0] for r in runs), 3)
                figures[f"{key}_{name}_peak_mb"] = round(min(r[1] for r in runs), 1)
            else:
                unit = "ms" if key == "claim_p95" else "s"
                figures[f"{key}_{name}_{unit}"] = round(min(runs), 3)
            _say(quiet, f"{key}: {', '.join(str(r) for r in runs)}")

        best("wallboard_start", lambda: measure_wallboard(db, inc))
        best("export_json", lambda: measure_export(db, inc, work))
        best("verify", lambda: measure_verify(db, inc))
        best("claim_p95", lambda: measure_claims(db, inc, work))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    figures.update(room_figures(size, quiet))
    return figures


def _verdict(key: str, value: float, name: str) -> str:
    for stem, (target, unit) in TARGETS.items():
        wanted = f"{stem[:-5]}_{name}_peak_mb" if stem.endswith("_peak") else f"{stem}_{name}_{unit}"
        if key == wanted:
            return f"(target <= {target:g}: {'ok' if value <= target else 'OVER'})"
    return ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1_000_000, help="comments in the incident (default 1,000,000)")
    parser.add_argument("--json", action="store_true", help="print one JSON object with the figures")
    parser.add_argument("--repeat", type=int, default=1, help="runs per figure; the best is reported")
    parser.add_argument("--wallboard-child", nargs=2, metavar=("DB", "INCIDENT"), help=argparse.SUPPRESS)
    parser.add_argument("--claims-child", nargs=2, metavar=("DB", "INCIDENT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.wallboard_child:
        wallboard_child(Path(args.wallboard_child[0]), args.wallboard_child[1])
        return
    if args.claims_child:
        claims_child(Path(args.claims_child[0]), args.claims_child[1])
        return
    figures = run(args.size, quiet=args.json, repeat=max(1, args.repeat))
    if args.json:
        print(json.dumps(figures))
        return
    for key, value in figures.items():
        print(f"{key} = {value} {_verdict(key, value, size_name(args.size))}".rstrip())


if __name__ == "__main__":
    main()
