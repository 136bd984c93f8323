"""The one interface the room, the CLI and the server talk to.

`SqliteStore` (a shared file on one host) and `HttpStore` (a `crisis-tui serve`
server) both implement it, and the same tests run against both. Every write is
a command with a guard that appends events; every read is a projection or the
log itself.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from typing import Protocol, runtime_checkable

from crisis_tui.log_head import Head
from crisis_tui.model import (
    Arrivals,
    BulkResult,
    Comment,
    CommentKeys,
    Counts,
    Decision,
    Draft,
    Event,
    Incident,
    IngestResult,
    NewComment,
    Note,
    Presence,
)
from crisis_tui.playbook import Playbook


@runtime_checkable
class IncidentStore(Protocol):
    """An incident log with guarded commands. All methods may raise CrisisError."""

    read_only: bool
    #: Where another process opens this same store to read it (a file's path, a PostgreSQL URL):
    #: the room's loader process reads the older comments there. None when only this connection
    #: reaches it (a server's client).
    shared_at: str | None
    #: "live", or "reconnecting" while a remote store has lost its server (a local file is always live).
    connection_state: str
    #: Called with the new state whenever `connection_state` changes (the room shows "reconnecting...").
    on_connection_state: Callable[[str], None] | None

    async def close(self) -> None: ...
    def use_playbook(self, playbook: Playbook) -> None:
        """The playbook whose rules the store's guards judge by from now on (hot reload)."""
        ...

    # incidents
    async def create_incident(
        self, title: str, *, actor: str, brand: str = "", severity: str = "", our_fault: bool = False,
        again: bool = False, drill: bool = False,
    ) -> Incident:
        """Open an incident; a title an open incident already has is refused unless `again`.

        `drill` makes it a rehearsal for good (crisis_tui.drill): sending its replies publishes
        nothing, and its notices are recorded only to the playbook's drill targets.
        """
        ...
    async def list_incidents(self) -> list[Incident]: ...
    async def get_incident(self, incident_id: str) -> Incident: ...
    async def update_incident(
        self, incident_id: str, *, actor: str, role: str | None = None, reason: str = "", **changes: object
    ) -> Incident:
        """Change title, brand, severity, status or our_fault, with the reason on the record.

        Raises Forbidden unless the actor's seat in the room (or, not seated, `role`) has
        decision power; InvalidInput for an unknown severity, status or field.
        """
        ...

    # comments
    async def ingest(self, incident_id: str, comments: Sequence[NewComment], *, actor: str = "intake") -> IngestResult: ...
    async def claim(self, incident_id: str, comment_id: int, *, actor: str) -> Comment: ...
    async def release(self, incident_id: str, comment_id: int, *, actor: str) -> Comment: ...
    async def take_over(self, incident_id: str, comment_id: int, *, actor: str, reason: str = "") -> Comment:
        """Take a comment someone else holds; the holder's draft stays with the comment.

        Raises Forbidden unless the actor sits in the room with decision power; InvalidInput
        when nobody holds the comment; NotFound for an unknown comment.
        """
        ...
    async def reassign(self, incident_id: str, comment_id: int, to: str, *, actor: str, reason: str = "") -> Comment:
        """Give a held comment to `to`, who must be present in the room (the same refusals as take_over)."""
        ...
    async def mark(self, incident_id: str, comment_id: int, status: str, *, actor: str, reason: str = "",
                   to: str = "") -> Comment:
        """Raises InvalidInput for an unknown status, or a `to` on anything but an escalation;
        Forbidden when someone else holds the comment."""
        ...
    async def tag(self, incident_id: str, comment_id: int, tags: Sequence[str], *, actor: str) -> Comment: ...
    async def bulk(self, incident_id: str, comment_ids: Sequence[int], action: str, *, actor: str,
                   tags: Sequence[str] = (), reason: str = "") -> BulkResult:
        """Ignore, request removal of, tag (adding to each comment's tags) or release many comments
        in one step (guards.BULK_ACTIONS); each changed comment has its own event, and a comment
        its guard refuses is skipped with the reason."""
        ...
    async def get_comment(self, incident_id: str, comment_id: int) -> Comment: ...
    async def open_escalation(self, incident_id: str, comment_id: int) -> Event | None:
        """The comment's escalation still waiting for its department's answer (None: nothing
        waits), by the rule `answer_escalation` applies: what the room asks before it offers to
        record an answer. NotFound for an unknown comment."""
        ...
    async def comments(self, incident_id: str, *, limit: int | None = None, after_id: int = 0) -> list[Comment]: ...
    async def counts(self, incident_id: str) -> Counts: ...

    # drafts
    async def save_draft(
        self,
        incident_id: str,
        body: str,
        *,
        actor: str,
        base_version: int = 0,
        draft_id: int | None = None,
        comment_id: int | None = None,
        kind: str = "reply",
    ) -> Draft: ...
    async def tick(self, incident_id: str, draft_id: int, rule: str, ticked: bool, *, actor: str) -> Draft: ...
    async def set_draft_status(
        self,
        incident_id: str,
        draft_id: int,
        status: str,
        *,
        actor: str,
        override_reason: str = "",
        version: int | None = None,
    ) -> Draft: ...
    async def get_draft(self, incident_id: str, draft_id: int) -> Draft: ...
    async def drafts(self, incident_id: str, *, comment_id: int | None = None) -> list[Draft]: ...

    # decisions
    async def propose_decision(
        self, incident_id: str, title: str, *, actor: str, rationale: str = "", supersedes: int | None = None,
        owner_decides: bool = False,
    ) -> Decision: ...
    async def vote_decision(self, incident_id: str, decision_id: int, approve: bool, *, actor: str) -> Decision: ...
    async def decisions(self, incident_id: str) -> list[Decision]: ...

    # presence and notes
    async def heartbeat(self, incident_id: str, *, actor: str, role: str, focus: str | None = None) -> Presence: ...
    async def leave(self, incident_id: str, *, actor: str, reason: str = "quit") -> None: ...
    async def expire_presence(self, incident_id: str, gone_after: float, *, reachable_since: float = 0.0
                              ) -> list[str]:
        """Time out whoever sent no heartbeat for `gone_after` seconds, but nobody while the store
        has been reachable for less than that (`reachable_since`: a server's start)."""
        ...
    async def presence(self, incident_id: str) -> list[Presence]: ...
    async def add_note(self, incident_id: str, text: str, *, actor: str) -> Note: ...
    async def alert(self, incident_id: str, kind: str, payload: dict[str, object], *, actor: str = "triage") -> Event:
        """An `alert.*` event; InvalidInput for a drill's own kind (`alert.drill_*`) on a real incident."""
        ...
    async def record_sitrep(self, incident_id: str, text: str, *, actor: str, delivered: Sequence[str] = (),
                            failed: dict[str, str] | None = None) -> Event:
        """Raises Forbidden when a drill's report names a target that is not a drill target."""
        ...
    async def claim_notification(self, incident_id: str, about_seq: int, *, actor: str, runner: str,
                                 lease_seconds: float) -> Event:
        """A notify runner takes event `about_seq`'s notice to send (`notify.claimed`), before it sends.

        Raises NoticeTaken when the notice went out already, or another runner's claim still holds
        (its `retry_after` says for how long); the same runner may claim again."""
        ...

    async def record_notification(self, incident_id: str, about_seq: int, about: str, text: str, *, actor: str,
                                  delivered: Sequence[str] = (), failed: dict[str, str] | None = None) -> Event:
        """Raises Forbidden when a drill's notice names a target that is not a drill target."""
        ...

    async def answer_escalation(self, incident_id: str, comment_id: int, answer: str, *, actor: str) -> Event:
        """Record what the department a comment was escalated to answered (`escalation.answered`),
        closing its newest open escalation: the time to loop the department in.

        Raises InvalidInput when the comment has no escalation waiting for an answer or the
        answer is empty; NotFound for an unknown comment.
        """
        ...

    # the log
    async def events_after(self, incident_id: str, after_seq: int = 0, limit: int = 1000) -> list[Event]: ...
    async def latest_events(self, incident_id: str, limit: int = 500) -> list[Event]: ...
    def subscribe(self, incident_id: str, after_seq: int = 0) -> AsyncIterator[Event]: ...
    async def log_head(self, incident_id: str, number: int | None = None) -> Head | None: ...

    # ------------------------------------------------------ the room's compact reads
    async def comment_keys(self, incident_id: str, *, after_id: int = 0, limit: int | None = None) -> CommentKeys:
        """Up to `limit` comments after `after_id`, in id order, as columns (model.CommentKeys):
        what the room's index keeps of each comment, so a million arrive without a `Comment` each.

        Raises: NotFound (HTTP: no such incident), StoreUnavailable."""
        ...

    async def comments_by_id(self, incident_id: str, ids: Sequence[int]) -> list[Comment]:
        """The whole comments of `ids` that exist, in id order (the rows a screen shows).

        Raises: InvalidInput (more than model.BY_ID_MAX ids), StoreUnavailable."""
        ...

    # the wallboard's start: what a replay of the log would count, answered by the store
    async def arrivals(self, incident_id: str, from_minute: int, *, recent_minute: int | None = None) -> Arrivals:
        """Comments posted from minute `from_minute` (epoch seconds // 60) on, counted by minute of
        posting with how many are negative, and their posting times from `recent_minute` on."""
        ...
    async def last_event(self, incident_id: str, kind: str, *, upto_seq: int | None = None) -> Event | None:
        """The newest event of `kind` at or before `upto_seq` (None: there is none)."""
        ...
