"""Waking subscribers when another process appends to the same SQLite file.

Two ways were measured (bench/store.py prints both): inotify on the file's
-wal via watchfiles with step=1 wakes in ~2 ms at well under 1% of a core;
polling PRAGMA data_version every 20 ms costs ~19 ms of latency. The watcher is
the default; the poller remains for filesystems without inotify (NFS), chosen
with CRISIS_TUI_WAKE=poll. Writes from this process wake subscribers directly.

The watcher runs while someone subscribes: the last subscriber to leave stops it. Left
running, it woke the process on every write of its own to the WAL, for nobody (bench/http.py:
about 5 us of a webhook comment's server CPU, in the watcher's thread, the reader's and the
event loop, for as long as the server ran after its last live reader left).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Awaitable, Callable
from pathlib import Path

import watchfiles


class Waker:
    """A generation counter that bumps when the database may have new events."""

    def __init__(self) -> None:
        self.generation = 0
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()
        self._closed = False
        #: Subscribers watching now.
        self.watching = 0

    def bump(self) -> None:
        self.generation += 1
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait(self, seen: int, timeout: float) -> int:
        """Wait until the generation passes `seen` (or the timeout); return the new one."""
        if self.generation == seen:
            changed = self._changed
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(changed.wait(), timeout)
        return self.generation

    def start_watching(self, db_path: Path, poll: Callable[[], Awaitable[int]] | None = None) -> None:
        """One more subscriber: watch the file's WAL (default) or poll data_version (CRISIS_TUI_WAKE=poll),
        unless a watch runs already. Each call is paired with a `stop_watching`."""
        self.watching += 1
        if self._task is not None or self._closed:
            return
        self._stop = asyncio.Event()
        mode = os.environ.get("CRISIS_TUI_WAKE", "watch")
        if mode == "poll" and poll is not None:
            self._task = asyncio.create_task(self._poll(poll))
        else:
            self._task = asyncio.create_task(self._watch(db_path))

    async def _watch(self, db_path: Path) -> None:
        names = {db_path.name, db_path.name + "-wal"}

        def ours(_change: watchfiles.Change, path: str) -> bool:
            return os.path.basename(path) in names

        try:
            async for _ in watchfiles.awatch(
                db_path.parent,
                watch_filter=ours,
                step=1,
                debounce=5,
                stop_event=self._stop,
                recursive=False,
                rust_timeout=1000,
            ):
                self.bump()
        except (OSError, RuntimeError):
            # No inotify here (or the folder vanished): subscribers fall back to their timeout poll.
            return

    async def _poll(self, poll: Callable[[], Awaitable[int]]) -> None:
        last = await poll()
        while not self._stop.is_set():
            await asyncio.sleep(0.02)
            now = await poll()
            if now != last:
                last = now
                self.bump()

    def stop_watching(self) -> None:
        """One subscriber gone; the last one stops the watch (the next subscriber starts another)."""
        self.watching = max(0, self.watching - 1)
        if self.watching == 0 and self._task is not None:
            self._stop.set()
            self._task.cancel()
            self._task = None

    async def stop(self) -> None:
        self._closed = True
        self._stop.set()
        self._changed.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None
