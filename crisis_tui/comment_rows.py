"""The stream's comment rows and the filter that picks among them.

A `Row` is what the stream shows of one comment. The room does not keep one per
comment (crisis_tui.comment_index keeps columns): it builds a row when a pane
asks for it, from the index's live state (status, holder, tags) and the comment's
details when they are cached; until they come from the store the row is a
placeholder (`complete` is False: its author is "#id" and its text "…").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from crisis_tui.events import ArrivedComment
from crisis_tui.model import KEY_AUTHOR, KEY_TEXT, Comment
from crisis_tui.safe_text import one_line

Order = Literal["priority", "time"]
UNANSWERED = frozenset({"new", "claimed", "escalated"})
#: How much of a comment's text a row keeps for its line and the text filter; the
#: detail view reads the whole comment from the store.
ROW_TEXT = KEY_TEXT
ROW_AUTHOR = KEY_AUTHOR
#: The text of a row whose details are on their way from the store.
PENDING_TEXT = "…"


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
    #: False for a placeholder: the details (author, text, reach...) are still to come from the store.
    complete: bool

    __slots__ = (
        "id", "received_at", "since", "source", "author", "followers", "verified", "bot_score", "bot_reasons",
        "priority", "negativity", "lang", "cluster", "likes", "shares", "status", "holder", "tags",
        "text", "external_id", "in_reply_to", "complete",
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
        row.complete = True
        return row

    @classmethod
    def placeholder(cls, cid: int, since: float, source: str, priority: float) -> Row:
        """A row known only from the index, until its details come from the store."""
        row = cls.__new__(cls)
        row.id = cid
        row.received_at = row.since = since
        row.source = source
        row.author = f"#{cid}"
        row.followers = None
        row.verified = False
        row.bot_score = row.negativity = 0.0
        row.bot_reasons = ()
        row.priority = priority
        row.lang = row.cluster = row.external_id = row.in_reply_to = ""
        row.likes = row.shares = 0
        row.text = PENDING_TEXT
        row.complete = False
        return row

    def live(self, status: str, holder: str | None, tags: tuple[str, ...]) -> Row:
        """A copy with the comment's current state (the cached details never change, its state does)."""
        row = Row.__new__(Row)
        for name in _DETAIL_SLOTS:
            setattr(row, name, getattr(self, name))
        row.status = status
        row.holder = holder
        row.tags = tags
        return row

    @property
    def is_bot(self) -> bool:
        return self.bot_score >= 0.5


_DETAIL_SLOTS = tuple(name for name in Row.__slots__ if name not in ("status", "holder", "tags"))


#: The filter's status for comments whose reply waits for approval (a draft's status, not the comment's).
IN_REVIEW = "in_review"


@dataclass
class Filter:
    """What the stream shows: statuses, platforms (empty = all) and a text to find.

    `in_review` holds the comments whose reply is in review, filled in by the room's
    state while IN_REVIEW is among the statuses. The index applies it (comment_index:
    masks by id; the text is matched casefolded against the author and the text).
    """

    statuses: frozenset[str] = frozenset()
    sources: frozenset[str] = frozenset()
    text: str = ""
    in_review: frozenset[int] = frozenset()

    @property
    def active(self) -> bool:
        return bool(self.statuses or self.sources or self.text.strip())

    def describe(self) -> str:
        parts = []
        if self.statuses:
            parts.append("/".join(sorted(s.replace("_", " ") for s in self.statuses)))
        if self.sources:
            parts.append("/".join(sorted(self.sources)))
        if self.text.strip():
            parts.append(f'"{one_line(self.text, 20)}"')
        return ", ".join(parts)

