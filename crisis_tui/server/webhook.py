"""Comments arriving over HTTP, validated whole before any is stored.

Two forms reach `POST /incidents/ID/comments`:
- the native comment shape (crisis_tui.comment_shape), one object or an array:
  what a webhook or a script sends;
- HttpStore's form (content type `wire.TRIAGED`): an array of NewComment
  structs that already carry triage scores. Each is checked with the very same
  rules as the native shape (a client cannot slip past a cap), then keeps its
  scores.
A bad item refuses the whole batch, naming its index and field. `read` is the
one door for untriaged bodies (native or a platform preset's); the triage
worker (crisis_tui.server.triage_worker) calls it too, in its own process, so
the server's process neither parses nor checks a comment it has a worker for.
"""

from __future__ import annotations

import math
from typing import Any

import msgspec

from crisis_tui import json_input, wire
from crisis_tui.comment_shape import parse_comment
from crisis_tui.errors import InvalidInput
from crisis_tui.intake.pipeline import Pipeline
from crisis_tui.model import NewComment
from crisis_tui.playbook import Playbook
from crisis_tui.server import platform_webhook

MAX_REASONS = 32
MAX_REASON = 200


def _located(exc: InvalidInput, index: int | None) -> InvalidInput:
    if index is None:
        return exc
    return InvalidInput(f"comments[{index}].{exc.field}", exc.problem)


def _items(decoded: Any, max_batch: int) -> tuple[list[Any], bool]:
    if isinstance(decoded, dict):
        return [decoded], False
    if isinstance(decoded, list):
        if not decoded:
            raise InvalidInput("comments", "the batch is empty")
        if len(decoded) > max_batch:
            raise InvalidInput("comments", f"a batch holds at most {max_batch:,} comments, got {len(decoded):,}")
        return decoded, True
    raise InvalidInput("body", f"must be a comment object or an array of them, got {type(decoded).__name__}")


def native(body: bytes, max_batch: int) -> list[NewComment]:
    """Comments in the native shape: one object or an array of them."""
    if not body.strip():
        raise InvalidInput("body", "is empty; a comment object or an array of them is expected")
    try:
        decoded = json_input.decode(body)
    except msgspec.DecodeError as exc:
        raise wire.invalid(exc) from None
    items, batch = _items(decoded, max_batch)
    parsed: list[NewComment] = []
    for index, raw in enumerate(items):
        try:
            parsed.append(parse_comment(raw))
        except InvalidInput as exc:
            raise _located(exc, index if batch else None) from None
    return parsed


def read(body: bytes, preset: str | None, max_batch: int) -> list[NewComment]:
    """A webhook body's comments: read with `preset` when one is named
    (crisis_tui.server.platform_webhook), else in the native shape."""
    return platform_webhook.read(body, preset, max_batch)[0] if preset else native(body, max_batch)


def _as_native(c: NewComment) -> dict[str, Any]:
    raw: dict[str, Any] = dict(c.extra)
    raw.update(
        source=c.source, id=c.external_id, author=c.author, text=c.text, lang=c.lang, posted_at=c.posted_at,
        url=c.url, likes=c.likes, shares=c.shares, replies=c.replies, author_followers=c.author_followers,
        author_following=c.author_following, author_created_at=c.author_created_at,
        author_verified=c.author_verified, in_reply_to=c.in_reply_to,
    )
    return raw


def _score(value: float, field: str) -> float:
    if not math.isfinite(value):
        raise InvalidInput(field, "must be a finite number")
    return value


def _checked_triaged(c: NewComment) -> NewComment:
    checked = parse_comment(_as_native(c))
    if len(c.bot_reasons) > MAX_REASONS or any(len(r) > MAX_REASON for r in c.bot_reasons):
        raise InvalidInput("bot_reasons", f"at most {MAX_REASONS} reasons of at most {MAX_REASON} characters")
    if len(c.cluster) > 256:
        raise InvalidInput("cluster", "is longer than 256 characters")
    return msgspec.structs.replace(
        checked,
        priority=_score(c.priority, "priority"),
        negativity=_score(c.negativity, "negativity"),
        bot_score=_score(c.bot_score, "bot_score"),
        bot_reasons=list(c.bot_reasons),
        cluster=c.cluster,
    )


def triaged(body: bytes, max_batch: int) -> list[NewComment]:
    """HttpStore's form: an array of NewComment, checked like native comments."""
    try:
        comments = json_input.decode_as(body, list[NewComment])
    except msgspec.MsgspecError as exc:
        raise wire.invalid(exc, "comments") from None
    _items(comments, max_batch)
    out: list[NewComment] = []
    for index, c in enumerate(comments):
        try:
            out.append(_checked_triaged(c))
        except InvalidInput as exc:
            raise _located(exc, index) from None
    return out


class WebhookTriage:
    """The intake's triage for webhook comments, one pipeline per incident.

    Kept for the server's life, so copy-paste clusters, posting bursts and the
    spike baseline are seen across batches, as `crisis-tui ingest` does; a spike
    becomes an alert.spike event on the timeline.
    """

    def __init__(self, playbook: Playbook) -> None:
        self.playbook = playbook
        self._pipelines: dict[str, Pipeline] = {}

    def _pipeline(self, incident_id: str) -> Pipeline:
        pipeline = self._pipelines.get(incident_id)
        if pipeline is None:
            pipeline = self._pipelines[incident_id] = Pipeline(self.playbook)
        return pipeline

    def prepare(self, incident_id: str, comments: list[NewComment]) -> list[NewComment]:
        return self._pipeline(incident_id).prepare(comments)

    def spike_alert(self, incident_id: str) -> dict[str, object] | None:
        return self._pipeline(incident_id).spike_alert()

    def score(self, incident_id: str, comments: list[NewComment]) -> tuple[list[NewComment], dict[str, object] | None]:
        """The comments with their scores, and a spike alert's payload when they made one. A body
        whose items the preset all skips touches no pipeline (no spike check either)."""
        if not comments:
            return comments, None
        return self.prepare(incident_id, comments), self.spike_alert(incident_id)

    async def read(self, incident_id: str, body: bytes, preset: str | None,
                   max_batch: int) -> tuple[list[NewComment], dict[str, object] | None]:
        """A body's comments (`read`, so a refused body touches no pipeline either) with their
        scores: the answer crisis_tui.server.triage_worker gives from a process of its own."""
        return self.score(incident_id, read(body, preset, max_batch))
