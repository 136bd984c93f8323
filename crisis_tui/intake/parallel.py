"""The backlog's second process: it parses and reads slices of a big file while this one
triages and stores.

Python runs one thread at a time. At 10,000 lines a second, about half the
work per line needs nothing but the line: decoding the JSON, validating the
native shape, detecting the language, reading the words, the account's bot
signals, reach and velocity (`Pipeline.read`). That half moves to one worker
process, two slices ahead; this process keeps what needs memory of earlier
comments (clusters, posting bursts, spikes: `Pipeline.assess` with the
prepared halves) and the store, whose SQLite work runs in its own thread.
Slices go out as bytes and come back as msgpack decoded straight into typed
structs.

The worker is forked where the platform allows it (it starts in milliseconds
with the playbook and the language model already in memory), spawned
elsewhere; small files never start it.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import signal
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

import msgspec

from crisis_tui import language
from crisis_tui.intake.chunk import Reject, SourceError
from crisis_tui.intake.lines import parse_lines
from crisis_tui.intake.pipeline import Pipeline
from crisis_tui.model import NewComment
from crisis_tui.playbook import Playbook
from crisis_tui.triage import Prepared

#: Files smaller than this are read in a thread: a second process would not pay off.
MIN_BYTES = 2 << 20


class SliceResult(msgspec.Struct, array_like=True):
    comments: list[NewComment]
    prepared: list[Prepared]
    rejects: list[tuple[str, str, str]]


_ENCODE = msgspec.msgpack.Encoder().encode
_DECODE = msgspec.msgpack.Decoder(SliceResult).decode
_worker: Pipeline | None = None


def _start(book: Playbook) -> None:
    global _worker
    # Ctrl-C reaches the whole process group: the intake stops cleanly, the worker is told by it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _worker = Pipeline(book)
    language.warm(_worker.guesser.languages)


def _read_slice(data: bytes, name: str, first_line: int) -> bytes:
    assert _worker is not None
    lines = data.split(b"\n")
    if lines and not lines[-1]:
        lines.pop()
    comments, rejects, _ = parse_lines(lines, name, first_line)
    prepared = _worker.read(comments)
    for alone in prepared:
        alone.reading.found = []  # explanations are not stored: not worth sending back
    return _ENCODE(SliceResult(comments, prepared, [(r.where, r.reason, r.raw) for r in rejects]))


def line_count(data: bytes) -> int:
    """Physical lines in a slice (the last one may lack its newline at the end of the file)."""
    return data.count(b"\n") + (0 if not data or data.endswith(b"\n") else 1)


class SliceReader:
    """One worker process reading slices; `read` is awaited from the event loop."""

    def __init__(self, book: Playbook) -> None:
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
        self._pool = ProcessPoolExecutor(1, mp_context=context, initializer=_start, initargs=(book,))

    async def read(self, data: bytes, name: str, first_line: int) -> tuple[list[NewComment], list[Reject], list[Prepared]]:
        try:
            raw = await asyncio.get_running_loop().run_in_executor(self._pool, _read_slice, data, name, first_line)
        except BrokenProcessPool:
            raise SourceError(
                f"{name}: the intake's worker process died near line {first_line}; "
                "what was stored is kept, run the same command again to take the rest"
            ) from None
        result = _DECODE(raw)
        return result.comments, [Reject(*r) for r in result.rejects], result.prepared

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
