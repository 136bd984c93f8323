"""The server's limits, with defaults a committee never notices and a flood does."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ServerSettings:
    """Limits per request and per token; `crisis-tui serve` options map onto these."""

    #: Largest request body in bytes (a batch of 100 ordinary comments is ~40 KB;
    #: one comment may carry up to 128 KiB of text).
    max_body: int = 4 * 1024 * 1024
    #: Most comments in one webhook batch.
    max_batch: int = 1000
    #: Sustained requests per second per token, and the burst allowed above it.
    rate: float = 200.0
    burst: int = 400
    #: Seconds between keep-alive comments on an idle event stream; clients
    #: treat three missed pings as a dead connection, so a network that drops
    #: without a word (Wi-Fi gone, a laptop lid) shows "reconnecting" in ~15 s.
    ping_interval: float = 5.0
    #: Most events or comments one JSON page answers.
    page_max: int = 5000
    #: Most live event streams one token may hold open (429 past it).
    max_streams: int = 8
    #: Bytes of events a live stream holds for a reader that has not taken them yet.
    stream_buffer: int = 1024 * 1024
    #: Seconds a reader may take nothing before its stream is dropped (it resumes with Last-Event-ID).
    stream_stall: float = 30.0
    #: Meta's app secret (from the environment variable `serve --meta-secret-env` names): when set, a
    #: Facebook or Instagram webhook body must carry Meta's X-Hub-Signature-256 (401 otherwise).
    meta_app_secret: str | None = field(default=None, repr=False)
