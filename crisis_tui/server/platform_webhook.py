"""A platform's own webhook body on `POST /incidents/ID/comments`, and Meta's subscription handshake.

`?preset=NAME` (or the preset fixed on the token: `crisis-tui token create
--preset NAME`) reads the body through a shipped mapping
(crisis_tui.intake.presets) instead of the native shape, so Facebook's and
Instagram's webhook subscriptions (`entry[].changes[]`) can point straight at
`serve`. Meta's dashboard takes only a callback URL, so these routes also take
the token as `?access_token=TOKEN`.

As for native bodies, the body is validated whole: one item the preset cannot
read refuses it (422, naming the item's place, such as
`entry[0].changes[1]: text: is required`), and nothing of it is stored. Items
the preset skips (a reaction, an edit, a follow) are not errors: a webhook
that posts only those gets `ingested 0`.

Meta signs every webhook body with the app's secret: `X-Hub-Signature-256:
sha256=HEX`, the HMAC-SHA256 of the raw body. When the secret is known to
the server (`serve --meta-secret-env NAME`, META_APP_SECRET by default), a
body read with a Meta webhook preset must carry that signature, or it is
refused with 401 before anything of it is read: a leaked callback URL alone
cannot post comments. Without the secret, the token in the URL is the only
check, as before.

Before Meta sends anything it verifies the callback: `GET` with
`hub.mode=subscribe`, `hub.challenge` and `hub.verify_token`. The verify token
to give Meta is a crisis-tui token that may post comments (the one in the
callback URL); the answer is the challenge, as plain text.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping as Headers
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from crisis_tui import json_input, wire
from crisis_tui.errors import CrisisError, InvalidInput, Unauthorized
from crisis_tui.intake import presets
from crisis_tui.intake.json_items import map_answer, missing_items
from crisis_tui.intake.mapping import Mapping
from crisis_tui.model import NewComment
from crisis_tui.server import responses
from crisis_tui.server.auth import Caller, require

#: Longest hub.challenge echoed (Meta's are a few digits).
MAX_CHALLENGE = 256
#: The presets whose bodies Meta sends and signs.
META_SIGNED = frozenset({"facebook-webhook", "instagram-webhook"})
SIGNATURE = "x-hub-signature-256"


def check_signature(headers: Headers[str, str], body: bytes, preset: str | None, secret: str | None) -> None:
    """Refuse (401) a Meta webhook body whose X-Hub-Signature-256 is missing or not the body's HMAC with `secret`;
    nothing to check without a secret or for a body that is not Meta's."""
    if not secret or preset not in META_SIGNED:
        return
    given = headers.get(SIGNATURE, "").strip()
    if not given:
        raise Unauthorized(f"no X-Hub-Signature-256 header: this server knows Meta's app secret, so a {preset} "
                           "body must come signed by Meta")
    scheme, _, digest = given.partition("=")
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    if scheme.lower() != "sha256" or not hmac.compare_digest(digest.lower().encode(), expected.encode()):
        raise Unauthorized("X-Hub-Signature-256 does not match the body: it was not signed with this server's "
                           "Meta app secret (or the body was changed on the way)")


def preset_of(request: Request, caller: Caller) -> str | None:
    """The preset this POST is read with: the token's own, or `?preset=NAME`; refused when they differ."""
    asked = request.query_params.get("preset") or None
    if caller.preset is not None:
        if asked is not None and asked != caller.preset:
            raise InvalidInput("preset", f"{caller.name}'s token reads every body as {caller.preset!r}; "
                                         f"?preset={asked} cannot change that")
        return caller.preset
    if asked is not None and asked not in presets.names():
        raise InvalidInput("preset", f"no preset {asked[:40]!r} (presets: {', '.join(presets.names())})")
    if asked is not None and presets.format_of(asked) == "csv":
        raise InvalidInput("preset", f"{asked} reads a CSV export file (crisis-tui ingest); a webhook body is JSON")
    return asked


def _mapping(name: str) -> Mapping:
    return presets.load(name)


def read(body: bytes, preset: str, max_batch: int) -> tuple[list[NewComment], int]:
    """The comments of one platform body (and how many of its items the preset skipped)."""
    if presets.format_of(preset) == "csv":
        raise InvalidInput("preset", f"{preset} reads a CSV export file (crisis-tui ingest); a webhook body is JSON")
    if not body.strip():
        raise InvalidInput("body", f"is empty; {presets.title(preset)} is expected")
    try:
        decoded: Any = json_input.decode(body)
    except msgspec.DecodeError as exc:
        raise wire.invalid(exc) from None
    mapping = _mapping(preset)
    problem = missing_items(decoded, mapping)
    if problem:
        raise InvalidInput("body", f"{problem} (read as {presets.title(preset)}, preset {preset})")
    mapped = map_answer(decoded, mapping, "")
    if mapped.rejects:
        first = mapped.rejects[0]
        more = f" (and {len(mapped.rejects) - 1} more)" if len(mapped.rejects) > 1 else ""
        raise InvalidInput(first.where.removeprefix(": ") or "body", f"{first.reason}{more}")
    if len(mapped.comments) > max_batch:
        raise InvalidInput("comments", f"a batch holds at most {max_batch:,} comments, got {len(mapped.comments):,}")
    return mapped.comments, mapped.skipped


def is_handshake(request: Request) -> bool:
    return request.method == "GET" and "hub.mode" in request.query_params


async def handshake(request: Request, of_secret: Any) -> Response:
    """Meta's verification GET: the challenge back when hub.verify_token is a token that may post comments."""
    params = request.query_params
    try:
        if params.get("hub.mode") != "subscribe":
            raise InvalidInput("hub.mode", f"must be subscribe, got {params.get('hub.mode', '')[:40]!r}")
        challenge = params.get("hub.challenge", "")
        if not challenge or len(challenge) > MAX_CHALLENGE or not challenge.isprintable():
            raise InvalidInput("hub.challenge", f"must be a short printable value (at most {MAX_CHALLENGE} characters)")
        caller: Caller = await of_secret(params.get("hub.verify_token", ""))
        require(caller, "operator", "subscribe a webhook that posts comments")
    except CrisisError as exc:
        return responses.error(exc)
    return PlainTextResponse(challenge)
