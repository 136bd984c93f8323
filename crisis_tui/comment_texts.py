"""What the stream's text filter searches: every comment's author and text, folded, in a few big blobs.

A million `str` objects would cost 50 bytes of header each and a Python step each
to search; here a page of comments is one `bytes` blob (casefolded, UTF-8, each
comment's author and text joined by a newline, comments separated by NUL) with an
array of where each comment starts. A filter is `bytes.find` running in C over the
blobs, with one bisection per match to name the comment. UTF-8 is self-synchronising,
so a match of a folded needle is always a match of whole characters; a needle holds
no NUL, so it never spans two comments. Plain Python, no Textual.
"""

from __future__ import annotations

import bisect
from array import array
from collections.abc import Sequence
from itertools import accumulate, repeat

#: Comments arriving one by one wait in a small dict, and become a blob of their own at this many.
SEAL_AT = 4096
_SEP = b"\x00"


def fold(author: str, text: str) -> bytes:
    """One comment as the filter searches it (a NUL in hostile text would read as a separator)."""
    return f"{author}\n{text}".casefold().replace("\x00", " ").encode("utf-8", "surrogatepass")


def needle_of(text: str) -> bytes:
    """The typed filter text as the blobs hold it (empty: no text filter)."""
    return text.strip().casefold().replace("\x00", " ").encode("utf-8", "surrogatepass")


def fold_page(authors: Sequence[str], texts: Sequence[str]) -> tuple[bytes, array[int]]:
    """A page of comments as one blob of `fold`ed texts, each followed by a NUL, and where each
    starts (plus the end): what the filter searches, made in one pass of C calls."""
    joined = "\x00".join(map("\n".join, zip(authors, texts, strict=True)))
    if joined.count("\x00") != len(authors) - 1:  # a NUL in someone's text: the slow, careful way
        joined = "\x00".join(f"{a}\n{t}".replace("\x00", " ") for a, t in zip(authors, texts, strict=True))
    blob = joined.casefold().encode("utf-8", "surrogatepass") + _SEP
    return blob, _starts(blob[:-1].split(_SEP))


def _starts(pieces: Sequence[bytes]) -> array[int]:
    starts = array("q", [0])
    starts.extend(accumulate(map((1).__add__, map(len, pieces))))
    return starts


class _Blob:
    """One page's folded texts: ids ascending, `starts[i]` where comment i begins (plus the end)."""

    __slots__ = ("blob", "ids", "starts")

    def __init__(self, ids: Sequence[int], pieces: Sequence[bytes]) -> None:
        self.ids = array("q", ids)
        self.blob = _SEP.join(pieces) + _SEP
        self.starts = _starts(pieces)

    @classmethod
    def of(cls, ids: Sequence[int], blob: bytes, starts: array[int]) -> _Blob:
        made = cls.__new__(cls)
        made.ids, made.blob, made.starts = array("q", ids), blob, starts
        return made

    def get(self, cid: int) -> bytes | None:
        i = bisect.bisect_left(self.ids, cid)
        if i == len(self.ids) or self.ids[i] != cid:
            return None
        return self.blob[self.starts[i]:self.starts[i + 1] - 1]

    def search(self, needle: bytes, mask: bytearray) -> None:
        """Set `mask[id]` for every comment here whose folded text holds `needle`. Each match is
        three calls in C (the needle, the end of its comment, the separators counted since the
        last one): a bisection of `starts` per match cost 2.4 us, most of a filter on a common
        word, a sixth of a million comments."""
        blob, ids = self.blob, self.ids
        if not needle:  # every text holds it (and the walk below would never end)
            for cid in ids:
                mask[cid] = 1
            return
        find, count = blob.find, blob.count
        pos = find(needle)
        i = 0  # the comment that holds `pos`, counted from `after`
        after = 0
        while pos >= 0:
            i += count(_SEP, after, pos)
            mask[ids[i]] = 1
            after = find(_SEP, pos) + 1
            i += 1
            pos = find(needle, after)


class FoldedTexts:
    """Every comment's folded author and text, by id."""

    def __init__(self) -> None:
        self._blobs: list[_Blob] = []
        self._blob_of: array[int] = array("H")  # by id: 1 + the blob's number, 0 when in the tail
        self._tail: dict[int, bytes] = {}

    def add_page(self, ids: Sequence[int], authors: Sequence[str], texts: Sequence[str]) -> None:
        """A page of comments (ids ascending, none known yet)."""
        if ids:
            self.add_folded(ids, *fold_page(authors, texts))

    def add_folded(self, ids: Sequence[int], blob: bytes, starts: array[int]) -> None:
        """A page `fold_page` made (ids ascending, none known yet), perhaps in another process."""
        if len(starts) != len(ids) + 1 or (ids and (starts[-1] != len(blob) or blob[-1:] != _SEP)):
            raise ValueError(f"a folded page of {len(ids)} comments with {len(starts) - 1} texts")
        self._add_blob(ids, _Blob.of(ids, blob, starts))

    def _add_blob(self, ids: Sequence[int], blob: _Blob) -> None:
        if len(self._blobs) >= 65_534:  # the by-id array holds a blob's number in 16 bits
            self._merge_blobs()
        self._blobs.append(blob)
        number = len(self._blobs)
        self._grow(max(ids))
        where = self._blob_of
        if ids[-1] - ids[0] + 1 == len(ids):  # a run of ids (a page of a load): one slice
            where[ids[0]:ids[-1] + 1] = array("H", repeat(number, len(ids)))
        else:
            for cid in ids:
                where[cid] = number

    def _merge_blobs(self) -> None:
        texts: dict[int, bytes] = {}
        for blob in self._blobs:
            for cid in blob.ids:
                texts[cid] = blob.get(cid) or b""
        self._blobs = []
        ids = sorted(texts)
        self._add_blob(ids, _Blob(ids, [texts[i] for i in ids]))

    def _grow(self, cid: int) -> None:
        if cid >= len(self._blob_of):
            self._blob_of.frombytes(bytes(2 * (cid + 1 - len(self._blob_of))))

    def add(self, cid: int, author: str, text: str) -> None:
        """One arriving comment."""
        self._grow(cid)
        self._tail[cid] = fold(author, text)
        if len(self._tail) >= SEAL_AT:
            ids = sorted(self._tail)
            tail, self._tail = self._tail, {}
            self._add_blob(ids, _Blob(ids, [tail[i] for i in ids]))

    def get(self, cid: int) -> bytes:
        """The folded text of one comment (empty when unknown)."""
        if cid in self._tail:
            return self._tail[cid]
        number = self._blob_of[cid] if 0 <= cid < len(self._blob_of) else 0
        return (self._blobs[number - 1].get(cid) or b"") if number else b""

    def search(self, needle: bytes, size: int) -> bytearray:
        """A mask by id (length `size`): 1 where the comment's folded text holds `needle`."""
        mask = bytearray(size)
        for blob in self._blobs:
            blob.search(needle, mask)
        for cid, folded in self._tail.items():
            if needle in folded and cid < size:
                mask[cid] = 1
        return mask
