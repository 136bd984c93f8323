"""The webhook's triage in a process of its own, where the machine has a core to spare.

Triage is pure Python and costs about as much CPU per comment as parsing,
checking and storing it together (bench/http.py: 27-34 us of 63 us). Run in the
server's process it halves what one `serve` takes and blocks the event loop
while it reads a batch; in a worker process it runs beside the server on the
other core, and the server pays only for handing the batch over.

The hand-over is two pipes driven by the event loop itself. A request's body
goes out as it came (one msgpack frame: the incident, the preset, the batch cap
and the raw bytes) and the worker reads it as the server would have
(crisis_tui.server.webhook.read), scores it and sends the comments back
whole, as one JSON frame (their `extra` may hold what msgpack cannot:
integers past 64 bits). The server decodes that frame straight into
NewComment structs: reading and checking a native comment costs about 10 us
of pure Python, decoding one about 1 us, so the server's share of a triaged
comment is the store's work and little else. A body the worker cannot read
(a refusal, or any other error) comes back as `Unread`, and the server reads
it itself to raise exactly the error it always did; nothing of it reached the
pipeline. A ProcessPoolExecutor was tried first: its queue threads and
pickling cost the server about 10 us a comment, most of what the worker saved.

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
from crisis_tui.server.webhook import read as read_body

log = logging.getLogger("crisis_tui.server")
_LENGTH = struct.Struct("!I")


class Batch(msgspec.Struct, array_like=True):
    """One request's body, for the worker to read and score."""

    incident_id: str
    #: The platform preset it is read with (crisis_tui.server.platform_webhook); None: the native shape.
    preset: str | None
    max_batch: int
    body: bytes


class Triaged(msgspec.Struct, array_like=True, tag="triaged"):
    """The body's comments, scored."""

    comments: list[NewComment]
    #: The spike alert's payload when this batch made the stream spike.
    spike: dict[str, object] | None


class Unread(msgspec.Struct, array_like=True, tag="unread"):
    """The worker could not read the body: the server reads it itself, for its own error."""


_ENCODE = msgspec.msgpack.Encoder().encode
_ENCODE_ANSWER = msgspec.json.Encoder().encode
_DECODE_ANSWER = msgspec.json.Decoder(Triaged | Unread).decode


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

    async def read(self, incident_id: str, body: bytes, preset: str | None,
                   max_batch: int) -> tuple[list[NewComment], dict[str, object] | None]:
        """WebhookTriage.read's answer, from the worker's process: a body's comments with their
        scores, and a spike alert's payload when they made one."""
        await self.start()
        proc = self._proc
        if proc is not None and proc.stdin is not None:
            future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
            try:
                proc.stdin.write(_frame(_ENCODE(Batch(incident_id, preset, max_batch, body))))
            except (ConnectionError, RuntimeError):
                self._fall_back("the triage worker process stopped")
            else:
                self._waiting.append(future)
                try:
                    answer = _DECODE_ANSWER(await future)
                except WorkerDied:
                    pass
                else:
                    if isinstance(answer, Triaged):
                        return answer.comments, answer.spike
                    read_body(body, preset, max_batch)  # raises what the worker met
                    raise RuntimeError("the triage worker could not read a body that this server reads")
        assert self._here is not None
        return self._here.score(incident_id, read_body(body, preset, max_batch))

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
    while (data := frame()) is not None:
        batch = decode_batch(data)
        try:
            comments = read_body(batch.body, batch.preset, batch.max_batch)
        except Exception:  # noqa: BLE001 - the server reads it again and answers with the error itself
            answer: Triaged | Unread = Unread()
        else:
            answer = Triaged(*triage.score(batch.incident_id, comments))
        write(_frame(_ENCODE_ANSWER(answer)))
        flush()


if __name__ == "__main__":
    # Ctrl-C reaches the whole process group: the server stops its worker itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    answers = sys.stdout.buffer
    sys.stdout = sys.stderr  # a stray print must not land inside a frame
    _serve(sys.stdin.buffer, answers)
