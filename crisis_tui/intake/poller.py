"""One polite GET for the pollers (HTTP feed, Mastodon): retries with backoff on
transient trouble, one clear line for trouble that retrying cannot fix.

Transient: connection errors, timeouts, 408, 425, 429 and 5xx (waiting as long
as the server's Retry-After or X-RateLimit-Reset asks, at least the backoff).
Permanent: every other 4xx (a wrong URL, token or tag does not fix itself),
raised as a Refused (a SourceError) naming the URL and the status, with the
response kept for a platform's adapter to say more (YouTube's quotaExceeded).
A secret in the query (YouTube's `key`, a webhook's `access_token`) is never
shown: crisis_tui.secret_query scrubs it from every URL a message names.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx

from crisis_tui.intake.backoff import Backoff, retry_after
from crisis_tui.intake.chunk import SourceError
from crisis_tui.secret_query import scrubbed

TRANSIENT = frozenset({408, 425, 429})
USER_AGENT = "crisis-tui-intake"


class Refused(SourceError):
    """A 4xx that retrying cannot fix; `response` is the server's answer, for a platform's own words."""

    def __init__(self, message: str, response: httpx.Response) -> None:
        super().__init__(message)
        self.response = response


def _rate_limit_reset(response: httpx.Response) -> float | None:
    """X-RateLimit-Reset as seconds from now, when remaining is 0: Mastodon sends an ISO time,
    Reddit the seconds left in its window (and a remaining count such as "0.0")."""
    remaining = response.headers.get("x-ratelimit-remaining", "")
    try:
        if float(remaining) > 0:
            return None
    except ValueError:
        return None
    reset = response.headers.get("x-ratelimit-reset")
    if not reset:
        return None
    if reset.replace(".", "", 1).isdigit():
        return float(reset)
    try:
        return max(0.0, datetime.fromisoformat(reset.replace("Z", "+00:00")).timestamp() - time.time())
    except ValueError:
        return None


async def sleep_or_stop(stop: asyncio.Event, seconds: float) -> bool:
    """Wait `seconds` unless stopped first; True when stopped."""
    try:
        await asyncio.wait_for(stop.wait(), max(seconds, 0.0))
    except TimeoutError:
        return False
    return True


async def polite_get(
    client: httpx.AsyncClient,
    url: str,
    *,
    stop: asyncio.Event,
    backoff: Backoff,
    report: Callable[[str], None],
    label: str,
    params: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    max_failures: int | None = None,
) -> httpx.Response | None:
    """The response (2xx or 304), or None when stopped while waiting to retry."""
    while not stop.is_set():
        try:
            response = await client.get(url, params=params, headers=headers)
        except httpx.HTTPError as exc:
            problem = scrubbed(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
            server_says = None
        else:
            status = response.status_code
            if status < 300 or status == 304:
                backoff.reset()
                return response
            if status not in TRANSIENT and status < 500:
                raise Refused(f"{label}: HTTP {status} {response.reason_phrase} for {scrubbed(str(response.url))}",
                              response)
            problem = f"HTTP {status} {response.reason_phrase}"
            server_says = retry_after(response.headers.get("retry-after")) or _rate_limit_reset(response)
        if max_failures is not None and backoff.failures + 1 >= max_failures:
            raise SourceError(f"{label}: {problem} ({backoff.failures + 1} tries)")
        delay = backoff.next(server_says)
        report(f"{label}: {problem}; retrying in {delay:.1f} s")
        if await sleep_or_stop(stop, delay):
            return None
    return None
