"""Group commit for the webhook: concurrent ingest requests share one transaction.

A store transaction costs about a millisecond before its first row (lock,
BEGIN, incident check, dedupe lookups, ids, chain head, COMMIT), as much as
25 comments do. Requests that arrive while a transaction runs wait for it
anyway; here they go into the next one together (up to `MAX_GROUP` comments),
so a busy webhook pays that millisecond once per group, not once per request.
Nothing waits on a timer: a request alone is written at once.

Every request still gets its own answer after COMMIT: the comments the store
took get consecutive ids in input order, so each request's ids are found by
replaying the de-duplication over the group, and when some comments were
already stored before (a retried batch) by reading back the new ids' keys.
Groups are per (incident, actor), since the actor goes on every event. A group
that fails is retried request by request, so one bad batch fails only itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field

from crisis_tui.model import IngestResult, NewComment
from crisis_tui.store.sqlite import SqliteStore

MAX_GROUP = 2000
Key = tuple[str, str]


@dataclass
class _Waiting:
    comments: Sequence[NewComment]
    done: asyncio.Future[IngestResult]


@dataclass
class _Queue:
    waiting: list[_Waiting] = field(default_factory=list)
    running: bool = False
    task: asyncio.Task[None] | None = None


class GroupCommit:
    """`ingest` like SqliteStore.ingest, sharing transactions between concurrent callers."""

    def __init__(self, writer: SqliteStore, reader: SqliteStore) -> None:
        self._writer = writer
        self._reader = reader
        self._queues: dict[Key, _Queue] = {}

    async def ingest(self, incident_id: str, comments: Sequence[NewComment], *, actor: str) -> IngestResult:
        key = (incident_id, actor)
        queue = self._queues.setdefault(key, _Queue())
        done: asyncio.Future[IngestResult] = asyncio.get_running_loop().create_future()
        queue.waiting.append(_Waiting(comments, done))
        if not queue.running:
            queue.running = True
            queue.task = asyncio.create_task(self._drain(key, queue))
        return await done

    async def _drain(self, key: Key, queue: _Queue) -> None:
        try:
            while queue.waiting:
                group = [queue.waiting.pop(0)]
                size = len(group[0].comments)
                while queue.waiting and size + len(queue.waiting[0].comments) <= MAX_GROUP:
                    size += len(queue.waiting[0].comments)
                    group.append(queue.waiting.pop(0))
                await self._write(key, group)
        finally:
            queue.running = False
            if not queue.waiting:
                self._queues.pop(key, None)

    async def _write(self, key: Key, group: list[_Waiting]) -> None:
        incident_id, actor = key
        combined = [c for w in group for c in w.comments]
        try:
            result = await self._writer.ingest(incident_id, combined, actor=actor)
            answers = await self._split(incident_id, group, result)
        except asyncio.CancelledError:
            for w in group:
                w.done.cancel()
            raise
        except Exception as exc:  # noqa: BLE001 - every waiter gets its own failure
            if len(group) == 1:
                if not group[0].done.done():
                    group[0].done.set_exception(exc)
                return
            # The group rolled back whole: write each request alone, so one poisoned
            # batch fails only itself and its innocent neighbours are still taken.
            for w in group:
                await self._write(key, [w])
            return
        for w, answer in zip(group, answers, strict=True):
            if not w.done.done():
                w.done.set_result(answer)

    async def _split(self, incident_id: str, group: list[_Waiting], result: IngestResult) -> list[IngestResult]:
        """Each request's share of the group's result."""
        if len(group) == 1:
            return [result]
        if len(result.ids) == sum(len(w.comments) for w in group):
            # Every comment was new (no retry, no copy within the group): each request's ids
            # are its share of the run, in order, found without a set of every key.
            shares: list[IngestResult] = []
            start = 0
            for w in group:
                share = result.ids[start : start + len(w.comments)]
                start += len(w.comments)
                shares.append(IngestResult(ingested=len(share), duplicates=0, ids=share))
            return shares
        seen: set[tuple[str, str]] = set()
        firsts = 0
        for w in group:
            for c in w.comments:
                k = (c.source, c.external_id)
                if k not in seen:
                    seen.add(k)
                    firsts += 1
        if len(result.ids) == firsts:
            taken = seen
        else:
            stored = await self._reader.comments(incident_id, after_id=result.ids[0] - 1, limit=len(result.ids)) \
                if result.ids else []
            taken = {(c.source, c.external_id) for c in stored}
        ids = iter(result.ids)
        answers: list[IngestResult] = []
        claimed: set[tuple[str, str]] = set()
        for w in group:
            mine: list[int] = []
            duplicates = 0
            for c in w.comments:
                k = (c.source, c.external_id)
                if k in taken and k not in claimed:
                    claimed.add(k)
                    mine.append(next(ids))
                else:
                    duplicates += 1
            answers.append(IngestResult(ingested=len(mine), duplicates=duplicates, ids=mine))
        return answers
