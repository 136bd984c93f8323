"""A JSONL (or .json) file read once, start to end: a monitoring tool's export, a backlog.

Read in slices of about a megabyte of whole lines, so a file of millions of
lines streams through in flat memory. A small file's slices are parsed in a
thread; a big file's are parsed and read in a second process
(crisis_tui.intake.parallel), two slices ahead, while this process triages
and stores. Line numbers are counted
from 1 over physical lines (blank lines count, as in an editor).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from pathlib import Path
from typing import BinaryIO

from crisis_tui.intake.chunk import Chunk, Reject, SourceError
from crisis_tui.intake.lines import parse_document, parse_lines, parse_mapped_document, parse_mapped_lines
from crisis_tui.intake.mapping import Mapping
from crisis_tui.intake.parallel import MIN_BYTES, SliceReader, line_count
from crisis_tui.model import NewComment
from crisis_tui.playbook import Playbook
from crisis_tui.triage import Prepared

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


def file_size(path: Path) -> int | None:
    """Bytes in the file, for the progress bar (None when it cannot be told)."""
    try:
        return path.stat().st_size
    except OSError:
        return None


def is_document(path: Path) -> bool:
    """A .json file holds one object or an array; everything else is read as JSONL."""
    return path.suffix.lower() == ".json"


class JsonlFile:
    """A backlog file (see the module docstring)."""

    def __init__(
        self, path: Path, *, label: str | None = None, book: Playbook | None = None, mapping: Mapping | None = None
    ) -> None:
        """`book`: the playbook, to parse and read a big file in a second process (None: always in a thread).
        `mapping`: the file holds someone else's answers (a .json document, or one a JSONL line)."""
        self.path = path
        self.name = label or path.name
        self.book = book
        self.mapping = mapping

    @property
    def size(self) -> int | None:
        return file_size(self.path)

    async def chunks(self) -> AsyncIterator[Chunk]:
        handle = open_source(self.path)
        try:
            if is_document(self.path) or (self.mapping is not None and self.path.suffix.lower() == ".js"):
                data = await asyncio.to_thread(handle.read, MAX_DOCUMENT_BYTES + 1)
                if len(data) > MAX_DOCUMENT_BYTES:
                    raise SourceError(
                        f"{self.path}: a .json file over {MAX_DOCUMENT_BYTES >> 20} MiB; write it as JSONL (one comment a line)"
                    )
                if self.mapping is not None:
                    mapped = await asyncio.to_thread(parse_mapped_document, data, self.name, self.mapping)
                    yield Chunk(mapped.comments, mapped.rejects, position=len(data), skipped=mapped.skipped,
                                replies=mapped.replies)
                    return
                comments, rejects = await asyncio.to_thread(parse_document, data, self.name)
                yield Chunk(comments, rejects, position=len(data))
                return
            if self.mapping is not None:
                async for chunk in self._mapped_lines(handle, self.mapping):
                    yield chunk
                return
            if self.book is not None and (self.size or 0) >= MIN_BYTES:
                async for chunk in self._in_parallel(handle, self.book):
                    yield chunk
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

    async def _mapped_lines(self, handle: BinaryIO, mapping: Mapping) -> AsyncIterator[Chunk]:
        line = 1
        while True:
            lines = await asyncio.to_thread(handle.readlines, SLICE_BYTES)
            if not lines:
                return
            mapped, count = await asyncio.to_thread(parse_mapped_lines, lines, self.name, line, mapping)
            line += count
            yield Chunk(mapped.comments, mapped.rejects, position=handle.tell(), skipped=mapped.skipped, replies=mapped.replies)

    async def _in_parallel(self, handle: BinaryIO, book: Playbook) -> AsyncIterator[Chunk]:
        reader = SliceReader(book)
        ahead: deque[tuple[asyncio.Future[tuple[list[NewComment], list[Reject], list[Prepared]]], int]] = deque()
        line = 1
        try:
            while True:
                while len(ahead) < 2:
                    data = await asyncio.to_thread(_whole_lines, handle)
                    if not data:
                        break
                    ahead.append((asyncio.ensure_future(reader.read(data, self.name, line)), handle.tell()))
                    line += line_count(data)
                if not ahead:
                    return
                future, position = ahead.popleft()
                comments, rejects, prepared = await future
                yield Chunk(comments, rejects, position=position, prepared=prepared)
        finally:
            for future, _ in ahead:
                future.cancel()
            await asyncio.to_thread(reader.close)

    def _slice(self, handle: BinaryIO, first_line: int) -> tuple[list[NewComment], list[Reject], int, int]:
        lines = handle.readlines(SLICE_BYTES)
        comments, rejects, count = parse_lines(lines, self.name, first_line)
        return comments, rejects, count, handle.tell()


def _whole_lines(handle: BinaryIO) -> bytes:
    """About SLICE_BYTES of the file, ending at a line's end (or the file's)."""
    data = handle.read(SLICE_BYTES)
    if data and not data.endswith(b"\n"):
        data += handle.readline()
    return data
