"""Presets: shipped mappings for the shapes platforms really send, and recognising them.

Each preset has a `[preset]` table: a `title` for the line that says what was
read ("read as a YouTube commentThreads answer") and `detect`, paths that must
hold a value ("*": any value) in an answer (a .json document, or the first
line of a JSONL file) for it to be recognised without `--preset`. A native
comment never matches one: presets look for platform keys only.

A CSV export's preset says `format = "csv"` and is recognised by `header`, the
columns its first row must have (Google Play's reviews export); its mapping
is read as a CSV mapping (`[csv]`: encoding, delimiter, skip). The header is
read in the encoding its byte-order mark names (UTF-16 for Google's exports),
UTF-8 without one.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import msgspec

from crisis_tui import json_input
from crisis_tui.intake import preset_files
from crisis_tui.intake.lines import without_assignment
from crisis_tui.intake.mapping import MISSING, Mapping, MappingError, dig


def names() -> tuple[str, ...]:
    return preset_files.names()


def load(name: str) -> Mapping:
    data = preset_files.raw(name)
    if data is None:
        raise MappingError(f"--preset {name}: no such preset (crisis-tui ingest --presets lists them)")
    return Mapping.parse(data, f"preset {name}", section=format_of(name))


def format_of(name: str) -> str:
    """"csv" for a CSV export's preset, "json" for a JSON answer's."""
    data = preset_files.raw(name) or {}
    return "csv" if data.get("preset", {}).get("format") == "csv" else "json"


def title(name: str) -> str:
    data = preset_files.raw(name) or {}
    return str(data.get("preset", {}).get("title", name))


def shape_line(name: str, comments: int, replies: int, units: str = "") -> str:
    """What was read, in the platform's words: "read as a YouTube commentThreads answer: 7 threads, 12 replies",
    and the epoch units told by magnitude ("; posted_at in epoch microseconds, told by magnitude")."""
    line = _counted(name, comments, replies)
    return f"{line}; {units}" if units else line


def _counted(name: str, comments: int, replies: int) -> str:
    data = preset_files.raw(name) or {}
    table = data.get("preset", {})
    word = str(table.get("items", "items"))
    tops = max(0, comments - replies)
    line = f"read as {title(name)}: {tops} {word if tops != 1 else str(table.get('item', word.removesuffix('s')))}"
    return f"{line}, {replies} repl{'ies' if replies != 1 else 'y'}" if replies else line


def matches(answer: Any, detect: dict[str, Any]) -> bool:
    if not detect:
        return False
    for path, wanted in detect.items():
        value = dig(answer, path)
        if value is MISSING or value is None or (wanted != "*" and value != wanted):
            return False
    return True


def recognise(answer: Any) -> str | None:
    """The preset whose `detect` the answer satisfies (the first by name), or None."""
    for name in names():
        data = preset_files.raw(name) or {}
        if matches(answer, dict(data.get("preset", {}).get("detect", {}))):
            return name
    return None


def recognise_header(header: list[str]) -> str | None:
    """The CSV preset whose `header` columns the export's first row all has, or None."""
    columns = {cell.strip() for cell in header}
    for name in names():
        table = (preset_files.raw(name) or {}).get("preset", {})
        wanted = table.get("header") or []
        if table.get("format") == "csv" and wanted and columns >= set(wanted):
            return name
    return None


def peek_header(path: Path, limit: int = 1 << 16) -> list[str]:
    """A CSV file's first row, in the encoding its byte-order mark names ([] when it cannot be read)."""
    try:
        with path.open("rb") as handle:
            data = handle.read(limit)
    except OSError:
        return []
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"
    else:
        encoding = "utf-8-sig"
    text = data.decode(encoding, "replace")
    first = text.splitlines()[0] if text else ""
    return next(csv.reader([first]), [])


def listing() -> list[str]:
    """One line a preset, for `crisis-tui ingest --presets`."""
    return [f"{name:<20} {title(name)}{' (CSV)' if format_of(name) == 'csv' else ''}" for name in names()]


def peek(path: Path, limit: int) -> Any:
    """The answer to recognise: a .json (or archive .js) file's document, or a JSONL file's first non-blank line
    (MISSING when it cannot be told: too big, unreadable, not JSON)."""
    try:
        with path.open("rb") as handle:
            if path.suffix.lower() in (".json", ".js"):
                data = handle.read(limit + 1)
                if len(data) > limit:
                    return MISSING
            else:
                data = b""
                for line in handle:
                    if line.strip():
                        data = line
                        break
    except OSError:
        return MISSING
    try:
        return json_input.decode(without_assignment(data.strip().removeprefix(b"\xef\xbb\xbf")))
    except msgspec.DecodeError:
        return MISSING
