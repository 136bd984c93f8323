"""The stream's compact comment rows and the filter that picks among them.

One `Row` per comment, as small as the stream needs it, so the room stays cheap
at 100,000 comments; the detail view reads the whole comment from the store.
"""

from __future__ import annotations

from dataclasses import dataclass
from operator import attrgetter
from typing import Literal

from crisis_tui.events import ArrivedComment
from crisis_tui.model import Comment
from crisis_tui.safe_text import one_line

Order = Literal["priority", "time"]
UNANSWERED = frozenset({"new", "claimed", "escalated"})
#: How much of a comment's text a row keeps for its line and the text filter; the
#: detail view reads the whole comment from the store.
ROW_TEXT = 600
ROW_AUTHOR = 200


class Row:
    """One comment, as compact as the stream needs it."""

    id: int
    received_at: float
    since: float  # model.waiting_since: what ages and the SLA count from
    source: str
    author: str
    followers: int | None
    verified: bool
    bot_score: float
    bot_reasons: tuple[str, ...]
    priority: float
    negativity: float
    lang: str
    cluster: str
    likes: int
    shares: int
    status: str
    holder: str | None
    tags: tuple[str, ...]
    text: str
    external_id: str
    in_reply_to: str
    pkey: tuple[float, int]  # the priority order's sort key, computed once (priority never changes)
    _folded: str | None

    __slots__ = (
        "id", "received_at", "since", "source", "author", "followers", "verified", "bot_score", "bot_reasons",
        "priority", "negativity", "lang", "cluster", "likes", "shares", "status", "holder", "tags",
        "text", "external_id", "in_reply_to", "pkey", "_folded",
    )

    @classmethod
    def from_comment(cls, c: Comment) -> Row:
        return cls._built(c, c.status, c.holder, tuple(c.tags))

    @classmethod
    def from_arrived(cls, c: ArrivedComment) -> Row:
        """A row from a comment.ingested event's comment (a new comment: status new)."""
        return cls._built(c, "new", None, ())

    @classmethod
    def _built(cls, c: Comment | ArrivedComment, status: str, holder: str | None, tags: tuple[str, ...]) -> Row:
        """The row of a stored or an arriving comment: they share every field but the state."""
        row = cls.__new__(cls)
        row.id = c.id
        row.received_at = received = c.received_at
        posted = c.posted_at  # model.waiting_since, inlined: this runs 100,000 times on a room's load
        row.since = received if posted is None or posted > received else posted
        row.source = c.source
        row.author = c.author[:ROW_AUTHOR]
        row.followers = c.author_followers
        row.verified = c.author_verified
        row.bot_score = c.bot_score
        row.bot_reasons = tuple(c.bot_reasons)
        row.priority = c.priority
        row.negativity = c.negativity
        row.lang = c.lang
        row.cluster = c.cluster
        row.likes = c.likes
        row.shares = c.shares
        row.status = status
        row.holder = holder
        row.tags = tags
        row.text = c.text[:ROW_TEXT]
        row.external_id = c.external_id
        row.in_reply_to = c.in_reply_to
        row.pkey = (-row.priority, -row.id)
        row._folded = None
        return row

    @property
    def folded(self) -> str:
        """Lower-cased text, author and source for the text filter (computed once)."""
        if self._folded is None:
            self._folded = f"{self.author}\n{self.text}".casefold()
        return self._folded

    @property
    def is_bot(self) -> bool:
        return self.bot_score >= 0.5


priority_key = attrgetter("pkey")
id_key = attrgetter("id")
#: Posting time alone (a plain float compares fastest; ties keep their arrival order).
since_key = attrgetter("since")


def time_key(row: Row) -> int:
    return -row.id


#: The filter's status for comments whose reply waits for approval (a draft's status, not the comment's).
IN_REVIEW = "in_review"


@dataclass
class Filter:
    """What the stream shows: statuses, platforms (empty = all) and a text to find.

    `in_review` holds the comments whose reply is in review, filled in by the room's
    state while IN_REVIEW is among the statuses.
    """

    statuses: frozenset[str] = frozenset()
    sources: frozenset[str] = frozenset()
    text: str = ""
    in_review: frozenset[int] = frozenset()

    @property
    def active(self) -> bool:
        return bool(self.statuses or self.sources or self.text.strip())

    def matches(self, row: Row) -> bool:
        if self.statuses and row.status not in self.statuses and row.id not in self.in_review:
            return False
        if self.sources and row.source not in self.sources:
            return False
        needle = self.text.strip().casefold()
        return not needle or needle in row.folded

    def describe(self) -> str:
        parts = []
        if self.statuses:
            parts.append("/".join(sorted(s.replace("_", " ") for s in self.statuses)))
        if self.sources:
            parts.append("/".join(sorted(self.sources)))
        if self.text.strip():
            parts.append(f'"{one_line(self.text, 20)}"')
        return ", ".join(parts)

