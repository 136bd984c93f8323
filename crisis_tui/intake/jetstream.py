"""Bluesky's Jetstream: the public firehose as JSON over a WebSocket, filtered to what the crisis is about.

`crisis-tui ingest INCIDENT jetstream --match "reembolso,refund,#lumobank,@lumobank.bsky.social"`
connects to `wss://HOST/subscribe?wantedCollections=app.bsky.feed.post&cursor=TIME_US`
and keeps the posts that match. Jetstream needs no account; every event
carries `time_us`, the cursor: it is saved after each stored chunk, so a
restart asks for the stream again from there (Jetstream replays from a cursor,
and the store's dedupe turns an event seen twice into a duplicate), with the
handles of the accounts `--match` names that identity events already told. A dropped
connection is reconnected with backoff, from the newest event read.

Each post goes through the shipped `bluesky-jetstream` preset (so a live post
and the same post in a saved JSONL file are one comment), plus what only the
stream knows: the author's handle, once an identity event named it, and the
post's at:// uri, cid and thread root for a reply (crisis_tui.publish.bluesky).
Everything else is skipped and counted: likes, follows and other collections
(a relay that ignores wantedCollections still works), deletes and edits,
identity and account events, and posts that do not match.

A match term is a word or phrase (matched as whole words, case and accents
folded), a `#hashtag` (the post's tag facets or the text), or an `@handle`
(a mention of it, or a post by it once its handle is known).
"""

from __future__ import annotations

import asyncio
import re
import time
import unicodedata
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import msgspec
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidHandshake, InvalidURI, WebSocketException

from crisis_tui import json_input
from crisis_tui.comment_shape import parse_comment
from crisis_tui.errors import InvalidInput
from crisis_tui.intake import presets
from crisis_tui.intake.backoff import Backoff
from crisis_tui.intake.chunk import Chunk, Reject, SourceError, Stored
from crisis_tui.intake.mapping import MappedValueError, Mapping
from crisis_tui.intake.poller import sleep_or_stop
from crisis_tui.intake.state import StateFile
from crisis_tui.model import NewComment

#: The public instance `jetstream` as SOURCE connects to.
DEFAULT_URL = "wss://jetstream2.us-east.bsky.network/subscribe"
POSTS = "app.bsky.feed.post"
#: A chunk is handed to the store at this many events, or after this long with any.
CHUNK_EVENTS = 500
CHUNK_SECONDS = 0.5
#: Largest event accepted (Jetstream's posts are small; a huge frame is refused, not buffered).
MAX_FRAME = 1 << 20
#: Handles remembered from identity events (the firehose names millions of accounts).
MAX_HANDLES = 100_000


def is_jetstream(source: str) -> bool:
    return source == "jetstream" or source.startswith(("ws://", "wss://"))


def endpoint(source: str) -> str:
    return DEFAULT_URL if source == "jetstream" else source


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


class Matcher:
    """Words, #hashtags and @handles from `--match` (see the module docstring)."""

    def __init__(self, spec: str) -> None:
        terms = [term.strip() for term in spec.split(",") if term.strip()]
        if not terms:
            raise InvalidInput("--match", "give at least one word, #hashtag or @handle, such as \"refund,#lumobank\"")
        self.terms = terms
        self.tags = {_fold(t[1:]) for t in terms if t.startswith("#") and len(t) > 1}
        self.handles = {_fold(t[1:]) for t in terms if t.startswith("@") and len(t) > 1}
        words = [_fold(t) for t in terms if not t.startswith(("#", "@"))]
        pattern = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
        self._words = re.compile(rf"(?<!\w)(?:{pattern})(?!\w)") if words else None
        # "#tag" and "@handle" written in the text, for clients that send no facets
        marked = [re.escape("#" + t) for t in self.tags] + [re.escape("@" + h) for h in self.handles]
        self._marked = re.compile(rf"(?<![\w#@])(?:{'|'.join(marked)})(?![\w.-]*\w)") if marked else None

    def matches(self, record: dict[str, Any], author_handle: str) -> bool:
        text = _fold(str(record.get("text") or ""))
        if self._words is not None and self._words.search(text):
            return True
        if self._marked is not None and self._marked.search(text):
            return True
        if author_handle and _fold(author_handle) in self.handles:
            return True
        if self.tags or self.handles:
            for facet in record.get("facets") or []:
                for feature in (facet.get("features") or []) if isinstance(facet, dict) else []:
                    if not isinstance(feature, dict):
                        continue
                    if _fold(str(feature.get("tag") or "")) in self.tags:
                        return True
        return False


def _subscribe_url(base: str, cursor: int | None) -> str:
    parts = urlsplit(base)
    query = [("wantedCollections", POSTS)]
    if cursor is not None:
        query.append(("cursor", str(cursor)))
    extra = f"&{parts.query}" if parts.query else ""
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/subscribe", urlencode(query) + extra, ""))


class JetstreamSource:
    """`ingest INCIDENT jetstream --match TERMS` (see the module docstring)."""

    def __init__(
        self,
        url: str,
        matcher: Matcher,
        state: StateFile,
        stop: asyncio.Event,
        *,
        report: Callable[[str], None],
        once: bool = False,
        quiet: float = 2.0,
        backoff: Backoff | None = None,
        mapping: Mapping | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """`once`: stop when caught up (an event from after the start, or `quiet` seconds without one)."""
        self.url = url
        self.name = urlsplit(url).netloc or url
        self.matcher = matcher
        self.state = state
        self.stop = stop
        self.report = report
        self.once = once
        self.quiet = quiet
        self.backoff = backoff or Backoff()
        self.mapping = mapping or presets.load("bluesky-jetstream")
        self.clock = clock
        self.size = None
        self.cursor: int | None = None
        self.handles: dict[str, str] = {}
        self.caught_up = False
        self.started_us = 0

    # ---------------------------------------------------------------- events
    def _remember(self, event: dict[str, Any]) -> None:
        identity = event.get("identity")
        if isinstance(identity, dict) and identity.get("handle") and event.get("did"):
            if len(self.handles) >= MAX_HANDLES:
                self.handles.clear()
            self.handles[str(event["did"])] = str(identity["handle"])

    def _comment(self, event: dict[str, Any], where: str) -> NewComment | Reject | None:
        """The post as a comment, a reject, or None when the event is skipped."""
        if event.get("kind") == "identity":
            self._remember(event)
            return None
        commit = event.get("commit")
        if event.get("kind") != "commit" or not isinstance(commit, dict):
            return None
        if commit.get("collection") != POSTS or commit.get("operation") != "create":
            return None
        record = commit.get("record")
        if not isinstance(record, dict):
            return None
        did = str(event.get("did") or "")
        handle = self.handles.get(did, "")
        if not self.matcher.matches(record, handle):
            return None
        raw = msgspec.json.encode(event).decode("utf-8", "replace")
        try:
            native = self.mapping.apply(event, flat=False)
            if handle:
                native["author"] = f"@{handle}"
            native["author_did"] = did
            native["bluesky_uri"] = f"at://{did}/{POSTS}/{commit.get('rkey', '')}"
            native["bluesky_cid"] = str(commit.get("cid") or "")
            reply = record.get("reply")
            if isinstance(reply, dict) and isinstance(reply.get("root"), dict):
                native["bluesky_root_uri"] = str(reply["root"].get("uri") or "")
                native["bluesky_root_cid"] = str(reply["root"].get("cid") or "")
            return parse_comment(native)
        except (MappedValueError, InvalidInput) as exc:
            return Reject(where, str(exc), raw)

    def _chunk(self, frames: list[str | bytes]) -> Chunk:
        comments: list[NewComment] = []
        rejects: list[Reject] = []
        skipped = 0
        for frame in frames:
            data = frame.encode("utf-8", "surrogatepass") if isinstance(frame, str) else frame
            try:
                event = json_input.decode(data)
            except msgspec.DecodeError as exc:
                rejects.append(Reject(f"{self.name} event after cursor {self.cursor}", f"not valid JSON: {exc}",
                                      data[:4096].decode("utf-8", "backslashreplace")))
                continue
            if not isinstance(event, dict):
                rejects.append(Reject(f"{self.name} event after cursor {self.cursor}", "not a JSON object",
                                      data[:4096].decode("utf-8", "backslashreplace")))
                continue
            time_us = event.get("time_us")
            if isinstance(time_us, int) and not isinstance(time_us, bool):
                self.cursor = max(self.cursor or 0, time_us)
                if self.once and time_us >= self.started_us:
                    self.caught_up = True
            result = self._comment(event, f"{self.name} event {time_us}")
            if result is None:
                skipped += 1
            elif isinstance(result, Reject):
                rejects.append(result)
            else:
                comments.append(result)
        chunk = Chunk(comments, rejects, skipped=skipped)
        if self.cursor is not None:
            watched = {did: h for did, h in self.handles.items() if _fold(h) in self.matcher.handles}
            saved = {"url": self.url, "cursor": self.cursor, "handles": watched}

            async def done(_: Stored) -> None:
                self.state.save(saved)

            chunk.done = done
        return chunk

    # ---------------------------------------------------------------- stream
    async def _frames(self, ws: ClientConnection) -> AsyncIterator[list[str | bytes]]:
        """Frames in batches of up to CHUNK_EVENTS, or what came within CHUNK_SECONDS."""
        loop = asyncio.get_running_loop()
        while not self.stop.is_set():
            batch: list[str | bytes] = []
            deadline = loop.time() + (self.quiet if self.once else CHUNK_SECONDS)
            first_wait = True
            while len(batch) < CHUNK_EVENTS and not self.stop.is_set():
                left = deadline - loop.time()
                if left <= 0:
                    break
                stopping = asyncio.ensure_future(self.stop.wait())
                receiving = asyncio.ensure_future(ws.recv())
                done, _ = await asyncio.wait({stopping, receiving}, timeout=left, return_when=asyncio.FIRST_COMPLETED)
                stopping.cancel()
                if receiving not in done:
                    receiving.cancel()
                    break
                try:
                    batch.append(receiving.result())
                except WebSocketException:
                    if batch:  # what came before the drop is stored, and the cursor with it
                        yield batch
                    raise
                if first_wait:
                    first_wait = False
                    deadline = loop.time() + CHUNK_SECONDS
            if batch:
                yield batch
            elif self.once:
                self.caught_up = True  # quiet for a while: nothing more to replay
            if self.caught_up:
                return

    async def chunks(self) -> AsyncIterator[Chunk]:
        saved = self.state.load()
        if saved.get("url") == self.url and isinstance(saved.get("cursor"), int):
            self.cursor = int(saved["cursor"])
            self.report(f"{self.name}: resuming from cursor {self.cursor}")
            handles = saved.get("handles")
            if isinstance(handles, dict):
                self.handles.update({str(k): str(v) for k, v in handles.items()})
        self.started_us = int(self.clock() * 1_000_000)
        while not self.stop.is_set() and not self.caught_up:
            url = _subscribe_url(self.url, self.cursor)
            try:
                async with connect(url, max_size=MAX_FRAME, open_timeout=20, user_agent_header="crisis-tui-intake") as ws:
                    self.backoff.reset()
                    async for frames in self._frames(ws):
                        yield self._chunk(frames)
                    return
            except InvalidURI:
                raise SourceError(f"{self.url}: not a WebSocket URL (ws:// or wss://)") from None
            except (OSError, TimeoutError, InvalidHandshake, WebSocketException) as exc:
                problem = str(exc) or type(exc).__name__
            if self.once and self.backoff.failures + 1 >= 3:
                raise SourceError(f"{self.name}: {problem} ({self.backoff.failures + 1} tries)")
            delay = self.backoff.next()
            self.report(f"{self.name}: {problem}; reconnecting in {delay:.1f} s from cursor {self.cursor}")
            if await sleep_or_stop(self.stop, delay):
                return
