"""Near-duplicate clustering: copy-paste campaigns become one cluster.

A bot farm pastes one line with small changes (an emoji, "!!!", another
hashtag, a number). Texts are reduced to their words (lower case, accents kept
out, mentions and hashtags as plain words, numbers and links dropped); an exact
match of that word sequence joins a cluster at once, and otherwise texts whose
word *sets* overlap enough (Jaccard >= similarity) join the same cluster. To
find candidates without comparing against everything, each text is indexed
under its few smallest word hashes (a bottom-k sketch): near-duplicates very
likely share one. Memory is bounded: the oldest clusters are forgotten first.

Cluster ids are stable across processes and restarts (a hash of the founding
text), so two intake processes name the same campaign the same way.
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from dataclasses import dataclass, field

from crisis_tui.tone.text import fold

_DROP = re.compile(r"https?://\S+|www\.\S+|\d+")
_WORD = re.compile(r"[^\W\d_]{2,}")
SKETCH = 3
BUCKET_CAP = 4


@dataclass
class Cluster:
    id: str
    words: frozenset[str]
    size: int = 0
    authors: set[str] = field(default_factory=set)


def words_of(text: str) -> list[str]:
    """The words a copy-paste comparison looks at."""
    return _WORD.findall(fold(_DROP.sub(" ", text)))


class ClusterIndex:
    """Assigns each text to a cluster; see the module docstring."""

    def __init__(self, similarity: float = 0.6, min_words: int = 4, capacity: int = 50_000) -> None:
        self.similarity = similarity
        self.min_words = min_words
        self.capacity = capacity
        self._clusters: OrderedDict[str, Cluster] = OrderedDict()
        self._exact: dict[str, str] = {}
        self._buckets: dict[int, list[str]] = {}

    def __len__(self) -> int:
        return len(self._clusters)

    def get(self, cluster_id: str) -> Cluster | None:
        return self._clusters.get(cluster_id)

    def add(self, text: str, author: str, words: list[str] | None = None) -> Cluster:
        """Put one text in its cluster (a new one if it resembles nothing) and return it.
        `words`: the text's folded words when the caller has them (digits are dropped here)."""
        words = words_of(text) if words is None else [w for w in words if len(w) > 1 and not w.isdigit()]
        key = " ".join(words) if words else text.strip().casefold()
        cluster_id = self._exact.get(key)
        known = self._clusters.get(cluster_id) if cluster_id is not None else None
        if known is not None:
            cluster = known
        else:
            unique = frozenset(words)
            # The sketch lives only in memory, so the process's own str hash will do.
            sketch = sorted(map(hash, unique))[:SKETCH] if len(unique) >= self.min_words else []
            near = self._nearest(unique, sketch) if sketch else None
            cluster = near if near is not None else self._found(key, unique, sketch)
            self._exact[key] = cluster.id
        cluster.size += 1
        if len(cluster.authors) < 1000:
            cluster.authors.add(author)
        self._clusters.move_to_end(cluster.id)
        return cluster

    def _nearest(self, words: frozenset[str], sketch: list[int]) -> Cluster | None:
        seen: set[str] = set()
        for h in sketch:
            for cluster_id in self._buckets.get(h, ()):
                if cluster_id in seen:
                    continue
                seen.add(cluster_id)
                cluster = self._clusters.get(cluster_id)
                if cluster is None:
                    continue
                shared = len(words & cluster.words)
                if shared / (len(words) + len(cluster.words) - shared) >= self.similarity:
                    return cluster
        return None

    def _found(self, key: str, words: frozenset[str], sketch: list[int]) -> Cluster:
        digest = hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=6).hexdigest()
        cluster_id = f"c{digest}"
        existing = self._clusters.get(cluster_id)
        if existing is not None:
            return existing
        cluster = Cluster(id=cluster_id, words=words)
        self._clusters[cluster_id] = cluster
        for h in sketch:
            bucket = self._buckets.setdefault(h, [])
            bucket.append(cluster_id)
            if len(bucket) > BUCKET_CAP:
                del bucket[0]
        if len(self._clusters) > self.capacity:
            self._forget_oldest()
        return cluster

    def _forget_oldest(self) -> None:
        """Drop the least recently seen cluster (and, now and then, the exact keys naming gone ones)."""
        self._clusters.popitem(last=False)
        if len(self._exact) > 4 * self.capacity:
            self._exact = {k: v for k, v in self._exact.items() if v in self._clusters}
