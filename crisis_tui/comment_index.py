"""The room's comments as a compact index: columns by id and the stream's orders as sorted keys.

A million comments as a million `Row`s cost 1.2 GB and a re-sort per page; here
each comment is a few array cells (priority, waiting-since, status, source, hashes
of the strings that link it to its thread and its copy-paste cluster) and its
folded author and text in a blob (crisis_tui.comment_texts). Rows are built when
a pane asks (`rows`, `visible`, `row_at`), from these and the comment's details
when the small cache holds them; the stream asks the store for the missing ones.

The orders are plain sorted sequences of keys that C compares without a Python
key function: the priority order is a list of ints (priority's IEEE bits made
monotone, then the id, highest id first among equals), the time order an array
of negated ids; the longest-waiting comment is a pass in C over the waiting-since
column when something could have changed it. A page of a large load is sorted
alone and merged in by `list.sort`, whose Timsort finds the two sorted runs and
gallops through their merge in C: a page costs one C pass over what is loaded and
no Python step per loaded comment (the old re-sort called a key function on every
loaded row for every page: 31 s of CPU at 1M). A filter is a mask by id built in C
(`bytes.translate` for statuses and sources, `bytes.find` for the text); when few
comments pass, their keys are sorted, else the order is walked with `itertools.compress`.

Plain Python, no Textual; RoomState builds on it.
"""

from __future__ import annotations

import bisect
import struct
import time
from array import array
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from itertools import compress
from typing import Any, overload

from crisis_tui.comment_rows import UNANSWERED, Filter, Order, Row
from crisis_tui.comment_texts import FoldedTexts, needle_of
from crisis_tui.events import ArrivedComment
from crisis_tui.model import COMMENT_STATUSES, Comment, CommentKeys
from crisis_tui.packed_keys import PackedKeys, minute_counts, pick

#: Comments whose details (author, text, reach...) the room keeps: a few screens' worth.
DETAILS_CACHED = 4096
_ID_BITS = 32
_ID_MASK = (1 << _ID_BITS) - 1
_HALF = 1 << 63
#: Flips a monotone priority so that the most urgent sorts first.
_FLIP = (1 << 64) - 1


def _monotone(bits: int) -> int:
    """IEEE-754 bits of a double (as a signed int64) to an unsigned int of the same order."""
    return bits + _HALF if bits >= 0 else -1 - bits


def _bits(values: Sequence[float]) -> array[int]:
    out = array("q")
    out.frombytes(array("d", values).tobytes())
    return out


def _unmonotone(u: int) -> float:
    bits = u - _HALF if u >= _HALF else -1 - u
    return float(struct.unpack("<d", struct.pack("<q", bits))[0])


class CommentIndex:
    """Every comment of one incident, by id, in the current order and in the filtered view."""

    def __init__(self) -> None:
        self._priority = array("d")  # by id
        self._since = array("d")
        self._status = bytearray()  # by id: 1 + the status's number, 0 for no such comment
        self._source = bytearray()  # by id: 1 + the source's number
        self._cluster = array("q")  # by id: hash of the copy-paste cluster (0: none)
        self._author = array("q")  # by id: hashes (0: empty), checked against the details (thread)
        self._external = array("q")
        self._reply_to = array("q")
        self.holders: dict[int, str] = {}
        self.tags: dict[int, tuple[str, ...]] = {}
        self._texts = FoldedTexts()
        #: The last text search (needle, mask by id): re-ordering does not search again; any arrival clears it.
        self._found: tuple[bytes, bytearray] | None = None
        self._statuses: list[str] = list(COMMENT_STATUSES)
        self._status_code = {s: i + 1 for i, s in enumerate(self._statuses)}
        self._sources: list[str] = []
        self._source_code: dict[str, int] = {}
        self._priority_keys: list[int] = []  # ascending keys: most urgent first (see _by_priority)
        #: Pages' keys, each sorted, loaded since the priority order was last read: merged all at once
        #: when it is (Timsort merges many runs in one pass each level), not one page at a time.
        self._priority_runs: list[list[int]] = []
        self._by_time: array[int] = array("q")  # ascending negated ids: newest first
        self._view: list[int] | None = None  # the current order's keys that pass the filter
        self._oldest: int | None = None  # the longest-waiting unanswered comment, while nothing changed it
        self._oldest_dirty = True
        self.order: Order = "priority"
        self.filter = Filter()
        self.counts: Counter[str] = Counter()
        self.per_minute: Counter[int] = Counter()
        self.details: OrderedDict[int, Row] = OrderedDict()
        self.rows = RowsView(self)

    # ------------------------------------------------------------------ keys
    def _pkey(self, cid: int) -> int:
        return ((_FLIP - _monotone(_bits((self._priority[cid],))[0])) << _ID_BITS) | (_ID_MASK - cid)

    def _key(self, cid: int) -> int:
        return self._pkey(cid) if self.order == "priority" else -cid

    def _id_of(self, key: int) -> int:
        return _ID_MASK - (key & _ID_MASK) if self.order == "priority" else -key

    @property
    def _by_priority(self) -> list[int]:
        """The priority order, every loaded page in it. A page merged alone into a million keys is a
        pass over all of them; at 1M the room's 40 pages cost 1.6 s of merging, 4.1 s with the loader
        process streaming memory on the other core (a merge chases a pointer per key). Pages that
        arrive between two reads of the order (the stream paints a few times a second while it
        loads) are merged together, once."""
        runs = self._priority_runs
        if runs:
            keys = self._priority_keys
            for run in runs:
                keys.extend(run)
            runs.clear()
            keys.sort()
        return self._priority_keys

    def settle(self) -> None:
        """Merge the pages loaded since the order was last read (when a load is done: its last merge
        belongs to the load, not to whatever reads the order next)."""
        self._by_priority  # noqa: B018 - the property does the merge

    def _ordered(self) -> Sequence[int]:
        return self._by_priority if self.order == "priority" else self._by_time

    # --------------------------------------------------------------- loading
    def _grow(self, cid: int) -> None:
        more = cid + 1 - len(self._status)
        if more > 0:
            for column in (self._priority, self._since, self._cluster, self._author, self._external, self._reply_to):
                column.frombytes(bytes(8 * more))
            self._status.extend(bytes(more))
            self._source.extend(bytes(more))

    def _code(self, status: str) -> int:
        code = self._status_code.get(status)
        if code is None:
            if len(self._statuses) >= 255:
                raise ValueError(f"too many comment statuses for the room's index ({status!r})")
            self._statuses.append(status)
            code = self._status_code[status] = len(self._statuses)
        return code

    def _source_of(self, source: str) -> int:
        code = self._source_code.get(source)
        if code is None:
            if len(self._sources) >= 255:
                return 255  # shown as the 255th platform: sources are a handful in any real incident
            self._sources.append(source)
            code = self._source_code[source] = len(self._sources)
        return code

    def load_comments(self, comments: Iterable[Comment | Row]) -> None:
        """Add many whole comments at once (the first page); their details are cached."""
        rows = [c if isinstance(c, Row) else Row.from_comment(c) for c in comments]
        known = [r for r in rows if self.known(r.id)]
        for row in known:
            self._set_status(row.id, row.status, row.holder)
            self.set_tags(row.id, row.tags)
        fresh = sorted((r for r in rows if not self.known(r.id)), key=lambda r: r.id)
        if not fresh:
            return
        fresh = list({r.id: r for r in fresh}.values())
        self._remember(fresh)
        self.load_keys(CommentKeys(
            ids=[r.id for r in fresh], priority=[r.priority for r in fresh], since=[r.since for r in fresh],
            status=[r.status for r in fresh], source=[r.source for r in fresh], author=[r.author for r in fresh],
            text=[r.text for r in fresh], external_id=[r.external_id for r in fresh],
            in_reply_to=[r.in_reply_to for r in fresh], cluster=[r.cluster for r in fresh],
            holders={r.id: r.holder for r in fresh if r.holder}, tags={r.id: list(r.tags) for r in fresh if r.tags},
        ))

    def load_keys(self, page: CommentKeys | PackedKeys) -> None:
        """A page of the compact read (ids ascending), merged into every order; packed by the loader
        process or as the store's read gives it."""
        if isinstance(page, PackedKeys):
            self._load_packed(page)
            return
        keep = self._moved_known(page.ids, page.status.__getitem__, page.holders, page.tags)
        if keep is not None:
            page = _pick(page, keep)
        ids = page.ids
        if not ids:
            return
        self._grow(max(ids))
        for status in set(page.status):
            self._code(status)
        source_code = {s: self._source_of(s) for s in set(page.source)}
        self._texts.add_page(ids, page.author, page.text)
        self.counts.update(page.status)
        self.per_minute.update(minute_counts(page.since))
        self._take(ids, array("d", page.priority), array("d", page.since),
                   bytes(map(self._status_code.__getitem__, page.status)), bytes(map(source_code.__getitem__, page.source)),
                   page, page.holders, page.tags)

    def _load_packed(self, page: PackedKeys) -> None:
        ids = page.id_array()
        keep = self._moved_known(ids, lambda j: page.statuses[page.status[j] - 1], page.holders, page.tags)
        if keep is not None:
            page = pick(page, keep)
            ids = page.id_array()
        if not ids:
            return
        self._grow(max(ids))
        status = page.status.translate(_table([self._code(name) for name in page.statuses]))
        source = page.source.translate(_table([self._source_of(name) for name in page.sources]))
        starts = array("q")
        starts.frombytes(page.starts)
        self._texts.add_folded(ids, page.folded, starts)
        for code, name in enumerate(page.statuses, start=1):
            self.counts[name] += page.status.count(code)
        self.per_minute.update(page.minutes)
        self._take(ids, page.floats(page.priority), page.floats(page.since), status, source, page,
                   page.holders, page.tags)

    def _moved_known(self, ids: Sequence[int], status_at: Callable[[int], str], holders: Mapping[int, str],
                     tags: Mapping[int, Sequence[str]]) -> list[int] | None:
        """For a page some of whose comments are already known: their status, holder and tags moved
        to the page's, and the positions of the others; None when none is known."""
        if not ids or not self._any_known(ids):
            return None
        keep = []
        for j, cid in enumerate(ids):
            if self.known(cid):
                self._set_status(cid, status_at(j), holders.get(cid))
                self.set_tags(cid, tuple(tags.get(cid, ())))
            else:
                keep.append(j)
        return keep

    def _take(self, ids: Sequence[int], priority: array[float], since: array[float], status: bytes, source: bytes,
              links: CommentKeys | PackedKeys, holders: Mapping[int, str], tags: Mapping[int, Sequence[str]]) -> None:
        """A page's columns (status and source as the index's codes) into the index and every order."""
        columns: tuple[tuple[Any, Any], ...] = (
            (self._priority, priority), (self._since, since), (self._status, status), (self._source, source),
            (self._cluster, array("q", map(hash, links.cluster))), (self._author, array("q", map(hash, links.author))),
            (self._external, array("q", map(hash, links.external_id))),
            (self._reply_to, array("q", map(hash, links.in_reply_to))),
        )
        if ids[-1] - ids[0] + 1 == len(ids):  # a run of ids (every page of a load): C copies, column by column
            for column, values in columns:
                column[ids[0]:ids[-1] + 1] = values
        else:
            for column, values in columns:
                for cid, value in zip(ids, values, strict=True):
                    column[cid] = value
        self.holders.update(holders)
        self.tags.update((cid, tuple(t)) for cid, t in tags.items())
        self._found = None
        # _monotone inlined: these run once per comment of the load
        pkeys = [((_FLIP - (b + _HALF if b >= 0 else -1 - b)) << _ID_BITS) | (_ID_MASK - cid)
                 for b, cid in zip(_bits(priority), ids, strict=True)]
        self._priority_runs.append(sorted(pkeys))
        self._merge_time(ids)
        self._page_waiting(ids, status, since)
        if self._view is not None:
            mask = self._mask(len(self._status))
            fresh = pkeys if self.order == "priority" else [-cid for cid in ids]
            _merge(self._view, [k for k in fresh if mask[self._id_of(k)]])

    def _waiting_table(self) -> bytes:
        return bytes(1 if 0 < c <= len(self._statuses) and self._statuses[c - 1] in UNANSWERED else 0
                     for c in range(256))

    def _page_waiting(self, ids: Sequence[int], status: bytes, since: Sequence[float]) -> None:
        """The longest-waiting comment after a page: the page's own, if it waited longer (a pass over
        the page, not over everything loaded)."""
        if self._oldest_dirty:
            return
        waiting = status.translate(self._waiting_table())
        earliest = min(compress(since, waiting), default=None)
        if earliest is not None and (self._oldest is None or earliest < self._since[self._oldest]):
            self._oldest = next(cid for cid, s, w in zip(ids, since, waiting, strict=True) if w and s == earliest)

    def _merge_time(self, ids: Sequence[int]) -> None:
        order = self._by_time
        keys = array("q", sorted(map(int.__neg__, ids)))
        at = bisect.bisect_left(order, keys[0])
        if at == bisect.bisect_left(order, keys[-1]):
            order[at:at] = keys  # a page older (or newer) than all loaded: one block, one memmove
        else:
            merged = list(order)
            merged.extend(keys)
            merged.sort()
            self._by_time = array("q", merged)

    def _any_known(self, ids: Sequence[int]) -> bool:
        if ids[-1] - ids[0] + 1 == len(ids) and ids[0] >= 0:
            return any(self._status[ids[0]:ids[-1] + 1])
        return any(self.known(i) for i in ids)

    def known(self, cid: int) -> bool:
        return 0 <= cid < len(self._status) and self._status[cid] != 0

    # ---------------------------------------------------------------- details
    def _remember(self, rows: Iterable[Row]) -> None:
        cache = self.details
        for row in rows:
            cache[row.id] = row
            cache.move_to_end(row.id)
        while len(cache) > DETAILS_CACHED:
            cache.popitem(last=False)

    def add_details(self, comments: Iterable[Comment]) -> None:
        """Details the store sent for rows on screen (the cache keeps the latest few thousand)."""
        self._remember(Row.from_comment(c) for c in comments if self.known(c.id))

    def missing(self, ids: Iterable[int]) -> list[int]:
        """Which of `ids` the room would show as placeholders (their details are not cached)."""
        return [cid for cid in ids if cid not in self.details and self.known(cid)]

    def row(self, cid: int) -> Row | None:
        """The comment's row: its details when cached (else a placeholder) with its current state."""
        if not self.known(cid):
            return None
        detail = self.details.get(cid)
        if detail is None:
            source = self._sources[self._source[cid] - 1] if self._source[cid] <= len(self._sources) else "?"
            detail = Row.placeholder(cid, self._since[cid], source, self._priority[cid])
        return detail.live(self._statuses[self._status[cid] - 1], self.holders.get(cid), self.tags.get(cid, ()))

    def status_of(self, cid: int) -> str | None:
        return self._statuses[self._status[cid] - 1] if self.known(cid) else None

    def sources(self) -> list[str]:
        return list(self._sources)

    def held_by(self, name: str) -> list[int]:
        """The comments `name` holds (claimed), by id."""
        claimed = self._status_code["claimed"]
        return sorted(cid for cid, holder in self.holders.items() if holder == name and self._status[cid] == claimed)

    def cluster_ids(self, cid: int) -> set[int]:
        """The comments of `cid`'s copy-paste cluster (only itself when it has none)."""
        if not self.known(cid) or not self._cluster[cid]:
            return {cid} if self.known(cid) else set()
        target = self._cluster[cid]
        return {i for i, h in enumerate(self._cluster) if h == target and self._status[i]}

    # --------------------------------------------------------------- the stream
    @property
    def visible(self) -> VisibleRows:
        """The rows the stream shows, in order (built as they are read)."""
        return VisibleRows(self)

    def __len__(self) -> int:
        return len(self._view if self._view is not None else self._by_time)  # every comment is in both orders

    def id_at(self, index: int) -> int | None:
        keys = self._view if self._view is not None else self._ordered()
        return self._id_of(keys[index]) if 0 <= index < len(keys) else None

    def row_at(self, index: int) -> Row | None:
        cid = self.id_at(index)
        return self.row(cid) if cid is not None else None

    def index_of(self, comment_id: int) -> int | None:
        if not self.known(comment_id):
            return None
        keys = self._view if self._view is not None else self._ordered()
        key = self._key(comment_id)
        i = bisect.bisect_left(keys, key)
        return i if i < len(keys) and keys[i] == key else None

    def set_order(self, order: Order) -> None:
        if order != self.order:
            self.order = order
            self._refilter()

    def set_filter(self, new: Filter) -> None:
        self.filter = new
        self._refilter()

    def _mask(self, size: int) -> bytes | bytearray:
        """1 by id where the comment passes the filter, built in C (translate, find, int AND)."""
        f = self.filter
        mask: bytes | bytearray = self._status.translate(bytes(1 if c else 0 for c in range(256)))
        if f.statuses:
            table = bytes(1 if 0 < c <= len(self._statuses) and self._statuses[c - 1] in f.statuses else 0
                          for c in range(256))
            mask = bytearray(self._status.translate(table))
            for cid in f.in_review:
                if self.known(cid):
                    mask[cid] = 1
        if f.sources:
            table = bytes(1 if 0 < c <= len(self._sources) and self._sources[c - 1] in f.sources else 0
                          for c in range(256))
            mask = _and(mask, self._source.translate(table))
        needle = needle_of(f.text)
        if needle:
            if self._found is None or self._found[0] != needle or len(self._found[1]) != size:
                self._found = (needle, self._texts.search(needle, size))
            mask = _and(mask, self._found[1])
        return mask

    def _refilter(self) -> None:
        if not self.filter.active:
            self._view = None
            return
        mask = self._mask(len(self._status))
        if self.order == "time":
            # the matching ids, ascending, straight from the mask: newest first is them reversed, negated
            self._view = list(map(int.__neg__, reversed(list(compress(range(len(mask)), mask)))))
        elif mask.count(1) * 3 < len(self._by_priority):
            # few match (a text, a platform): their keys, sorted, cost less than a pass over the whole order
            ids = list(compress(range(len(mask)), mask))
            bits = _bits(array("d", map(self._priority.__getitem__, ids)))
            self._view = sorted([((_FLIP - (b + _HALF if b >= 0 else -1 - b)) << _ID_BITS) | (_ID_MASK - cid)
                                 for b, cid in zip(bits, ids, strict=True)])
        else:
            self._view = list(compress(self._by_priority, map(mask.__getitem__, map(
                _ID_MASK.__sub__, map(_ID_MASK.__and__, self._by_priority)))))

    def _passes(self, cid: int) -> bool:
        f = self.filter
        status = self._statuses[self._status[cid] - 1]
        if f.statuses and status not in f.statuses and cid not in f.in_review:
            return False
        if f.sources and self._sources[self._source[cid] - 1] not in f.sources:
            return False
        needle = needle_of(f.text)
        return not needle or needle in self._texts.get(cid)

    def add_comment(self, c: Comment | ArrivedComment | Row) -> Row | None:
        """One arriving comment, inserted where each order puts it. None if already known."""
        if isinstance(c, Row):
            row = c
        elif isinstance(c, Comment):
            row = Row.from_comment(c)
        else:
            row = Row.from_arrived(c)
        cid = row.id
        if self.known(cid):
            return None
        self._grow(cid)
        self._priority[cid] = row.priority
        self._since[cid] = row.since
        self._status[cid] = self._code(row.status)
        self._source[cid] = self._source_of(row.source)
        self._cluster[cid] = hash(row.cluster)
        self._author[cid] = hash(row.author)
        self._external[cid] = hash(row.external_id)
        self._reply_to[cid] = hash(row.in_reply_to)
        if row.holder:
            self.holders[cid] = row.holder
        if row.tags:
            self.tags[cid] = row.tags
        self._texts.add(cid, row.author, row.text)
        self._found = None
        self._remember((row,))
        self.counts[row.status] += 1
        self.per_minute[int(row.since // 60)] += 1
        bisect.insort(self._by_priority, self._pkey(cid))
        if row.status in UNANSWERED and (self._oldest is None or row.since < self._since[self._oldest]):
            self._oldest_dirty = True
        time_at = bisect.bisect_left(self._by_time, -cid)
        self._by_time.insert(time_at, -cid)
        if self._view is not None and self._passes(cid):
            bisect.insort(self._view, self._key(cid))
        return self.row(cid)

    def _set_status(self, cid: int, status: str, holder: str | None) -> None:
        if not self.known(cid):
            return
        old = self._statuses[self._status[cid] - 1]
        was = self._view is not None and self._passes(cid)
        if old != status:
            self.counts[old] -= 1
            self.counts[status] += 1
            if status in UNANSWERED or cid == self._oldest:
                self._oldest_dirty = True
        self._status[cid] = self._code(status)
        if holder:
            self.holders[cid] = holder
        else:
            self.holders.pop(cid, None)
        if self._view is not None:
            now = self._passes(cid)
            key = self._key(cid)
            if was and not now:
                i = bisect.bisect_left(self._view, key)
                if i < len(self._view) and self._view[i] == key:
                    del self._view[i]
            elif now and not was:
                bisect.insort(self._view, key)

    def set_tags(self, cid: int, tags: tuple[str, ...]) -> None:
        if tags:
            self.tags[cid] = tuple(tags)
        else:
            self.tags.pop(cid, None)

    def thread_ids(self, comment_id: int, limit: int = 20) -> list[int]:
        """Candidates for the comment's context (same author or platform-linked), by hashes: the
        caller checks them against their details (`thread`), which also rules out a collision."""
        if not self.known(comment_id):
            return []
        author, external, reply = (self._author[comment_id], self._external[comment_id],
                                   self._reply_to[comment_id])
        out: list[int] = []
        for column, value in ((self._external, reply), (self._reply_to, external), (self._author, author)):
            if not value:
                continue
            start = 0
            while len(out) < limit * 4:
                try:
                    i = column.index(value, start)
                except ValueError:
                    break
                if i != comment_id and self._status[i] and i not in out:
                    out.append(i)
                start = i + 1
        return out

    def thread(self, comment_id: int, limit: int = 20) -> list[tuple[str, Row]]:
        """The comment's context among the cached details: what it answers, its replies, the author's
        other comments (the room fetches `thread_ids`'s details first)."""
        row = self.row(comment_id)
        if row is None or not row.complete:
            return []
        out: list[tuple[str, Row]] = []
        for cid in sorted(self.thread_ids(comment_id, limit)):
            other = self.row(cid)
            if other is None or not other.complete:
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
        return bisect.bisect_left(self._by_priority, (_FLIP - _monotone(_bits((priority,))[0])) << _ID_BITS)

    def priority_at_rank(self, rank: int) -> float:
        """The priority of the `rank`-th most urgent comment (inf when there are fewer)."""
        if rank >= len(self._by_priority):
            return float("inf")
        return _unmonotone(_FLIP - (self._by_priority[rank] >> _ID_BITS))

    # ----------------------------------------------------------------- counts
    @property
    def total(self) -> int:
        return len(self._by_time)

    @property
    def unanswered(self) -> int:
        return sum(self.counts[s] for s in UNANSWERED)

    def oldest_unanswered(self) -> Row | None:
        """The unanswered comment that has waited longest since it was posted.

        Found by a pass in C (the smallest waiting-since among the unanswered, by a status mask)
        only when something could have changed it: an unanswered comment posted earlier, the
        oldest one answered, a comment put back to waiting (a page loaded is compared alone)."""
        if self._oldest_dirty:
            self._oldest_dirty = False
            self._oldest = None
            # ids below the lowest loaded one hold no comment yet (a load comes newest first): the
            # pass starts there, so the first screen of a million-comment incident looks at its page
            status = self._status
            low = len(status) - len(status.lstrip(b"\x00"))
            waiting = status[low:].translate(self._waiting_table())
            earliest = min(compress(self._since[low:], waiting), default=None)
            start = low
            while earliest is not None:
                i = self._since.index(earliest, start)
                if waiting[i - low]:
                    self._oldest = i
                    break
                start = i + 1
        return self.row(self._oldest) if self._oldest is not None else None

    def rate_series(self, minutes: int, now: float | None = None) -> list[int]:
        """Comments posted per minute over the last `minutes` minutes, oldest first."""
        current = int((time.time() if now is None else now) // 60)
        return [self.per_minute.get(m, 0) for m in range(current - minutes + 1, current + 1)]


def _merge(keys: list[int], page: list[int]) -> None:
    """Merge `page` into the sorted `keys`: Timsort finds the two sorted runs and merges them in C."""
    page.sort()
    if not keys or page[0] > keys[-1]:
        keys.extend(page)
    elif page[-1] < keys[0]:
        keys[0:0] = page
    else:
        keys.extend(page)
        keys.sort()


def _table(codes: list[int]) -> bytes:
    """A translate table from a page's 1-based codes to the index's (0 stays 0)."""
    return bytes([0, *codes, *bytes(255 - len(codes))])


def _and(a: bytes | bytearray, b: bytes | bytearray) -> bytes:
    """Byte-wise AND of two 0/1 masks of the same length (as big ints: one C loop)."""
    size = min(len(a), len(b))
    return (int.from_bytes(a[:size], "little") & int.from_bytes(b[:size], "little")).to_bytes(size, "little")


def _pick(page: CommentKeys, keep: list[int]) -> CommentKeys:
    kept = {page.ids[j] for j in keep}
    return CommentKeys(
        ids=[page.ids[j] for j in keep], priority=[page.priority[j] for j in keep],
        since=[page.since[j] for j in keep], status=[page.status[j] for j in keep],
        source=[page.source[j] for j in keep], author=[page.author[j] for j in keep],
        text=[page.text[j] for j in keep], external_id=[page.external_id[j] for j in keep],
        in_reply_to=[page.in_reply_to[j] for j in keep], cluster=[page.cluster[j] for j in keep],
        holders={k: v for k, v in page.holders.items() if k in kept},
        tags={k: v for k, v in page.tags.items() if k in kept},
    )


class RowsView(Mapping[int, Row]):
    """`state.rows`: every comment's row by id, built when read (iterating a million builds a million)."""

    def __init__(self, index: CommentIndex) -> None:
        self._index = index

    def __getitem__(self, cid: int) -> Row:
        row = self._index.row(cid)
        if row is None:
            raise KeyError(cid)
        return row

    def get(self, cid: int, default: Row | None = None) -> Row | None:  # type: ignore[override]
        return self._index.row(cid) or default

    def __contains__(self, cid: object) -> bool:
        return isinstance(cid, int) and self._index.known(cid)

    def __iter__(self) -> Iterator[int]:
        return (-key for key in reversed(self._index._by_time))

    def __len__(self) -> int:
        return self._index.total


class VisibleRows(Sequence[Row]):
    """The stream's rows in order, built when read."""

    def __init__(self, index: CommentIndex) -> None:
        self._index = index

    def __len__(self) -> int:
        return len(self._index)

    @overload
    def __getitem__(self, i: int) -> Row: ...
    @overload
    def __getitem__(self, i: slice) -> list[Row]: ...
    def __getitem__(self, i: int | slice) -> Row | list[Row]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        row = self._index.row_at(i)
        if row is None:
            raise IndexError(i)
        return row
