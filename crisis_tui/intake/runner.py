"""Drive one source into the store: triage, store in batches, keep rejects, report.

Two tasks overlap: while the store commits one chunk (SQLite works in its own
thread and releases the GIL), the next chunk is parsed and triaged in a worker
thread. A queue of two chunks keeps memory flat on a backlog of millions of
lines. Rejects are reported (one line each, with where and why) and kept in
the rejected file after the chunk around them was stored; then the chunk's
`done` lets the source persist its position.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from crisis_tui.errors import CrisisError
from crisis_tui.events import encode
from crisis_tui.intake.chunk import Chunk, Stored
from crisis_tui.intake.pipeline import Pipeline
from crisis_tui.intake.rejects import RejectLog
from crisis_tui.store.protocol import IncidentStore

#: Largest batch handed to the store at once (one transaction).
STORE_BATCH = 2000


@dataclass
class Tally:
    ingested: int = 0
    duplicates: int = 0
    rejected: int = 0
    alerts: int = 0
    skipped: int = 0
    #: Comments read as replies under another item (for the "read as ..." line, not the summary).
    replies: int = 0

    @property
    def taken(self) -> int:
        return self.ingested + self.duplicates

    def summary(self) -> str:
        line = f"ingested {self.ingested}, duplicates {self.duplicates}, rejected {self.rejected}"
        return f"{line}, skipped {self.skipped}" if self.skipped else line


class Runner:
    def __init__(
        self,
        store: IncidentStore,
        incident_id: str,
        pipeline: Pipeline,
        rejects: RejectLog,
        *,
        report: Callable[[str], None],
        progress: Callable[[int], None] | None = None,
        actor: str = "intake",
        stop: asyncio.Event | None = None,
    ) -> None:
        self.store = store
        self.incident_id = incident_id
        self.pipeline = pipeline
        self.rejects = rejects
        self.report = report
        self.progress = progress
        self.actor = actor
        self.stop = stop
        self.tally = Tally()

    async def run(self, chunks: AsyncIterator[Chunk]) -> Tally:
        """Take everything the source yields (or until `stop` is set: the chunk being stored
        is finished first). A CrisisError from the source ends the run after what was
        already read is stored, and is raised again for the command to report."""
        queue: asyncio.Queue[Chunk | None] = asyncio.Queue(maxsize=2)
        failure: list[BaseException] = []

        async def produce() -> None:
            # The end-of-source marker is not put from a `finally`: when the consumer
            # stops (Ctrl-C) it cancels this task, possibly while the queue is full,
            # and waiting there for room would never end.
            try:
                async for chunk in chunks:
                    if chunk.comments:
                        await asyncio.to_thread(self.pipeline.assess, chunk.comments, None, chunk.prepared)
                        chunk.alert = self.pipeline.spike()
                    await queue.put(chunk)
            except asyncio.CancelledError:
                raise
            except (CrisisError, OSError) as exc:
                failure.append(exc)
            except Exception as exc:  # a bug: end the run and let it surface
                failure.append(exc)
            await queue.put(None)

        producer = asyncio.create_task(produce())
        try:
            while (chunk := await queue.get()) is not None:
                await self._store(chunk)
                if self.stop is not None and self.stop.is_set():
                    break
        finally:
            if not producer.done():
                producer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await producer
            with contextlib.suppress(Exception):
                await chunks.aclose()  # type: ignore[attr-defined]
        if failure:
            raise failure[0]
        return self.tally

    async def _store(self, chunk: Chunk) -> None:
        ingested = duplicates = 0
        for start in range(0, len(chunk.comments), STORE_BATCH):
            result = await self.store.ingest(
                self.incident_id, chunk.comments[start : start + STORE_BATCH], actor=self.actor
            )
            ingested += result.ingested
            duplicates += result.duplicates
        if chunk.alert is not None:
            await self.store.alert(self.incident_id, *encode(chunk.alert), actor=self.actor)
            self.tally.alerts += 1
            self.report(
                f"spike: {chunk.alert.per_minute}/min against a baseline of "
                f"{chunk.alert.baseline}/min (x{chunk.alert.factor})"
            )
        for reject in chunk.rejects:
            self.report(reject.message())
        self.rejects.write(chunk.rejects, chunk.rejected_to)
        self.tally.ingested += ingested
        self.tally.duplicates += duplicates
        self.tally.rejected += len(chunk.rejects)
        self.tally.skipped += chunk.skipped
        self.tally.replies += chunk.replies
        if chunk.done is not None:
            await chunk.done(Stored(ingested, duplicates, len(chunk.rejects)))
        if self.progress is not None and chunk.position:
            self.progress(chunk.position)
