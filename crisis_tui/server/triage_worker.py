"""The webhook's triage in a process of its own, where the machine has a core to spare.

Triage is pure Python and costs about as much CPU per comment as parsing,
checking and storing it together (bench/http.py: 27-34 us of 63 us). Run in the
server's process it halves what one `serve` takes and blocks the event loop
while it reads a batch; in a worker process it runs beside the server on the
other core, and the server pays only for handing the batch over.

The hand-over is two pipes driven by the event loop itself: a batch goes out
as one frame (its comments as JSON) and its scores come back as one msgpack
frame. A ProcessPoolExecutor was tried first: its queue threads and pickling
cost the server about 10 us a comment, most of what the worker saved.

One worker holds every incident's pipeline (clusters, posting bursts, the spike
baseline), so what it remembers is exactly what WebhookTriage would have
remembered in the server; batches reach it and come back in the order they
were handed over. It starts on the first batch that needs it (a server that
never takes webhook comments never starts it). If it dies, the batches it held
are triaged again in the server's process, and so is everything after: no
comment is refused or stored untriaged for it, and the log says so once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import pickle
import signal
import struct
import sys
from collections import deque
from typing import BinaryIO

import msgspec

from crisis_tui.model import NewComment
from crisis_tui.playbook import Playbook
from crisis_tui.server.webhook import WebhookTriage

log = logging.getLogger("crisis_tui.server")
_LENGTH = struct.Struct("!I")


class Scores(msgspec.Struct, array_like=True, gc=False):
    """What triage adds to one comment (its language too, detected when it came without one)."""

    lang: str
    negativity: float
    bot_score: float
    bot_reasons: list[str]
    cluster: str
    priority: float


class Answer(msgspec.Struct, array_like=True):
    scores: list[Scores]
    #: The spike alert's payload when this batch made the stream spike.
    spike: dict[str, object] | None


class Batch(msgspec.Struct, array_like=True):
    incident_id: str
    #: The comments as JSON (their `extra` may hold what msgpack cannot: integers past 64 bits).
    comments: bytes


_ENCODE_JSON = msgspec.json.Encoder().encode
_ENCODE = msgspec.msgpack.Encoder().encode
_DECODE_ANSWER = msgspec.msgpack.Decoder(Answer).decode


def _frame(data: bytes) -> bytes:
    return _LENGTH.pack(len(data)) + data


class WorkerDied(Exception):
    pass


class TriageWorker:
    """WebhookTriage's work done by one child process (see the module docstring)."""

    def __init__(self, playbook: Playbook) -> None:
        self.playbook = playbook
        self._proc: asyncio.subprocess.Process | None = None
        self._starting: asyncio.Lock | None = None
        self._waiting: deque[asyncio.Future[bytes]] = deque()
        self._reader: asyncio.Task[None] | None = None
        self._here: WebhookTriage | None = None

    async def start(self) -> None:
        """Start the worker now rather than on the first batch (it takes about a second)."""
        if self._proc is not None or self._here is not None:
            return
        if self._starting is None:
            self._starting = asyncio.Lock()
        async with self._starting:
            if self._proc is not None or self._here is not None:
                return
            try:
                proc = await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "crisis_tui.server.triage_worker",
                    stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
            except OSError as exc:
                self._fall_back(f"the triage worker could not start ({exc})")
                return
            assert proc.stdin is not None
            proc.stdin.write(_frame(pickle.dumps(self.playbook)))
            self._proc = proc
            self._reader = asyncio.create_task(self._answers(proc))

    async def _answers(self, proc: asyncio.subprocess.Process) -> None:
        """Hand each answer to the batch that waits longest (answers come back in order)."""
        assert proc.stdout is not None
        try:
            while True:
                (size,) = _LENGTH.unpack(await proc.stdout.readexactly(_LENGTH.size))
                data = await proc.stdout.readexactly(size)
                future = self._waiting.popleft()
                if not future.done():
                    future.set_result(data)
        except (asyncio.IncompleteReadError, ConnectionError, IndexError):
            pass
        finally:
            if self._proc is proc:
                self._fall_back("the triage worker process stopped")
            while self._waiting:
                future = self._waiting.popleft()
                if not future.done():
                    future.set_exception(WorkerDied())

    def _fall_back(self, why: str) -> None:
        if self._here is None:
            log.error("%s; triaging in the server's process from now on "
                      "(clusters and bursts start again from here)", why)
            self._here = WebhookTriage(self.playbook)
        self._proc = None

    async def assess(self, incident_id: str, comments: list[NewComment]) -> tuple[list[NewComment], dict[str, object] | None]:
        """The comments with their scores, and a spike alert's payload when they made one."""
        await self.start()
        proc = self._proc
        if proc is not None and proc.stdin is not None:
            future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
            try:
                proc.stdin.write(_frame(_ENCODE(Batch(incident_id, _ENCODE_JSON(comments)))))
            except (ConnectionError, RuntimeError):
                self._fall_back("the triage worker process stopped")
            else:
                self._waiting.append(future)
                try:
                    answer = _DECODE_ANSWER(await future)
                except WorkerDied:
                    pass
                else:
                    for comment, s in zip(comments, answer.scores, strict=True):
                        comment.lang, comment.negativity, comment.bot_score = s.lang, s.negativity, s.bot_score
                        comment.bot_reasons, comment.cluster, comment.priority = s.bot_reasons, s.cluster, s.priority
                    return comments, answer.spike
        assert self._here is not None
        return self._here.prepare(incident_id, comments), self._here.spike_alert(incident_id)

    async def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            await asyncio.wait_for(proc.wait(), 5)
        except TimeoutError:
            proc.kill()
            await proc.wait()
        if self._reader is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader


def _serve(stdin: BinaryIO, stdout: BinaryIO) -> None:
    """The worker's loop: the playbook first, then batches until the server closes the pipe."""
    read, write, flush = stdin.read, stdout.write, stdout.flush

    def frame() -> bytes | None:
        head = read(_LENGTH.size)
        if len(head) < _LENGTH.size:
            return None
        (size,) = _LENGTH.unpack(head)
        return bytes(read(size))

    first = frame()
    if first is None:
        return
    triage = WebhookTriage(pickle.loads(first))  # noqa: S301 - our own parent's playbook, through our own pipe
    decode_batch = msgspec.msgpack.Decoder(Batch).decode
    decode_comments = msgspec.json.Decoder(list[NewComment]).decode
    while (data := frame()) is not None:
        batch = decode_batch(data)
        comments = triage.prepare(batch.incident_id, decode_comments(batch.comments))
        scores = [Scores(c.lang, c.negativity, c.bot_score, c.bot_reasons, c.cluster, c.priority) for c in comments]
        write(_frame(_ENCODE(Answer(scores, triage.spike_alert(batch.incident_id)))))
        flush()


if __name__ == "__main__":
    # Ctrl-C reaches the whole process group: the server stops its worker itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    answers = sys.stdout.buffer
    sys.stdout = sys.stderr  # a stray print must not land inside a frame
    _serve(sys.stdin.buffer, answers)
