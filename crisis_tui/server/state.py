"""What every request shares: the stores, the tokens, the limits.

The server keeps two connections to the file. Commands go to the writer; every
read and every event stream goes to a read-only connection, which sees only
committed transactions. (One shared connection would let a stream read events
of a transaction still open on it, and a crash before COMMIT would then have
shown clients events that never existed.)
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from crisis_tui.errors import PlaybookError
from crisis_tui.playbook_watch import watch_playbook
from crisis_tui.server.auth import Authenticator
from crisis_tui.server.group_commit import GroupCommit
from crisis_tui.server.ratelimit import RateLimiter
from crisis_tui.server.settings import ServerSettings
from crisis_tui.server.stream_cap import StreamCounter
from crisis_tui.server.triage_worker import TriageWorker
from crisis_tui.server.webhook import WebhookTriage
from crisis_tui.store.sqlite import SqliteStore
from crisis_tui.tokens import TokenBook


@dataclass
class ServerState:
    writer: SqliteStore
    reader: SqliteStore
    tokens: TokenBook
    auth: Authenticator
    limiter: RateLimiter
    settings: ServerSettings
    triage: WebhookTriage | TriageWorker | None = None
    _known: set[str] = field(default_factory=set)
    closing: asyncio.Event = field(default_factory=asyncio.Event)
    """Set when the server is stopping: live streams end so their clients reconnect at once."""
    _seat_locks: dict[str, asyncio.Lock] = field(default_factory=dict)
    started_at: float = field(default_factory=time.time)
    """Since when clients could reach this server: nobody is timed out for heartbeats they
    could not send while it was down (a restart must not rewrite presence history)."""
    group: GroupCommit = field(init=False)
    streams: StreamCounter = field(init=False)

    def __post_init__(self) -> None:
        self.group = GroupCommit(self.writer, self.reader)
        self.streams = StreamCounter(self.settings.max_streams)

    async def require_incident(self, incident_id: str) -> None:
        """NotFound for an incident the file does not hold (incidents are never deleted)."""
        if incident_id in self._known:
            return
        await self.reader.get_incident(incident_id)
        self._known.add(incident_id)

    def seat_lock(self, name: str) -> asyncio.Lock:
        """Held while a member's seat is checked and used (join, vote, approve), so another token
        of the same name cannot change that seat between the check and the write."""
        lock = self._seat_locks.get(name)
        if lock is None:
            lock = self._seat_locks[name] = asyncio.Lock()
        return lock

    def remember(self, incident_id: str) -> None:
        self._known.add(incident_id)

    async def follow_playbook(self, path: Path, stop: asyncio.Event) -> None:
        """Judge with each good edit of the playbook file, as the rooms do (a broken edit keeps the last good one)."""
        log = logging.getLogger("crisis_tui.server")
        async for item in watch_playbook(path, stop):
            if isinstance(item, PlaybookError):
                log.error("playbook not reloaded (keeping the last good one): %s", item)
                continue
            self.writer.use_playbook(item)
            self.reader.use_playbook(item)
            log.info("playbook reloaded from %s", path)

    async def close(self) -> None:
        if isinstance(self.triage, TriageWorker):
            await self.triage.close()
        await self.reader.close()
        await self.writer.close()
        await self.tokens.close()
