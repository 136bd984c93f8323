"""Writing files in a thread of its own, so the kernel's copying runs beside the encoding.

A json export of a million comments writes 1.6 GB to its file and about a gigabyte to its
spool; on ext4 the kernel spends roughly two seconds of system time a gigabyte taking them in
(measured with dd on the bench machine), time the encoding thread used to wait out inside
`write`. A write releases the GIL while the kernel works, so a second thread doing them leaves
the encoding free on the other core. The queue is short: what waits to be written stays a few
pages' worth of memory.
"""

from __future__ import annotations

import queue
import threading
from types import TracebackType
from typing import IO

#: Pieces waiting at most: a few pages of events (about 3 MB each) or spool blocks.
DEPTH = 6


class Writes:
    """Writes pieces to their files in the order given, in a daemon thread. A failed write is
    raised by the next call here (and the pieces after it are dropped)."""

    def __init__(self, depth: int = DEPTH) -> None:
        self._queue: queue.Queue[tuple[IO[bytes], bytes | memoryview] | None] = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="export-writes", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is None:
                    return
                if self._error is None:
                    file, data = item
                    file.write(data)
            except BaseException as exc:  # noqa: BLE001 - handed to the encoding thread
                self._error = exc
            finally:
                self._queue.task_done()

    def _raise(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def write(self, file: IO[bytes], data: bytes | memoryview) -> None:
        """Queue `data` for `file` (waits while the queue is full)."""
        self._raise()
        self._queue.put((file, data))

    def drain(self) -> None:
        """Wait until everything queued is written (before reading a file back)."""
        self._queue.join()
        self._raise()

    def close(self) -> None:
        """Write what is queued and stop the thread."""
        self._queue.put(None)
        self._thread.join()
        self._raise()

    def __enter__(self) -> Writes:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc is None:
            self.close()
            return
        self._error = self._error or exc  # stop writing: the file is thrown away
        self._queue.put(None)
        self._thread.join()
