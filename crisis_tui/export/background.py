"""Writing files in a thread of its own, so the kernel's copying runs beside the encoding.

A json export of a million comments writes 1.6 GB to its file and about a gigabyte to its
spool; on ext4 the kernel spends roughly two seconds of system time a gigabyte taking them in
(measured with dd on the bench machine), time the encoding thread used to wait out inside
`write`. A write releases the GIL while the kernel works, so a second thread doing them leaves
the encoding free on the other core. The queue is short: what waits to be written stays a few
pages' worth of memory.
"""

from __future__ import annotations

import os
import queue
import threading
from types import TracebackType
from typing import IO

#: Bytes a copy between files moves a call.
_COPIED = 8 << 20

#: Pieces waiting at most: each a page of events or a run of comments (1.5 MB at 2,500), or a copy.
DEPTH = 3


class Writes:
    """Writes pieces to their files in the order given, in a daemon thread. A failed write is
    raised by the next call here (and the pieces after it are dropped)."""

    def __init__(self, depth: int = DEPTH) -> None:
        self._queue: queue.Queue[tuple[IO[bytes], bytes | memoryview | _Copy] | None] = queue.Queue(maxsize=depth)
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
                    if isinstance(data, _Copy):
                        data.into(file)
                    else:
                        _write_all(file, data)
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

    def copy(self, file: IO[bytes], source: IO[bytes], start: int, end: int) -> None:
        """Queue a copy of `source`'s bytes [start, end) (a file all written) to `file`, which the
        kernel makes without bringing them into Python where it can (copy_file_range)."""
        self._raise()
        self._queue.put((file, _Copy(source.fileno(), start, end)))

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


def _write_all(file: IO[bytes], data: bytes | memoryview) -> None:
    """`file.write` until all is written: an unbuffered file may take part of a piece."""
    view = memoryview(data)
    while view:
        written = file.write(view)
        if not written:
            raise OSError(f"{getattr(file, 'name', 'a file')} took none of {len(view)} bytes")
        view = view[written:]


class _Copy:
    """Bytes [start, end) of the file open as `source` (a descriptor), to be copied."""

    def __init__(self, source: int, start: int, end: int) -> None:
        self.source, self.start, self.end = source, start, end

    def into(self, file: IO[bytes]) -> None:
        start, end = self.start, self.end
        target = file.fileno()
        try:
            while start < end:
                moved = os.copy_file_range(self.source, target, min(_COPIED, end - start), start)
                if not moved:
                    break
                start += moved
        except OSError:  # not between these files (another file system, an old kernel): by hand
            pass
        while start < end:
            block = os.pread(self.source, min(_COPIED, end - start), start)
            if not block:
                raise OSError(f"the spool ended {end - start} bytes early")
            _write_all(file, block)
            start += len(block)
