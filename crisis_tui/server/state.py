"""What every request shares: the stores, the tokens, the limits.

The server keeps two connections to the file. Commands go to the writer; every
read and every event stream goes to a read-only connection, which sees only
committed transactions. (One shared connection would let a stream read events
of a transaction still open on it, and a crash before COMMIT would then have
shown clients events that never existed.)
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from crisis_tui.server.auth import Authenticator
from crisis_tui.server.group_commit import GroupCommit
from crisis_tui.server.ratelimit import RateLimiter
from crisis_tui.server.settings import ServerSettings
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
    triage: WebhookTriage | None = None
    _known: set[str] = field(default_factory=set)
    closing: asyncio.Event = field(default_factory=asyncio.Event)
    """Set when the server is stopping: live streams end so their clients reconnect at once."""
    group: GroupCommit = field(init=False)

    def __post_init__(self) -> None:
        self.group = GroupCommit(self.writer, self.reader)

    async def require_incident(self, incident_id: str) -> None:
        """NotFound for an incident the file does not hold (incidents are never deleted)."""
        if incident_id in self._known:
            return
        await self.reader.get_incident(incident_id)
        self._known.add(incident_id)

    def remember(self, incident_id: str) -> None:
        self._known.add(incident_id)

    async def close(self) -> None:
        await self.reader.close()
        await self.writer.close()
        await self.tokens.close()
