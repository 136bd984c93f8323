"""The backlog's second process: it parses and triages slices of a big file while this one stores.

Python runs one thread at a time, and at 10,000 lines a second the store alone
keeps this process busy. So for a big file one worker process takes the whole
pipeline for the run: it decodes and validates each line, detects the
language, reads the words and triages (clusters, posting bursts, spikes: it
sees every comment in order, so its memory is exactly what this process's
would have been). Slices go out as bytes and come back as msgpack decoded
straight into typed structs, triage fields filled, with a spike alert when
there is one. At the end the worker hands its pipeline state back, so this
process goes on knowing the clusters it found.

The worker is forked where the platform allows it (it starts in milliseconds
with the playbook, the warmed pipeline and the language model already in
memory), spawned elsewhere; small files never start it.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import pickle
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

import msgspec

from crisis_tui import language
from crisis_tui.intake.chunk import Reject, SourceError
from crisis_tui.intake.lines import parse_lines
from crisis_tui.intake.pipeline import Pipeline
from crisis_tui.model import NewComment

#: Files smaller than this are read in a thread: a second process would not pay off.
MIN_BYTES = 2 << 20


class SliceResult(msgspec.Struct, array_like=True):
    comments: list[NewComment]
    rejects: list[tuple[str, str, str]]
    alert: dict[str, object] | None


_ENCODE = msgspec.msgpack.Encoder().encode
_DECODE = msgspec.msgpack.Decoder(SliceResult).decode
_worker: Pipeline | None = None


def _start(pipeline: Pipeline) -> None:
    global _worker
    _worker = pipeline
    language.warm(pipeline.guesser.languages)


def _read_slice(data: bytes, name: str, first_line: int) -> bytes:
    assert _worker is not None
    lines = data.split(b"\n")
    if lines and not lines[-1]:
        lines.pop()
    comments, rejects, _ = parse_lines(lines, name, first_line)
    if comments:
        _worker.assess(comments)
    alert = _worker.spike_alert() if comments else None
    return _ENCODE(SliceResult(comments, [(r.where, r.reason, r.raw) for r in rejects], alert))


def _state() -> bytes:
    assert _worker is not None
    return pickle.dumps((_worker.triager, _worker.spikes))


def line_count(data: bytes) -> int:
    """Physical lines in a slice (the last one may lack its newline at the end of the file)."""
    return data.count(b"\n") + (0 if not data or data.endswith(b"\n") else 1)


class SliceReader:
    """One worker process owning `pipeline` for the run; `read` is awaited from the event loop."""

    def __init__(self, pipeline: Pipeline) -> None:
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
        self.pipeline = pipeline
        self._pool = ProcessPoolExecutor(1, mp_context=context, initializer=_start, initargs=(pipeline,))

    async def read(self, data: bytes, name: str, first_line: int) -> tuple[list[NewComment], list[Reject], dict[str, object] | None]:
        try:
            raw = await asyncio.get_running_loop().run_in_executor(self._pool, _read_slice, data, name, first_line)
        except BrokenProcessPool:
            raise SourceError(
                f"{name}: the intake's worker process died near line {first_line}; "
                "what was stored is kept, run the same command again to take the rest"
            ) from None
        result = _DECODE(raw)
        return result.comments, [Reject(*r) for r in result.rejects], result.alert

    async def finish(self) -> None:
        """Take the worker's clusters, bursts and spike history back into this process's pipeline."""
        state = await asyncio.get_running_loop().run_in_executor(self._pool, _state)
        self.pipeline.triager, self.pipeline.spikes = pickle.loads(state)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
