"""The room's comments in the stream's order: rows kept sorted with bisect, never rebuilt per event.

It answers the stream's questions (the n-th visible comment in the current order
and filter, counts, the oldest unanswered comment, comments per minute). Plain
Python, no Textual; RoomState builds on it.
"""

from __future__ import annotations

import bisect
import time
from collections import Counter
from collections.abc import Iterable
from typing import Any

from crisis_tui.comment_rows import UNANSWERED, Filter, Order, Row, id_key, priority_key, since_key, time_key
from crisis_tui.events import ArrivedComment
from crisis_tui.model import Comment


class CommentIndex:
    """Every comment row of one incident, by id, in the current order and in the filtered view."""

    def __init__(self) -> None:
        self.rows: dict[int, Row] = {}
        self._by_id: list[Row] = []  # ascending id = arrival order
        self._by_since: list[Row] = []  # ascending posting time (a backlog arrives out of that order)
        self._ordered: list[Row] = []  # current order, all rows
        self._view: list[Row] | None = None  # filtered order, None when no filter
        self.order: Order = "priority"
        self.filter = Filter()
        self.counts: Counter[str] = Counter()
        self._oldest_index = 0
        self.per_minute: Counter[int] = Counter()
        self._priorities: list[float] = []  # -priority, ascending: the rank of a priority is a bisect

    # ------------------------------------------------------------------ loading
    def load_comments(self, comments: Iterable[Comment | Row]) -> None:
        """Add many comments at once (the first load, a page of a large one).

        The page is sorted alone and merged: Timsort on two sorted runs is linear,
        and the sort keys are computed once per row, so ten pages of 10,000 cost
        little more than one sort of 100,000.
        """
        fresh: list[Row] = []
        for c in comments:
            row = c if isinstance(c, Row) else Row.from_comment(c)
            if row.id in self.rows:
                self._replace(row)
                continue
            self.rows[row.id] = row
            fresh.append(row)
            self.counts[row.status] += 1
            self.per_minute[int(row.since // 60)] += 1
        if not fresh:
            return
        self._by_id.extend(fresh)
        self._by_id.sort(key=id_key)
        self._by_since.extend(fresh)
        self._by_since.sort(key=since_key)
        self._priorities.extend(-r.priority for r in fresh)
        self._priorities.sort()
        self._oldest_index = 0
        if self.order == "priority":
            self._ordered.extend(fresh)
            self._ordered.sort(key=priority_key)
        else:
            self._ordered = self._by_id[::-1]
        self._refilter()

    def _replace(self, row: Row) -> None:
        old = self.rows[row.id]
        self._set_status(old, row.status, row.holder)
        old.tags = row.tags

    def _resort(self) -> None:
        if self.order == "priority":
            self._ordered = sorted(self._by_id, key=priority_key)
        else:
            self._ordered = self._by_id[::-1]
        self._refilter()

    def _refilter(self) -> None:
        if self.filter.active:
            match = self.filter.matches
            self._view = [r for r in self._ordered if match(r)]
        else:
            self._view = None

    def _key(self, row: Row) -> Any:
        return priority_key(row) if self.order == "priority" else time_key(row)

    # --------------------------------------------------------------- the stream
    @property
    def visible(self) -> list[Row]:
        """The rows the stream shows, in order (a list shared with the state: do not mutate)."""
        return self._ordered if self._view is None else self._view

    def __len__(self) -> int:
        return len(self.visible)

    def row_at(self, index: int) -> Row | None:
        rows = self.visible
        return rows[index] if 0 <= index < len(rows) else None

    def index_of(self, comment_id: int) -> int | None:
        row = self.rows.get(comment_id)
        if row is None:
            return None
        rows = self.visible
        key = self._key(row)
        i = bisect.bisect_left(rows, key, key=self._key)
        return i if i < len(rows) and rows[i] is row else None

    def set_order(self, order: Order) -> None:
        if order != self.order:
            self.order = order
            self._resort()

    def set_filter(self, new: Filter) -> None:
        self.filter = new
        self._refilter()

    def add_comment(self, c: Comment | ArrivedComment | Row) -> Row | None:
        """One arriving comment, inserted where the order puts it. None if already known."""
        if isinstance(c, Row):
            row = c
        elif isinstance(c, Comment):
            row = Row.from_comment(c)
        else:
            row = Row.from_arrived(c)
        if row.id in self.rows:
            return None
        self.rows[row.id] = row
        if not self._by_id or row.id > self._by_id[-1].id:
            self._by_id.append(row)
        else:
            bisect.insort(self._by_id, row, key=id_key)
        if not self._by_since or since_key(row) > since_key(self._by_since[-1]):
            self._by_since.append(row)
        else:
            bisect.insort(self._by_since, row, key=since_key)
            self._oldest_index = 0
        self.counts[row.status] += 1
        self.per_minute[int(row.since // 60)] += 1
        bisect.insort(self._priorities, -row.priority)
        bisect.insort(self._ordered, row, key=self._key)
        if self._view is not None and self.filter.matches(row):
            bisect.insort(self._view, row, key=self._key)
        return row

    def _set_status(self, row: Row, status: str, holder: str | None) -> None:
        if row.status != status:
            self.counts[row.status] -= 1
            self.counts[status] += 1
            if status in UNANSWERED:
                self._oldest_index = 0
        was = self._view is not None and self.filter.matches(row)
        row.status = status
        row.holder = holder
        if self._view is not None:
            now = self.filter.matches(row)
            if was and not now:
                i = bisect.bisect_left(self._view, self._key(row), key=self._key)
                if i < len(self._view) and self._view[i] is row:
                    del self._view[i]
            elif now and not was:
                bisect.insort(self._view, row, key=self._key)

    def thread(self, comment_id: int, limit: int = 20) -> list[tuple[str, Row]]:
        """The comment's context: what it answers, its replies, the author's other comments."""
        row = self.rows.get(comment_id)
        if row is None:
            return []
        out: list[tuple[str, Row]] = []
        for other in self._by_id:
            if other is row:
                continue
            if row.in_reply_to and other.source == row.source and other.external_id == row.in_reply_to:
                out.insert(0, ("answers", other))
            elif other.source == row.source and other.in_reply_to == row.external_id and row.external_id:
                out.append(("reply", other))
            elif other.author == row.author and other.source == row.source:
                out.append(("same author", other))
            if len(out) >= limit:
                break
        return out

    def rank(self, priority: float) -> int:
        """How many comments are more urgent than `priority` (0 = the most urgent)."""
        return bisect.bisect_left(self._priorities, -priority)

    def priority_at_rank(self, rank: int) -> float:
        """The priority of the `rank`-th most urgent comment (inf when there are fewer)."""
        return -self._priorities[rank] if rank < len(self._priorities) else float("inf")

    # ----------------------------------------------------------------- counts
    @property
    def total(self) -> int:
        return len(self._by_id)

    @property
    def unanswered(self) -> int:
        return sum(self.counts[s] for s in UNANSWERED)

    def oldest_unanswered(self) -> Row | None:
        """The unanswered comment that has waited longest since it was posted (amortised O(1))."""
        rows = self._by_since
        i = self._oldest_index
        while i < len(rows) and rows[i].status not in UNANSWERED:
            i += 1
        self._oldest_index = i
        return rows[i] if i < len(rows) else None

    def rate_series(self, minutes: int, now: float | None = None) -> list[int]:
        """Comments posted per minute over the last `minutes` minutes, oldest first."""
        current = int((time.time() if now is None else now) // 60)
        return [self.per_minute.get(m, 0) for m in range(current - minutes + 1, current + 1)]
