"""Comments piped in on standard input, one JSON object a line (`tool | crisis-tui ingest room.db -`).

A thread reads whatever the pipe has (`os.read`, so a trickle from `tail -f`
is taken line by line without waiting for a full buffer, and a fast producer
is taken a megabyte at a time); complete lines become a chunk at once. Lines
are numbered from 1 ("stdin:12"). With a mapping, every line is a platform's
answer or event (a Jetstream event, an API page) read through it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import threading
from collections.abc import AsyncIterator

from crisis_tui.intake.chunk import Chunk
from crisis_tui.intake.follow import LineSplitter
from crisis_tui.intake.lines import parse_lines, parse_mapped_lines
from crisis_tui.intake.mapping import Mapping

READ_BYTES = 1 << 20


class StdinLines:
    def __init__(
        self, stop: asyncio.Event, fd: int | None = None, *, name: str = "stdin", mapping: Mapping | None = None
    ) -> None:
        self.stop = stop
        self.fd = sys.stdin.fileno() if fd is None else fd
        self.name = name
        self.mapping = mapping
        self.size = None

    def _reader(self, loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[bytes]) -> None:
        """A daemon thread: a read blocked on a quiet pipe must not keep the process alive."""
        while True:
            try:
                data = os.read(self.fd, READ_BYTES)
            except OSError:
                data = b""
            with contextlib.suppress(RuntimeError):  # the loop closed: we are exiting
                loop.call_soon_threadsafe(queue.put_nowait, data)
            if not data:
                return

    async def chunks(self) -> AsyncIterator[Chunk]:
        splitter = LineSplitter()
        line = 1
        queue: asyncio.Queue[bytes] = asyncio.Queue()
        threading.Thread(target=self._reader, args=(asyncio.get_running_loop(), queue), daemon=True).start()
        stopped = asyncio.ensure_future(self.stop.wait())
        while True:
            got = asyncio.ensure_future(queue.get())
            await asyncio.wait({got, stopped}, return_when=asyncio.FIRST_COMPLETED)
            if not got.done():
                got.cancel()
                return  # stopped: a line being typed is not taken
            data = got.result()
            lines = splitter.feed(data) if data else splitter.flush()
            if lines and self.mapping is not None:
                mapped, count = await asyncio.to_thread(parse_mapped_lines, lines, self.name, line, self.mapping)
                line += count
                yield Chunk(mapped.comments, mapped.rejects, skipped=mapped.skipped, replies=mapped.replies)
            elif lines:
                comments, rejects, count = await asyncio.to_thread(parse_lines, lines, self.name, line)
                line += count
                yield Chunk(comments, rejects)
            if not data:
                stopped.cancel()
                return
