"""Who is calling: the bearer token, looked up by digest, and the role it needs.

The token's name is the actor of every write made with it, so a client cannot
act as someone else; its seats (crisis_tui.seats, resolved against the
server's playbook) are the only committee roles it may take. Lookups are cached for a short while (a revoked token
stops working within `CACHE_SECONDS`), so a busy webhook costs no query per
request.
"""

from __future__ import annotations

import time

import msgspec
from starlette.requests import Request

from crisis_tui.errors import Forbidden, Unauthorized
from crisis_tui.playbook import Playbook
from crisis_tui.seats import seats_in_force
from crisis_tui.tokens import Token, TokenBook, role_rank

CACHE_SECONDS = 2.0
_CACHE_MAX = 4096


class Caller(msgspec.Struct, frozen=True, kw_only=True):
    token_id: int
    name: str
    role: str
    seats: tuple[str, ...] = ()
    #: The preset its comments are read with (crisis_tui.tokens); None: the native shape.
    preset: str | None = None


class Authenticator:
    def __init__(self, book: TokenBook, playbook: Playbook) -> None:
        self._book = book
        self._playbook = playbook
        self._cache: dict[str, tuple[Caller, float]] = {}

    async def caller(self, request: Request, *, query_token: bool = False) -> Caller:
        """The caller behind the Authorization header, or Unauthorized naming what is wrong.
        `query_token`: the route also takes `?access_token=TOKEN`, for a platform's webhook
        that cannot send a header (Meta's lets you set only the callback URL)."""
        header = request.headers.get("authorization")
        if not header and query_token and request.query_params.get("access_token"):
            return await self.of_secret(request.query_params["access_token"])
        if not header:
            raise Unauthorized("no token: send Authorization: Bearer TOKEN (create one with crisis-tui token create)")
        scheme, _, secret = header.partition(" ")
        secret = secret.strip()
        if scheme.lower() != "bearer" or not secret:
            raise Unauthorized("the Authorization header must be: Bearer TOKEN")
        return await self.of_secret(secret)

    async def of_secret(self, secret: str) -> Caller:
        """The caller a token's secret names, or Unauthorized."""
        now = time.monotonic()
        cached = self._cache.get(secret)
        if cached is not None and cached[1] > now:
            return cached[0]
        token: Token | None = await self._book.lookup(secret)
        if token is None:
            self._cache.pop(secret, None)
            raise Unauthorized("unknown or revoked token")
        caller = Caller(token_id=token.id, name=token.name, role=token.role,
                        seats=seats_in_force(self._playbook, token.role, token.seat_roles), preset=token.preset)
        if len(self._cache) >= _CACHE_MAX:
            self._cache.clear()
        self._cache[secret] = (caller, now + CACHE_SECONDS)
        return caller


def require(caller: Caller, role: str, action: str) -> None:
    """Forbidden unless the caller's token role is at least `role`."""
    if role_rank(caller.role) >= role_rank(role):
        return
    if caller.role == "viewer":
        raise Forbidden(f"{caller.name}'s token is a viewer token: it reads only and cannot {action}")
    raise Forbidden(f"{caller.name}'s token is {caller.role}; to {action} takes a {role} token")
