"""Replies posted through the AT Protocol: an `app.bsky.feed.post` record with reply references.

The brand account signs in with an app password (`com.atproto.server.createSession`),
then writes the record with `com.atproto.repo.createRecord`. Its record key is
derived from the draft's version, so before writing, a `getRecord` of that key
finds our own earlier post (a retry after a timeout or a crash) and it is not
posted twice. A public statement is the same record without reply references,
written by the statement account.
"""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime
from typing import Any

import httpx
import msgspec

from crisis_tui.errors import PublishFailed
from crisis_tui.model import Comment
from crisis_tui.playbook import Publisher as Settings
from crisis_tui.publish import tls
from crisis_tui.publish.reply import Outgoing, Posted, Reply
from crisis_tui.safe_text import one_line

COLLECTION = "app.bsky.feed.post"
_TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"


class _Session(msgspec.Struct):
    accessJwt: str  # noqa: N815 - the protocol's name
    did: str


class _Written(msgspec.Struct):
    uri: str
    cid: str = ""


def record_key(reply: Outgoing) -> str:
    """A valid TID (13 base32-sortable characters, top bit clear) that is the same for every
    attempt at this version: the post's record key."""
    number = int.from_bytes(hashlib.sha256(reply.idempotency_key.encode()).digest()[:8], "big") & ((1 << 63) - 1)
    chars = []
    for _ in range(13):
        chars.append(_TID_ALPHABET[number & 31])
        number >>= 5
    return "".join(reversed(chars))


def references(comment: Comment) -> dict[str, dict[str, str]] | None:
    """The reply's `root` and `parent` strong references, from what intake kept of the comment."""
    extra = comment.extra
    uri = str(extra.get("bluesky_uri") or (comment.external_id if comment.external_id.startswith("at://") else ""))
    cid = str(extra.get("bluesky_cid") or "")
    if not uri or not cid:
        return None
    parent = {"uri": uri, "cid": cid}
    root_uri, root_cid = str(extra.get("bluesky_root_uri") or ""), str(extra.get("bluesky_root_cid") or "")
    root = {"uri": root_uri, "cid": root_cid} if root_uri and root_cid else parent
    return {"root": root, "parent": parent}


def _reason(what: str, response: httpx.Response) -> str:
    try:
        data: Any = response.json()
    except ValueError:
        data = None
    said = (data.get("message") or data.get("error")) if isinstance(data, dict) else None
    detail = f": {one_line(str(said), 120)}" if said else ""
    hint = " (check the app password)" if response.status_code == 401 else ""
    if response.status_code == 429:
        hint = f" (rate limited, retry after {one_line(response.headers.get('Retry-After', '?'), 20)}s)"
    return f"Bluesky {what} answered HTTP {response.status_code}{detail}{hint}"


class BlueskyPublisher:
    platform = "bluesky"

    def __init__(self, settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.settings = settings
        self._transport = transport

    def can_answer(self, comment: Comment) -> bool:
        return references(comment) is not None

    def _account(self, statement: bool) -> tuple[str, str]:
        """(identifier, app password) of the account that posts."""
        field = "statement_token_env" if statement and self.settings.statement_token_env else "token_env"
        name = getattr(self.settings, field)
        password = os.environ.get(name, "").strip()
        if not password:
            raise PublishFailed(f"no Bluesky app password: set the environment variable {name} "
                                f"(named by the playbook's publish.bluesky.{field})")
        own = statement and self.settings.statement_token_env
        return (self.settings.statement_identifier if own else self.settings.identifier), password

    async def post(self, reply: Reply) -> Posted:
        refs = references(reply.comment)
        if refs is None:
            raise PublishFailed(f"comment #{reply.comment.id} carries no Bluesky post uri and cid to reply to")
        return await self._write(reply, {"reply": refs}, self._account(statement=False))

    async def post_statement(self, statement: Outgoing) -> Posted:
        return await self._write(statement, {}, self._account(statement=True))

    async def _write(self, outgoing: Outgoing, extra: dict[str, Any], account: tuple[str, str]) -> Posted:
        identifier, password = account
        base = self.settings.base_url.rstrip("/") + "/xrpc/"
        try:
            async with httpx.AsyncClient(timeout=self.settings.timeout_seconds, transport=self._transport,
                                         verify=tls.context()) as client:
                signed = await client.post(base + "com.atproto.server.createSession",
                                           json={"identifier": identifier, "password": password})
                if signed.status_code != 200:
                    raise PublishFailed(_reason("sign-in", signed))
                session = msgspec.json.decode(signed.content, type=_Session)
                auth = {"Authorization": f"Bearer {session.accessJwt}"}
                rkey = record_key(outgoing)
                earlier = await client.get(base + "com.atproto.repo.getRecord", headers=auth,
                                           params={"repo": session.did, "collection": COLLECTION, "rkey": rkey})
                if earlier.status_code == 200:
                    return self._posted(session.did, msgspec.json.decode(earlier.content, type=_Written).uri, rkey)
                record = {"$type": COLLECTION, "text": outgoing.text, **extra,
                          "createdAt": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")}
                written = await client.post(base + "com.atproto.repo.createRecord", headers=auth, json={
                    "repo": session.did, "collection": COLLECTION, "rkey": rkey, "record": record})
                if written.status_code != 200:
                    raise PublishFailed(_reason("createRecord", written))
                return self._posted(session.did, msgspec.json.decode(written.content, type=_Written).uri, rkey)
        except httpx.TimeoutException:
            raise PublishFailed(f"Bluesky did not answer within {self.settings.timeout_seconds:g}s") from None
        except httpx.HTTPError as exc:
            raise PublishFailed(f"Bluesky could not be reached: {one_line(str(exc) or type(exc).__name__, 120)}") from None
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise PublishFailed(f"Bluesky answered something unexpected: {one_line(str(exc), 120)}") from None

    @staticmethod
    def _posted(did: str, uri: str, rkey: str) -> Posted:
        return Posted(post_id=uri, url=f"https://bsky.app/profile/{did}/post/{rkey}")
