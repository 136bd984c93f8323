"""An HTTP JSON feed polled with httpx: a listening tool's API, a webhook relay, a scraper.

Each poll sends If-None-Match / If-Modified-Since with what the last answer
said (kept in the state file across restarts), so an unchanged feed costs a
304 and nothing else. The items of a 200 answer (found at the mapping's
`json.items` paths, replies and side tables included: intake.json_items)
go through the TOML mapping to the native shape; items seen before are
duplicates for the store, not new comments. Trouble is retried with backoff
(crisis_tui.intake.poller). With `once`, an answer that cannot be used (not
JSON, no list where the mapping looks) ends the run with that reason. A feed
that wants its key in the URL (`?api_key=`, `?token=`) is named without it in
every message and reject (crisis_tui.secret_query).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import httpx
import msgspec

from crisis_tui import json_input
from crisis_tui.intake.backoff import Backoff
from crisis_tui.intake.chunk import Chunk, SourceError, Stored
from crisis_tui.intake.json_items import map_answer, missing_items
from crisis_tui.intake.mapping import Mapping
from crisis_tui.intake.poller import USER_AGENT, polite_get, sleep_or_stop
from crisis_tui.intake.state import StateFile
from crisis_tui.secret_query import scrubbed


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
        self.name = scrubbed(url)
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
                    if isinstance(chunk, str):
                        if self.once:
                            raise SourceError(chunk)
                        self.report(f"{chunk}; trying again at the next poll")
                    else:
                        new = {"url": self.url, "etag": response.headers.get("etag", ""),
                               "last_modified": response.headers.get("last-modified", "")}

                        async def done(_: Stored, new: dict[str, str] = new) -> None:
                            validators.update(new)
                            self.state.save(new)

                        chunk.done = done
                        yield chunk
                if self.once or await sleep_or_stop(self.stop, self.interval):
                    return

    def _chunk(self, response: httpx.Response) -> Chunk | str:
        """The answer's comments, or why the answer cannot be used (one line)."""
        label = f"GET {self.name}"
        try:
            body = json_input.decode(response.content)
        except msgspec.DecodeError as exc:
            return f"{label}: the answer is not JSON ({exc})"
        problem = missing_items(body, self.mapping)
        if problem:
            return f"{label}: {problem}"
        mapped = map_answer(body, self.mapping, label)
        return Chunk(mapped.comments, mapped.rejects, skipped=mapped.skipped, replies=mapped.replies)
