"""A JSONL (or .json) file read once, start to end: a monitoring tool's export, a backlog.

Read in slices of about a megabyte of whole lines, each parsed in a worker
thread, so a file of millions of lines streams through in flat memory and the
event loop stays free to commit the previous slice. Line numbers are counted
from 1 over physical lines (blank lines count, as in an editor).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import BinaryIO

from crisis_tui.intake.chunk import Chunk, SourceError
from crisis_tui.intake.lines import parse_document, parse_lines

SLICE_BYTES = 1 << 20
#: A .json file (not .jsonl) larger than this is refused: it must be read whole.
MAX_DOCUMENT_BYTES = 256 << 20


def open_source(path: Path) -> BinaryIO:
    try:
        return path.open("rb")
    except FileNotFoundError:
        raise SourceError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise SourceError(f"{path} is a folder (for a drop folder, give the folder without --follow)") from None
    except OSError as exc:
        raise SourceError(f"{path}: cannot be read: {exc.strerror or exc}") from None


def is_document(path: Path) -> bool:
    """A .json file holds one object or an array; everything else is read as JSONL."""
    return path.suffix.lower() == ".json"


class JsonlFile:
    """A backlog file (see the module docstring)."""

    def __init__(self, path: Path, *, label: str | None = None) -> None:
        self.path = path
        self.name = label or path.name

    @property
    def size(self) -> int | None:
        try:
            return self.path.stat().st_size
        except OSError:
            return None

    async def chunks(self) -> AsyncIterator[Chunk]:
        handle = open_source(self.path)
        try:
            if is_document(self.path):
                data = await asyncio.to_thread(handle.read, MAX_DOCUMENT_BYTES + 1)
                if len(data) > MAX_DOCUMENT_BYTES:
                    raise SourceError(
                        f"{self.path}: a .json file over {MAX_DOCUMENT_BYTES >> 20} MiB; write it as JSONL (one comment a line)"
                    )
                comments, rejects = await asyncio.to_thread(parse_document, data, self.name)
                yield Chunk(comments, rejects, position=len(data))
                return
            line = 1
            while True:
                comments, rejects, count, position = await asyncio.to_thread(self._slice, handle, line)
                if not count:
                    return
                line += count
                yield Chunk(comments, rejects, position=position)
        finally:
            handle.close()

    def _slice(self, handle: BinaryIO, first_line: int) -> tuple[list, list, int, int]:  # type: ignore[type-arg]
        lines = handle.readlines(SLICE_BYTES)
        comments, rejects, count = parse_lines(lines, self.name, first_line)
        return comments, rejects, count, handle.tell()
