"""A Mastodon hashtag's public timeline, through Mastodon's own REST API.

`GET /api/v1/timelines/tag/:hashtag` answers statuses newest first, at most
`limit` (40) a page, with a Link header: rel="next" goes to older statuses
(`max_id`), rel="prev" to newer ones (`min_id`). The adapter:

- at the first start reads the newest page, and `--backfill N` older pages
  through rel="next";
- then polls with `min_id` = the newest status it stored and follows rel="prev"
  until a page comes back empty. `min_id` pages forward without gaps; `since_id`
  would answer the newest page only and skip statuses when more than a page
  arrived between two polls, so it is used only when given by hand
  (`--since-id`, to start after a known status);
- keeps the newest id in the state file, so a restart goes on where it stopped.

Each status becomes a native comment: the HTML content as plain text
(crisis_tui.intake.html_text), the account's numbers for bot suspicion (age,
followers, following, statuses, the `bot` flag) and the status's counts for
reach. Boosts are skipped (the boosted status is the comment). Some instances
require a token even for public timelines (`--mastodon-token`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
import msgspec

from crisis_tui import json_input
from crisis_tui.comment_shape import parse_comment
from crisis_tui.errors import InvalidInput
from crisis_tui.intake.backoff import Backoff
from crisis_tui.intake.chunk import Chunk, Reject, SourceError, Stored
from crisis_tui.intake.html_text import html_to_text
from crisis_tui.intake.poller import USER_AGENT, polite_get, sleep_or_stop
from crisis_tui.intake.state import StateFile
from crisis_tui.model import NewComment

PAGE = 40
#: Most pages followed in one catch-up (40 x 250 = 10,000 statuses), so a poll always ends.
MAX_PAGES = 250


def parse_tag_url(url: str) -> tuple[str, str] | None:
    """(instance base URL, hashtag) from https://host/tags/NAME or https://host/api/v1/timelines/tag/NAME."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    path = parts.path.rstrip("/")
    for prefix in ("/tags/", "/api/v1/timelines/tag/"):
        if path.startswith(prefix) and "/" not in path[len(prefix):] and path[len(prefix):]:
            return f"{parts.scheme}://{parts.netloc}", path[len(prefix):].lstrip("#")
    return None


def _id(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1


def status_to_native(status: dict[str, Any], host: str) -> dict[str, Any]:
    """One Mastodon Status entity in the native comment shape."""
    account = status.get("account") or {}
    acct = str(account.get("acct") or account.get("username") or "")
    if acct and "@" not in acct:
        acct = f"{acct}@{host}"
    text = html_to_text(str(status.get("content") or ""))
    spoiler = str(status.get("spoiler_text") or "").strip()
    if spoiler:
        text = f"CW: {spoiler}\n\n{text}" if text else f"CW: {spoiler}"
    media = status.get("media_attachments") or []
    if not text.strip() and media:
        described = "; ".join(str(m.get("description") or "").strip() for m in media if isinstance(m, dict))
        said = ": " + described if described.strip("; ") else ""
        text = f"({len(media)} attachment{'s' if len(media) != 1 else ''} without text{said})"
    native: dict[str, Any] = {
        "source": "mastodon",
        "id": str(status.get("uri") or f"https://{host}/statuses/{status.get('id')}"),
        "author": f"@{acct}" if acct else "",
        "text": text,
        "posted_at": status.get("created_at"),
        "lang": status.get("language") or "",
        "url": str(status.get("url") or status.get("uri") or ""),
        "likes": status.get("favourites_count") or 0,
        "shares": status.get("reblogs_count") or 0,
        "replies": status.get("replies_count") or 0,
        "author_followers": account.get("followers_count"),
        "author_following": account.get("following_count"),
        "author_created_at": account.get("created_at"),
        "in_reply_to": str(status.get("in_reply_to_id") or ""),
        "mastodon_id": str(status.get("id") or ""),
        "author_bot": account.get("bot") is True,
        "author_name": str(account.get("display_name") or ""),
    }
    if isinstance(account.get("statuses_count"), int):
        native["author_statuses"] = account["statuses_count"]
    return native


class MastodonTag:
    def __init__(
        self,
        base_url: str,
        tag: str,
        state: StateFile,
        stop: asyncio.Event,
        *,
        report: Callable[[str], None],
        interval: float = 30.0,
        once: bool = False,
        backfill: int = 0,
        since_id: str | None = None,
        token: str | None = None,
        timeout: float = 20.0,
        backoff: Backoff | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.tag = tag
        self.host = urlsplit(self.base_url).netloc
        self.endpoint = f"{self.base_url}/api/v1/timelines/tag/{quote(tag, safe='')}"
        self.name = f"{self.host} #{tag}"
        self.state = state
        self.stop = stop
        self.report = report
        self.interval = interval
        self.once = once
        self.backfill = backfill
        self.since_id = since_id
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.headers = headers
        self.timeout = timeout
        self.backoff = backoff or Backoff()
        self.size = None
        self.newest: str | None = None

    # ---------------------------------------------------------------- pages
    async def _page(
        self, client: httpx.AsyncClient, url: str, params: dict[str, Any] | None
    ) -> tuple[list[Any], httpx.Response] | None:
        response = await polite_get(
            client, url, params=params, stop=self.stop, backoff=self.backoff, report=self.report,
            label=self.name, max_failures=3 if self.once else None,
        )
        if response is None:
            return None
        try:
            statuses = json_input.decode(response.content)
        except msgspec.DecodeError as exc:
            raise SourceError(f"{self.name}: the answer is not JSON ({exc}): is this a Mastodon server?") from None
        if not isinstance(statuses, list):
            raise SourceError(f"{self.name}: the answer is not a list of statuses: is this a Mastodon server?")
        return statuses, response

    def _chunk(self, statuses: list[Any], *, advance: bool) -> Chunk:
        comments: list[NewComment] = []
        rejects: list[Reject] = []
        newest = self.newest
        for status in reversed(statuses):  # oldest first, as they were posted
            if not isinstance(status, dict):
                rejects.append(Reject(f"{self.name} status", "not a JSON object", msgspec.json.encode(status).decode()))
                continue
            if advance and _id(status.get("id")) > _id(newest):
                newest = str(status.get("id"))
            if status.get("reblog"):
                continue
            where = f"{self.name} status {status.get('id')}"
            try:
                comments.append(parse_comment(status_to_native(status, self.host)))
            except InvalidInput as exc:
                rejects.append(Reject(where, str(exc), msgspec.json.encode(status).decode("utf-8", "replace")))
        chunk = Chunk(comments, rejects)
        if advance and newest is not None:
            cursor = {"base_url": self.base_url, "tag": self.tag, "newest": newest}

            async def done(_: Stored) -> None:
                self.state.save(cursor)

            self.newest = newest
            chunk.done = done
        return chunk

    async def _catch_up(self, client: httpx.AsyncClient) -> AsyncIterator[Chunk]:
        """Everything newer than `self.newest`, page by page (min_id, then rel="prev")."""
        url: str = self.endpoint
        params: dict[str, Any] | None = {"min_id": self.newest, "limit": PAGE}
        for _ in range(MAX_PAGES):
            got = await self._page(client, url, params)
            if got is None:
                return
            statuses, response = got
            if not statuses:
                return
            yield self._chunk(statuses, advance=True)
            prev = response.links.get("prev", {}).get("url")
            if not prev:
                return
            url, params = prev, None

    async def _first(self, client: httpx.AsyncClient) -> AsyncIterator[Chunk]:
        """The newest page (or the page after --since-id), then --backfill older pages."""
        params: dict[str, Any] = {"limit": PAGE}
        if self.since_id:
            params["since_id"] = self.since_id
        got = await self._page(client, self.endpoint, params)
        if got is None:
            return
        statuses, response = got
        yield self._chunk(statuses, advance=True)
        for _ in range(self.backfill):
            older = response.links.get("next", {}).get("url")
            if not older or self.stop.is_set():
                return
            got = await self._page(client, older, None)
            if got is None or not got[0]:
                return
            statuses, response = got
            yield self._chunk(statuses, advance=False)

    async def chunks(self) -> AsyncIterator[Chunk]:
        saved = self.state.load()
        if saved.get("base_url") == self.base_url and saved.get("tag") == self.tag and saved.get("newest"):
            self.newest = str(saved["newest"])
        async with httpx.AsyncClient(timeout=self.timeout, headers=self.headers, follow_redirects=True) as client:
            pages = self._catch_up(client) if self.newest else self._first(client)
            async for chunk in pages:
                yield chunk
            while not self.once and not await sleep_or_stop(self.stop, self.interval):
                if self.newest is None:
                    async for chunk in self._first(client):
                        yield chunk
                    continue
                async for chunk in self._catch_up(client):
                    yield chunk
