"""Follow a JSONL file like `tail -F`: new lines as they are written, through
truncation and rotation, resuming exactly where it stopped after a restart.

The monitoring tool appends one comment a line. Each poll (every 50 ms by
default: a stat and a read, nothing when idle) takes the complete lines that
appeared; a line still being written (no newline yet) waits for its newline.
The position (file identity, byte offset, line number and a hash of the
file's first bytes) is saved after the store committed each chunk, so a
restart neither skips nor repeats a line.

- Truncated (size below our offset, same file): read again from the start.
- Rotated (the path now names another file): finish the old file, then read
  the new one from its start. If the rotation happened while we were stopped,
  the old file is looked for next to the new one (same device and inode, e.g.
  `app.jsonl.1`) and its rest is read first.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import BinaryIO

from crisis_tui.intake.chunk import Chunk, SourceError, Stored
from crisis_tui.intake.lines import parse_lines
from crisis_tui.intake.state import StateFile

READ_BYTES = 1 << 20
HEAD_BYTES = 1024


def _head(handle: BinaryIO, length: int) -> str:
    """Hash of a file's first `length` bytes: tells a rewritten file from the one we read."""
    data = os.pread(handle.fileno(), length, 0)
    return hashlib.sha1(data).hexdigest()


class LineSplitter:
    """Bytes in, complete lines out; the unfinished last line is kept for the next feed."""

    def __init__(self) -> None:
        self.pending = b""

    def feed(self, data: bytes) -> list[bytes]:
        data = self.pending + data
        cut = data.rfind(b"\n")
        if cut < 0:
            self.pending = data
            return []
        self.pending = data[cut + 1 :]
        return data[:cut].split(b"\n")

    def flush(self) -> list[bytes]:
        """The unfinished line, as a line (the file it belonged to is finished)."""
        rest, self.pending = self.pending, b""
        return [rest] if rest.strip() else []


class FollowedFile:
    """`ingest INCIDENT FILE --follow` (see the module docstring)."""

    def __init__(
        self,
        path: Path,
        state: StateFile,
        stop: asyncio.Event,
        *,
        report: Callable[[str], None],
        poll: float = 0.05,
        from_end: bool = False,
    ) -> None:
        self.path = path
        self.name = path.name
        self.state = state
        self.stop = stop
        self.report = report
        self.poll = poll
        self.from_end = from_end
        self.size = None
        self._handle: BinaryIO | None = None
        self._identity: tuple[int, int] = (0, 0)
        self._offset = 0
        self._line = 0
        self._splitter = LineSplitter()

    # -------------------------------------------------------------- position
    def _open(self, path: Path) -> BinaryIO | None:
        try:
            handle = path.open("rb")
        except FileNotFoundError:
            return None
        except IsADirectoryError:
            raise SourceError(f"{path} is a folder: --follow takes a file") from None
        except OSError as exc:
            raise SourceError(f"{path}: cannot be read: {exc.strerror or exc}") from None
        return handle

    def _adopt(self, handle: BinaryIO, offset: int, line: int) -> None:
        if self._handle is not None and self._handle is not handle:
            self._handle.close()
        st = os.fstat(handle.fileno())
        self._handle = handle
        self._identity = (st.st_dev, st.st_ino)
        self._offset = offset
        self._line = line
        self._splitter = LineSplitter()
        handle.seek(offset)

    def _saved_matches(self, handle: BinaryIO, saved: dict[str, object]) -> bool:
        st = os.fstat(handle.fileno())
        if (st.st_dev, st.st_ino) != (saved.get("dev"), saved.get("ino")):
            return False
        offset = int(saved.get("offset", 0))  # type: ignore[call-overload]
        if st.st_size < offset:
            return False
        return _head(handle, int(saved.get("head_len", 0))) == saved.get("head")  # type: ignore[call-overload]

    def _find_rotated(self, saved: dict[str, object]) -> BinaryIO | None:
        """The file we were reading, renamed next to the path while we were stopped."""
        try:
            siblings = list(self.path.parent.iterdir())
        except OSError:
            return None
        for sibling in siblings:
            try:
                st = sibling.stat()
            except OSError:
                continue
            if (st.st_dev, st.st_ino) == (saved.get("dev"), saved.get("ino")) and sibling != self.path:
                handle = self._open(sibling)
                if handle is not None and self._saved_matches(handle, saved):
                    return handle
                if handle is not None:
                    handle.close()
        return None

    def _resume(self) -> bool:
        """Open the file where the saved state says; True when an old rotated file is being finished."""
        saved = self.state.load()
        current = self._open(self.path)
        if saved.get("path") == str(self.path.resolve()) and "offset" in saved:
            offset, line = int(saved["offset"]), int(saved.get("line", 0))
            if current is not None and self._saved_matches(current, saved):
                self._adopt(current, offset, line)
                return False
            rotated = self._find_rotated(saved)
            if rotated is not None:
                if current is not None:
                    current.close()
                self.report(f"{self.name}: rotated while stopped; finishing the old file first")
                self._adopt(rotated, offset, line)
                return True
            self.report(f"{self.name}: changed while stopped (truncated or replaced); reading it from the start")
        if current is None:
            self._handle = None
            return False
        if self.from_end and not saved:
            size = os.fstat(current.fileno()).st_size
            lines = self._count_lines(current, size)
            self._adopt(current, size, lines)
        else:
            self._adopt(current, 0, 0)
        return False

    @staticmethod
    def _count_lines(handle: BinaryIO, size: int) -> int:
        handle.seek(0)
        count = 0
        remaining = size
        while remaining > 0:
            block = handle.read(min(READ_BYTES, remaining))
            if not block:
                break
            count += block.count(b"\n")
            remaining -= len(block)
        return count

    def _snapshot(self) -> dict[str, object]:
        assert self._handle is not None
        head_len = min(self._offset, HEAD_BYTES)
        return {
            "path": str(self.path.resolve()),
            "dev": self._identity[0],
            "ino": self._identity[1],
            "offset": self._offset,
            "line": self._line,
            "head_len": head_len,
            "head": _head(self._handle, head_len),
        }

    # ---------------------------------------------------------------- reading
    def _chunk(self, lines: list[bytes], *, terminated: bool = True) -> Chunk:
        """Lines without their newlines (`terminated`: each had one in the file)."""
        first = self._line + 1
        comments, rejects, count = parse_lines(lines, self.name, first)
        self._line += count
        self._offset += sum(len(line) for line in lines) + (len(lines) if terminated else 0)
        snapshot = self._snapshot()

        async def done(_: Stored) -> None:
            self.state.save(snapshot)

        return Chunk(comments, rejects, done=done)

    def _changed(self) -> str:
        """"" when the path still names our file; else "rotated", "truncated" or "gone"."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return "gone"
        if (st.st_dev, st.st_ino) != self._identity:
            return "rotated"
        if st.st_size < self._offset + len(self._splitter.pending):
            return "truncated"
        return ""

    async def chunks(self) -> AsyncIterator[Chunk]:
        finishing_old = self._resume()
        try:
            while not self.stop.is_set():
                if self._handle is None:
                    handle = self._open(self.path)
                    if handle is None:
                        await self._sleep()
                        continue
                    self._adopt(handle, 0, 0)
                assert self._handle is not None
                data = self._handle.read(READ_BYTES)
                if data:
                    lines = self._splitter.feed(data)
                    if lines:
                        yield self._chunk(lines)
                    continue
                change = "rotated" if finishing_old else self._changed()
                if change == "rotated":
                    rest = self._splitter.flush()
                    if rest:
                        yield self._chunk(rest, terminated=False)
                    handle = self._open(self.path)
                    if handle is None:
                        await self._sleep()
                        continue
                    if not finishing_old:
                        self.report(f"{self.name}: rotated; following the new file")
                    finishing_old = False
                    self._adopt(handle, 0, 0)
                    continue
                if change == "truncated":
                    self.report(f"{self.name}: truncated; reading it again from the start")
                    self._adopt(self._handle, 0, 0)
                    continue
                await self._sleep()
        finally:
            if self._handle is not None:
                self._handle.close()

    async def _sleep(self) -> None:
        try:
            await asyncio.wait_for(self.stop.wait(), self.poll)
        except TimeoutError:
            pass
