"""A drop folder: every .jsonl/.json file put there is ingested once, then moved.

Exports from monitoring tools, scrapers and colleagues land in one folder. A
file is taken when it stops growing (two looks `settle` seconds apart), read
whole, stored, and moved to `done/` (something was taken) or `rejected/`
(nothing could be: not JSON, every line broken). Lines that were refused are
kept next to it in `rejected/NAME.rejected.jsonl` with line number and reason.
A file dropped again under the same name is a new file (moved as `NAME-1`,
...). Hidden files and `*.tmp`/`*.part` are left alone, so a producer can
write under a temporary name and rename when done.

Existing files are taken at start; then watchfiles reports new ones, and a
rescan every few seconds catches anything an event missed. If the intake is
stopped mid-file the file stays in the folder and is taken again at the next
start; the store's (source, id) dedupe makes that harmless.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import watchfiles

from crisis_tui.intake.backlog import is_document
from crisis_tui.intake.chunk import Chunk, Reject, SourceError, Stored
from crisis_tui.intake.lines import parse_document, parse_lines, raw_text
from crisis_tui.model import NewComment

SUFFIXES = frozenset({".jsonl", ".ndjson", ".json"})
#: Comments per chunk when a dropped file is large.
CHUNK_COMMENTS = 5000
MAX_FILE_BYTES = 512 << 20
RESCAN_SECONDS = 5.0


def eligible(path: Path) -> bool:
    name = path.name
    if name.startswith(".") or name.endswith(("~", ".tmp", ".part")):
        return False
    return path.suffix.lower() in SUFFIXES


def _free_name(folder: Path, name: str) -> Path:
    target = folder / name
    stem, suffix = os.path.splitext(name)
    number = 0
    while target.exists():
        number += 1
        target = folder / f"{stem}-{number}{suffix}"
    return target


class DropFolder:
    """`ingest INCIDENT FOLDER` (see the module docstring)."""

    def __init__(
        self,
        folder: Path,
        stop: asyncio.Event,
        *,
        report: Callable[[str], None],
        once: bool = False,
        settle: float = 0.2,
    ) -> None:
        if not folder.is_dir():
            raise SourceError(f"{folder}: no such folder")
        self.folder = folder
        self.name = folder.name
        self.stop = stop
        self.report = report
        self.once = once
        self.settle = settle
        self.size = None
        self.done_dir = folder / "done"
        self.rejected_dir = folder / "rejected"
        self._taken: set[Path] = set()

    def _pending(self) -> list[Path]:
        try:
            entries = [p for p in self.folder.iterdir() if p.is_file() and eligible(p)]
        except OSError as exc:
            raise SourceError(f"{self.folder}: cannot be read: {exc.strerror or exc}") from None
        entries = [p for p in entries if p not in self._taken]
        return sorted(entries, key=lambda p: (p.stat().st_mtime, p.name))

    async def _settled(self, path: Path) -> bool:
        """Whether the file stopped growing (and is not empty)."""
        try:
            before = path.stat()
            await asyncio.sleep(self.settle)
            after = path.stat()
        except FileNotFoundError:
            return False
        return after.st_size > 0 and (before.st_size, before.st_mtime_ns) == (after.st_size, after.st_mtime_ns)

    def _read(self, path: Path) -> tuple[list[NewComment], list[Reject]]:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            return [], [Reject(path.name, f"file is {size:,} bytes, the limit for a dropped file is {MAX_FILE_BYTES:,}", "")]
        data = path.read_bytes()
        if is_document(path):
            return parse_document(data, path.name)
        comments, rejects, _ = parse_lines(data.split(b"\n"), path.name, 1)
        return comments, rejects

    def _move(self, path: Path, taken: int, rejects: int) -> None:
        folder = self.done_dir if taken or not rejects else self.rejected_dir
        try:
            folder.mkdir(exist_ok=True)
            target = _free_name(folder, path.name)
            path.rename(target)
            self._taken.discard(path)
        except OSError as exc:
            self.report(f"{path.name}: cannot move it to {folder.name}/: {exc.strerror or exc}")
            return
        if folder is self.rejected_dir:
            self.report(f"{path.name}: nothing could be taken; moved to rejected/{target.name}")

    async def _take(self, path: Path) -> AsyncIterator[Chunk]:
        self._taken.add(path)
        try:
            comments, rejects = await asyncio.to_thread(self._read, path)
        except FileNotFoundError:
            return
        except OSError as exc:
            comments, rejects = [], [Reject(path.name, f"cannot be read: {exc.strerror or exc}", "")]
        except UnicodeDecodeError:
            comments, rejects = [], [Reject(path.name, "not UTF-8 text", raw_text(b""))]
        rejected_to = self.rejected_dir / f"{path.name}.rejected.jsonl"
        taken = 0
        slices = [comments[i : i + CHUNK_COMMENTS] for i in range(0, len(comments), CHUNK_COMMENTS)] or [[]]
        for index, part in enumerate(slices):
            last = index == len(slices) - 1

            async def done(stored: Stored, last: bool = last) -> None:
                nonlocal taken
                taken += stored.ingested + stored.duplicates
                if last:
                    await asyncio.to_thread(self._move, path, taken, len(rejects))

            yield Chunk(part, rejects if last else [], done=done, rejected_to=rejected_to)

    async def chunks(self) -> AsyncIterator[Chunk]:
        for path in self._pending():
            if self.stop.is_set():
                return
            if await self._settled(path):
                async for chunk in self._take(path):
                    yield chunk
        if self.once:
            return
        watcher = watchfiles.awatch(
            self.folder,
            stop_event=self.stop,
            recursive=False,
            debounce=200,
            step=50,
            rust_timeout=int(RESCAN_SECONDS * 1000),
            yield_on_timeout=True,
            watch_filter=lambda change, name: change != watchfiles.Change.deleted and eligible(Path(name)),
        )
        last_scan = time.monotonic()
        try:
            async for changes in watcher:
                candidates = {Path(name) for _, name in changes}
                if not changes or time.monotonic() - last_scan >= RESCAN_SECONDS:
                    candidates.update(self._pending())
                    last_scan = time.monotonic()
                for path in sorted(candidates):
                    if self.stop.is_set():
                        return
                    if path in self._taken or not path.is_file() or path.parent != self.folder:
                        continue
                    if await self._settled(path):
                        async for chunk in self._take(path):
                            yield chunk
        finally:
            with contextlib.suppress(Exception):
                await watcher.aclose()
