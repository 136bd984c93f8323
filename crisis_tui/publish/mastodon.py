"""Replies posted through Mastodon's REST API (`POST /api/v1/statuses`).

The reply goes to the comment's status (`in_reply_to_id`) with exactly the
approved text, under an `Idempotency-Key` derived from the draft's version:
Mastodon answers a repeated key with the status it already made. A public
statement is a new public status of the statement account (no `in_reply_to_id`).
"""

from __future__ import annotations

import os
from typing import Any

import httpx
import msgspec

from crisis_tui.errors import PublishFailed
from crisis_tui.model import Comment
from crisis_tui.playbook import Publisher as Settings
from crisis_tui.publish import tls
from crisis_tui.publish.reply import Outgoing, Posted, Reply
from crisis_tui.safe_text import one_line


class _Status(msgspec.Struct):
    """The fields of Mastodon's Status entity we keep."""

    id: str
    url: str | None = None
    uri: str = ""


def status_id(comment: Comment) -> str:
    """The comment's id on its Mastodon server (what `in_reply_to_id` names), or empty."""
    extra = comment.extra.get("mastodon_id")
    if extra:
        return str(extra)
    return comment.external_id if comment.external_id.isdigit() else ""


def _reason(response: httpx.Response) -> str:
    try:
        data: Any = response.json()
    except ValueError:
        data = None
    said = data.get("error") if isinstance(data, dict) else None
    detail = f": {one_line(str(said), 120)}" if said else ""
    hint = " (check the access token)" if response.status_code in (401, 403) else ""
    if response.status_code == 429:
        hint = f" (rate limited, retry after {one_line(response.headers.get('Retry-After', '?'), 20)}s)"
    return f"Mastodon answered HTTP {response.status_code}{detail}{hint}"


class MastodonPublisher:
    platform = "mastodon"

    def __init__(self, settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.settings = settings
        self._transport = transport

    def can_answer(self, comment: Comment) -> bool:
        return bool(status_id(comment))

    def _token(self, statement: bool = False) -> str:
        field = "statement_token_env" if statement and self.settings.statement_token_env else "token_env"
        name = getattr(self.settings, field)
        token = os.environ.get(name, "").strip()
        if not token:
            raise PublishFailed(f"no Mastodon access token: set the environment variable {name} "
                                f"(named by the playbook's publish.mastodon.{field})")
        return token

    async def post(self, reply: Reply) -> Posted:
        replying_to = status_id(reply.comment)
        if not replying_to:
            raise PublishFailed(f"comment #{reply.comment.id} carries no Mastodon status id to reply to")
        return await self._create({"status": reply.text, "in_reply_to_id": replying_to}, reply, self._token())

    async def post_statement(self, statement: Outgoing) -> Posted:
        return await self._create({"status": statement.text, "visibility": "public"}, statement,
                                  self._token(statement=True))

    async def _create(self, form: dict[str, str], outgoing: Outgoing, token: str) -> Posted:
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": outgoing.idempotency_key}
        url = self.settings.base_url.rstrip("/") + "/api/v1/statuses"
        try:
            async with httpx.AsyncClient(timeout=self.settings.timeout_seconds, transport=self._transport,
                                         verify=tls.context()) as client:
                response = await client.post(url, data=form, headers=headers)
        except httpx.TimeoutException:
            raise PublishFailed(f"Mastodon did not answer within {self.settings.timeout_seconds:g}s") from None
        except httpx.HTTPError as exc:
            raise PublishFailed(f"Mastodon could not be reached: {one_line(str(exc) or type(exc).__name__, 120)}") from None
        if response.status_code != 200:
            raise PublishFailed(_reason(response))
        try:
            status = msgspec.json.decode(response.content, type=_Status)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise PublishFailed(f"Mastodon answered something that is not a status: {one_line(str(exc), 120)}") from None
        return Posted(post_id=status.id, url=status.url or status.uri)
