"""From the INCIDENT argument to an open store and an incident id.

INCIDENT is a SQLite file path (`room.db`, or `room.db#incident-id` when the
file holds several incidents) or the URL of an incident on a `crisis-tui serve`
server (`http://host:port/incidents/ID`), or a PostgreSQL database
(`postgresql://user@host/db`, `postgresql://user@host/db#incident-id`). Every
command resolves it here.

A file name may hold `#` itself: a path that names an existing file is that
file; otherwise what follows the last `#` is an incident id only when it looks
like one (letters, digits, `-`, `_`), and a trailing `#` (`my#room.db#`) says
"this whole path, the newest incident".
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from crisis_tui.errors import NotFound, StoreUnavailable
from crisis_tui.playbook import Playbook
from crisis_tui.store.pg import PgStore, is_pg_url
from crisis_tui.store.protocol import IncidentStore
from crisis_tui.store.sqlite import SqliteStore

TOKEN_VAR = "CRISIS_TUI_TOKEN"
_INCIDENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")


@dataclass(frozen=True)
class Target:
    """A parsed INCIDENT argument."""

    raw: str
    url: str | None = None
    path: Path | None = None
    incident_id: str | None = None
    #: A PostgreSQL connection URL (without the `#incident-id`).
    database: str | None = None

    @property
    def is_remote(self) -> bool:
        return self.url is not None


def parse(raw: str) -> Target:
    if is_pg_url(raw):
        database, sep, incident_id = raw.partition("#")
        if sep and incident_id and not _INCIDENT_ID.fullmatch(incident_id):
            raise StoreUnavailable(f"{raw}: an incident id after # is letters, digits, - and _")
        return Target(raw=raw, database=database, incident_id=incident_id or None)
    if raw.startswith(("http://", "https://")):
        base, sep, rest = raw.rstrip("/").partition("/incidents/")
        if sep and (not rest or "/" in rest):
            raise StoreUnavailable(f"{raw}: an incident URL looks like http://HOST:PORT/incidents/ID")
        return Target(raw=raw, url=base, incident_id=rest or None)
    whole = Path(raw).expanduser()
    path, sep, incident_id = raw.rpartition("#")
    if not sep or whole.is_file() or not _INCIDENT_ID.fullmatch(incident_id or "x"):
        return Target(raw=raw, path=whole)
    return Target(raw=raw, path=Path(path).expanduser(), incident_id=incident_id or None)


async def open_store(
    raw: str,
    *,
    playbook: Playbook,
    read_only: bool = False,
    create: bool = False,
    token: str | None = None,
) -> tuple[IncidentStore, Target]:
    """Open the store behind INCIDENT (the file must exist unless `create`)."""
    target = parse(raw)
    if target.url is not None:
        try:
            from crisis_tui.store.http import HttpStore  # noqa: PLC0415 - only when a URL is given
        except ImportError:
            raise StoreUnavailable("this crisis-tui has no HTTP store") from None
        store: IncidentStore = await HttpStore.open(
            target.url, token=token or os.environ.get(TOKEN_VAR), read_only=read_only
        )
        return store, target
    if target.database is not None:
        store = await PgStore.open(target.database, create=create, read_only=read_only, playbook=playbook)
        return store, target
    assert target.path is not None
    store = await SqliteStore.open(target.path, create=create, read_only=read_only, playbook=playbook)
    return store, target


async def resolve_incident(store: IncidentStore, target: Target) -> str:
    """The incident named in the target, else the newest open one in the file (a real one before
    any drill: a rehearsal in the same file never takes the place of the real crisis)."""
    if target.incident_id:
        await store.get_incident(target.incident_id)
        return target.incident_id
    incidents = await store.list_incidents()
    if not incidents:
        raise NotFound(f"{target.raw} holds no incident yet: create one with crisis-tui new {target.raw} --title TITLE")
    open_ones = [i for i in incidents if i.status != "closed"] or incidents
    real = [i for i in open_ones if not i.drill] or open_ones
    return real[-1].id


async def open_incident(
    raw: str, *, playbook: Playbook, read_only: bool = False, token: str | None = None
) -> tuple[IncidentStore, str]:
    store, target = await open_store(raw, playbook=playbook, read_only=read_only, token=token)
    try:
        return store, await resolve_incident(store, target)
    except BaseException:
        await store.close()
        raise
