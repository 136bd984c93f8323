"""A page of the room's compact read, packed by the loader process for the room to take in C.

`CommentKeys` is a page as Python objects: a million comments are five million strings
and floats made by the room's process while it also paints, answers keys and merges
(at 1M the room's main thread waited 3.9 s on the reads and spent 1 s transposing
them). The loader process (crisis_tui.loader_process) reads the same pages and packs
each here: numbers as the bytes of arrays, statuses and sources as codes into a small
table, the texts already folded into the blob the text filter searches (comment_texts),
the per-minute counts counted. The room then turns a page into its index columns with
`array.frombytes` and `bytes.translate`; only the strings it hashes (author, thread and
cluster links) are decoded one by one, in msgspec's C. Plain data, no Textual.

A page on the pipe is one frame: its length as 8 bytes (little-endian), then the page as
MessagePack.
"""

from __future__ import annotations

import bisect
from array import array
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from itertools import accumulate, repeat
from operator import floordiv

import msgspec

from crisis_tui.comment_texts import fold_page
from crisis_tui.model import CommentKeys
from crisis_tui.store.protocol import IncidentStore

#: Bytes of a frame's length.
LENGTH = 8
#: The most bytes one frame may claim (a page of 25,000 comments is about 4 MB): a longer length is a broken pipe.
MOST = 1 << 30


class PackedKeys(msgspec.Struct, array_like=True):
    """One page (ids ascending) as the loader process sends it."""

    ids: bytes  # array("q")
    priority: bytes  # array("d")
    since: bytes  # array("d")
    #: Each comment's status as a 1-based code into `statuses` (and the same for sources).
    status: bytes
    statuses: list[str]
    source: bytes
    sources: list[str]
    author: list[str]
    external_id: list[str]
    in_reply_to: list[str]
    cluster: list[str]
    #: comment_texts.fold_page of the page's authors and texts, and where each comment starts.
    folded: bytes
    starts: bytes  # array("q")
    #: Comments posted (waiting since) in each minute: what CommentIndex.per_minute counts.
    minutes: dict[int, int]
    holders: dict[int, str] = {}
    tags: dict[int, list[str]] = {}

    def id_array(self) -> array[int]:
        out = array("q")
        out.frombytes(self.ids)
        return out

    def floats(self, column: bytes) -> array[float]:
        out = array("d")
        out.frombytes(column)
        return out


def minute_counts(since: Iterable[float]) -> Counter[int]:
    """Comments by the minute they wait since, as CommentIndex.per_minute counts them."""
    return Counter(map(int, map(floordiv, since, repeat(60.0))))


def page_bounds(upper: int, page: int, lower: int = 0) -> Iterator[tuple[int, int]]:
    """The ids (lower, upper] in pages of `page` ids, newest first, each as its (lower, upper]."""
    while upper > lower:
        yield max(lower, upper - page), upper
        upper -= page


_encode = msgspec.msgpack.Encoder().encode
_decode = msgspec.msgpack.Decoder(PackedKeys).decode


def _coded(values: Sequence[str]) -> tuple[bytes, list[str]]:
    names = sorted(set(values))
    if len(names) > 255:
        raise ValueError(f"{len(names)} different values in one column: at most 255 fit a code")
    code = {name: i + 1 for i, name in enumerate(names)}
    return bytes(map(code.__getitem__, values)), names


def pack(page: CommentKeys) -> PackedKeys:
    """`page` (ids ascending) packed."""
    status, statuses = _coded(page.status)
    source, sources = _coded(page.source)
    blob, starts = fold_page(page.author, page.text) if page.ids else (b"", array("q", [0]))
    return PackedKeys(
        ids=array("q", page.ids).tobytes(), priority=array("d", page.priority).tobytes(),
        since=array("d", page.since).tobytes(), status=status, statuses=statuses, source=source, sources=sources,
        author=list(page.author), external_id=list(page.external_id), in_reply_to=list(page.in_reply_to),
        cluster=list(page.cluster), folded=blob, starts=starts.tobytes(),
        minutes=dict(minute_counts(page.since)),
        holders=dict(page.holders), tags={k: list(v) for k, v in page.tags.items()},
    )


def pick(page: PackedKeys, keep: Sequence[int]) -> PackedKeys:
    """The page's comments at the positions `keep` (ascending), packed again."""
    ids, starts = page.id_array(), array("q")
    starts.frombytes(page.starts)
    priority, since = page.floats(page.priority), page.floats(page.since)
    kept = {ids[j] for j in keep}
    pieces = [page.folded[starts[j]:starts[j + 1] - 1] for j in keep]
    folded = b"\x00".join(pieces) + b"\x00" if pieces else b""
    at = array("q", [0])
    at.extend(accumulate(len(piece) + 1 for piece in pieces))
    picked_since = [since[j] for j in keep]
    return PackedKeys(
        ids=array("q", (ids[j] for j in keep)).tobytes(), priority=array("d", (priority[j] for j in keep)).tobytes(),
        since=array("d", picked_since).tobytes(), status=bytes(page.status[j] for j in keep), statuses=page.statuses,
        source=bytes(page.source[j] for j in keep), sources=page.sources,
        author=[page.author[j] for j in keep], external_id=[page.external_id[j] for j in keep],
        in_reply_to=[page.in_reply_to[j] for j in keep], cluster=[page.cluster[j] for j in keep],
        folded=folded, starts=at.tobytes(),
        minutes=dict(minute_counts(picked_since)),
        holders={k: v for k, v in page.holders.items() if k in kept},
        tags={k: v for k, v in page.tags.items() if k in kept},
    )


def keys_upto(page: CommentKeys, upper: int) -> CommentKeys:
    """The part of `page` (ids ascending) up to id `upper` (a page read by count runs past a gap in the ids)."""
    n = bisect.bisect_right(page.ids, upper)
    kept = set(page.ids[:n])
    return CommentKeys(
        ids=page.ids[:n], priority=page.priority[:n], since=page.since[:n], status=page.status[:n],
        source=page.source[:n], author=page.author[:n], text=page.text[:n], external_id=page.external_id[:n],
        in_reply_to=page.in_reply_to[:n], cluster=page.cluster[:n],
        holders={k: v for k, v in page.holders.items() if k in kept},
        tags={k: v for k, v in page.tags.items() if k in kept},
    )


async def keys_page(store: IncidentStore, incident_id: str, lower: int, upper: int) -> CommentKeys:
    """The store's compact read of the comments with ids in (lower, upper]."""
    page = await store.comment_keys(incident_id, after_id=lower, limit=upper - lower)
    return keys_upto(page, upper) if page.ids and page.ids[-1] > upper else page  # ids with gaps ran past


def frame(page: PackedKeys) -> bytes:
    data = _encode(page)
    return len(data).to_bytes(LENGTH, "little") + data


def length_of(header: bytes) -> int:
    """The length a frame's header gives (ValueError when no page is that long)."""
    size = int.from_bytes(header, "little")
    if len(header) != LENGTH or size > MOST:
        raise ValueError(f"a frame header of {len(header)} bytes giving {size:,}: not a loader's page")
    return size


def decoded(data: bytes) -> PackedKeys:
    """A frame's page, checked: every column as long as its ids (ValueError when not)."""
    try:
        page = _decode(data)
    except msgspec.DecodeError as exc:
        raise ValueError(f"not a loader's page: {exc}") from exc
    n = len(page.ids) // 8
    sizes = (len(page.ids) % 8, len(page.priority) - 8 * n, len(page.since) - 8 * n, len(page.status) - n,
             len(page.source) - n, len(page.author) - n, len(page.external_id) - n, len(page.in_reply_to) - n,
             len(page.cluster) - n, len(page.starts) - 8 * (n + 1))
    if any(sizes) or max(page.status, default=1) > len(page.statuses) or max(page.source, default=1) > len(page.sources) \
            or 0 in page.status or 0 in page.source:
        raise ValueError(f"a loader's page of {n} comments whose columns disagree")
    if not _ascending(page.id_array()):
        raise ValueError(f"a loader's page of {n} comments whose ids are not ascending")
    return page


def _ascending(ids: array[int]) -> bool:
    if len(ids) and ids[-1] - ids[0] + 1 == len(ids):  # a run, as nearly every page is: compared in C
        return ids == array("q", range(ids[0], ids[-1] + 1))
    return all(a < b for a, b in zip(ids, ids[1:], strict=False))
