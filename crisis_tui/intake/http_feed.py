"""An HTTP JSON feed polled with httpx: a listening tool's API, a webhook relay, a scraper.

Each poll sends If-None-Match / If-Modified-Since with what the last answer
said (kept in the state file across restarts), so an unchanged feed costs a
304 and nothing else. The items of a 200 answer (found at the mapping's
`feed.items` path) go through the TOML mapping to the native shape; items seen
before are duplicates for the store, not new comments. Trouble is retried with
backoff (crisis_tui.intake.poller).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import msgspec

from crisis_tui import json_input
from crisis_tui.comment_shape import parse_comment
from crisis_tui.errors import InvalidInput
from crisis_tui.intake.backoff import Backoff
from crisis_tui.intake.chunk import Chunk, Reject, Stored
from crisis_tui.intake.mapping import MappedValueError, Mapping, dig
from crisis_tui.intake.poller import USER_AGENT, polite_get, sleep_or_stop
from crisis_tui.intake.state import StateFile
from crisis_tui.model import NewComment


class HttpFeed:
    def __init__(
        self,
        url: str,
        mapping: Mapping,
        state: StateFile,
        stop: asyncio.Event,
        *,
        report: Callable[[str], None],
        interval: float = 30.0,
        once: bool = False,
        headers: dict[str, str] | None = None,
        timeout: float = 20.0,
        backoff: Backoff | None = None,
    ) -> None:
        self.url = url
        self.name = url
        self.mapping = mapping
        self.state = state
        self.stop = stop
        self.report = report
        self.interval = interval
        self.once = once
        self.headers = {"User-Agent": USER_AGENT, "Accept": "application/json", **(headers or {})}
        self.timeout = timeout
        self.backoff = backoff or Backoff()
        self.size = None

    def _items(self, body: Any) -> list[Any] | str:
        """The list of items in a response, or why there is none."""
        where = str(self.mapping.feed.get("items", ""))
        value = dig(body, where) if where else body
        if isinstance(value, list):
            return value
        if isinstance(value, dict) and not where:
            return [value]
        if where:
            return f"no list at {where!r} in the response"
        return "the response is not a JSON list (set feed.items in the mapping)"

    def _parse(self, items: list[Any], label: str) -> tuple[list[NewComment], list[Reject]]:
        comments: list[NewComment] = []
        rejects: list[Reject] = []
        for index, item in enumerate(items, 1):
            where = f"{label} item {index}"
            raw = msgspec.json.encode(item).decode("utf-8", "replace")
            if not isinstance(item, dict):
                rejects.append(Reject(where, f"an item must be a JSON object, got {type(item).__name__}", raw))
                continue
            try:
                comments.append(parse_comment(self.mapping.apply(item, flat=False)))
            except (MappedValueError, InvalidInput) as exc:
                rejects.append(Reject(where, str(exc), raw))
        return comments, rejects

    async def chunks(self) -> AsyncIterator[Chunk]:
        saved = self.state.load()
        validators = saved if saved.get("url") == self.url else {}
        async with httpx.AsyncClient(timeout=self.timeout, headers=self.headers, follow_redirects=True) as client:
            while not self.stop.is_set():
                conditional = {}
                if validators.get("etag"):
                    conditional["If-None-Match"] = validators["etag"]
                if validators.get("last_modified"):
                    conditional["If-Modified-Since"] = validators["last_modified"]
                response = await polite_get(
                    client, self.url, stop=self.stop, backoff=self.backoff, report=self.report,
                    label=self.name, headers=conditional, max_failures=3 if self.once else None,
                )
                if response is None:
                    return
                if response.status_code != 304:
                    chunk = self._chunk(response)
                    if chunk is not None:
                        new = {"url": self.url, "etag": response.headers.get("etag", ""),
                               "last_modified": response.headers.get("last-modified", "")}

                        async def done(_: Stored, new: dict[str, str] = new) -> None:
                            validators.update(new)
                            self.state.save(new)

                        chunk.done = done
                        yield chunk
                if self.once or await sleep_or_stop(self.stop, self.interval):
                    return

    def _chunk(self, response: httpx.Response) -> Chunk | None:
        label = f"GET {self.url}"
        try:
            body = json_input.decode(response.content)
        except msgspec.DecodeError as exc:
            self.report(f"{label}: the answer is not JSON ({exc}); trying again at the next poll")
            return None
        items = self._items(body)
        if isinstance(items, str):
            self.report(f"{label}: {items}")
            return None
        comments, rejects = self._parse(items, label)
        return Chunk(comments, rejects)
