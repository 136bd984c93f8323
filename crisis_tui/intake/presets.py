"""Presets: shipped mappings for the shapes platforms really send, and recognising them.

Each preset has a `[preset]` table: a `title` for the line that says what was
read ("read as a YouTube commentThreads answer") and `detect`, paths that must
hold a value ("*": any value) in an answer (a .json document, or the first
line of a JSONL file) for it to be recognised without `--preset`. A native
comment never matches one: presets look for platform keys only.
"""

from __future__ import annotations

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
    return Mapping.parse(data, f"preset {name}", section="json")


def title(name: str) -> str:
    data = preset_files.raw(name) or {}
    return str(data.get("preset", {}).get("title", name))


def shape_line(name: str, comments: int, replies: int) -> str:
    """What was read, in the platform's words: "read as a YouTube commentThreads answer: 7 threads, 12 replies"."""
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


def listing() -> list[str]:
    """One line a preset, for `crisis-tui ingest --presets`."""
    return [f"{name:<20} {title(name)}" for name in names()]


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
