"""Exporting an incident for the evaluation: json (loss-free), csv, md and html.

Headless (no Textual): the CLI, the bench and the tests call `export_incident`.
The json export streams the log in bounded memory (`json_stream`); the other
formats read the incident once (`record`), compute the metrics from the log
(`metrics`) and hand both to one writer module per format.
"""

from __future__ import annotations

import contextlib
import gc
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from crisis_tui.errors import InvalidInput
from crisis_tui.export import json_stream, to_csv, to_html, to_json, to_md
from crisis_tui.export import metrics as metrics_mod
from crisis_tui.export.record import IncidentRecord, Progress, load_record, no_progress
from crisis_tui.playbook import Playbook
from crisis_tui.store.protocol import IncidentStore

Writer = Callable[..., list[Path]]
WRITERS: dict[str, Writer] = {
    "json": to_json.write,
    "csv": to_csv.write,
    "md": to_md.write,
    "html": to_html.write,
}
FORMATS: tuple[str, ...] = tuple(WRITERS)
#: Formats that print the comments and drafts themselves (the others work from the log).
WITH_STATE = frozenset({"json", "csv"})


@contextlib.contextmanager
def bulk() -> Iterator[None]:
    """No cyclic garbage collection while an export builds its 100k objects.

    Nothing here makes cycles, and the collector's repeated full passes over a
    growing heap cost more than the export itself (measured by bench/export.py).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def default_output(incident_id: str, fmt: str) -> str:
    """Where an export goes without -o: beside you, named after the incident."""
    return f"{incident_id}-csv/" if fmt == "csv" else f"{incident_id}.{fmt}"


def _target(fmt: str, out: str | Path) -> Path:
    """The checked output path: a mistake is told before the log is read, not after."""
    if fmt not in WRITERS:
        raise InvalidInput("format", f"{fmt!r} is not one of {', '.join(FORMATS)}")
    path = Path(out).expanduser()
    if fmt != "csv":
        if path.is_dir():
            raise InvalidInput("output", f"{path} is a folder; name the {fmt} file to write")
        if not path.parent.is_dir():
            raise InvalidInput("output", f"folder {path.parent} does not exist")
    return path


def write_record(
    record: IncidentRecord,
    fmt: str,
    out: str | Path,
    path: Path,
    *,
    playbook: Playbook,
    progress: Progress = no_progress,
    now: float | None = None,
) -> list[Path]:
    """Compute the metrics and write `record` as `fmt` to `path` (checked by `_target` from
    `out`, which the csv writer reads as typed); return the files written."""
    exported_at = time.time() if now is None else now
    extra = {"raw_out": str(out)} if fmt == "csv" else {}
    with bulk():
        progress("computing metrics", 0, 1)
        computed = metrics_mod.compute(record.events, playbook, as_of=exported_at)
        progress("computing metrics", 1, 1)
        try:
            written = WRITERS[fmt](record, computed, playbook, path, exported_at=exported_at, progress=progress,
                                   **extra)
        except OSError as exc:
            raise InvalidInput("output", f"cannot write {path}: {exc.strerror or exc}") from None
        del computed
    return written


async def export_incident(
    store: IncidentStore,
    incident_id: str,
    fmt: str,
    out: str | Path,
    *,
    playbook: Playbook,
    progress: Progress = no_progress,
    now: float | None = None,
) -> list[Path]:
    """Read the incident from `store` and export it (json: streamed, see json_stream; the
    others: see `write_record`)."""
    path = _target(fmt, out)
    if fmt == "json":
        with bulk():
            return await json_stream.write_json(store, incident_id, playbook, path,
                                                exported_at=time.time() if now is None else now, progress=progress)
    with bulk():
        record = await load_record(store, incident_id, progress, with_state=fmt in WITH_STATE)
        written = write_record(record, fmt, out, path, playbook=playbook, progress=progress, now=now)
        # Freed before the collector is back on, so it never walks these 100k objects.
        del record
    return written
