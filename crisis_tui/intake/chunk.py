"""What a source hands the runner: comments, rejected items, and what to do once stored.

Every source (file, follow, folder, stdin, CSV, feed, Mastodon) yields
`Chunk`s; the runner triages, stores, keeps the rejects and then calls the
chunk's `done` so the source can persist its position (a follow offset, a
feed's ETag, a Mastodon cursor) only after the store has committed. A crash
between the two re-reads at most one chunk, which the store's (source, id)
dedupe turns into duplicates, never into a lost or doubled comment.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from crisis_tui.errors import CrisisError
from crisis_tui.events import SpikeAlert
from crisis_tui.model import NewComment


class SourceError(CrisisError):
    """A source that cannot be read at all (missing file, refused URL): one line, no traceback."""

    code = "source"


@dataclass(frozen=True)
class Reject:
    """One item that could not be taken: where it was, why, and the item itself."""

    where: str
    reason: str
    raw: str

    def message(self) -> str:
        return f"{self.where}: {self.reason}"

    def record(self) -> dict[str, Any]:
        return {"where": self.where, "reason": self.reason, "raw": self.raw}


@dataclass(frozen=True)
class Stored:
    """What the store made of one chunk (handed to the chunk's `done`)."""

    ingested: int
    duplicates: int
    rejected: int


@dataclass
class Chunk:
    comments: list[NewComment]
    rejects: list[Reject] = field(default_factory=list)
    #: Bytes of the source read so far (for a progress bar), when the source has a size.
    position: int = 0
    #: Called after the store committed this chunk.
    done: Callable[[Stored], Awaitable[None]] | None = None
    #: Where this chunk's rejects are kept (None: the run's rejected file).
    rejected_to: Path | None = None
    #: Set by the runner: a spike alert to write after this chunk.
    alert: SpikeAlert | None = None
    #: Items the mapping says to skip (a Jetstream like, a Reddit "more" stub): counted, not rejected.
    skipped: int = 0
    #: Of `comments`, how many are replies found under another item (a thread's, a tree's).
    replies: int = 0
    #: The stateless half of triage, when a source already did it (crisis_tui.intake.parallel).
    prepared: list[Any] | None = None


class Source(Protocol):
    """A place comments come from."""

    #: Shown in messages ("backlog.jsonl", "https://host/feed").
    name: str

    @property
    def size(self) -> int | None:
        """Total bytes for a progress bar, when known."""
        ...

    def chunks(self) -> AsyncIterator[Chunk]: ...
