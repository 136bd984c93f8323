"""`crisis-tui copy SRC DST`: incidents from one database to another, SQLite and PostgreSQL alike.

The events go across verbatim (same time, actor, kind, payload bytes and hashes)
through the destination store's `import_events`, which checks the chain before it
writes and replays the projections, so `verify` passes on both sides and the
witness heads still match. An incident the destination already holds is refused,
never mixed.
"""

from __future__ import annotations

import click

from crisis_tui.commands.context import run, settings
from crisis_tui.locator import parse
from crisis_tui.log_head import head_of
from crisis_tui.model import Event
from crisis_tui.store.opening import database, named, open_database
from crisis_tui.store.sqlite import SqliteStore

PAGE = 10_000


async def _events(store: SqliteStore, incident_id: str) -> list[Event]:
    out: list[Event] = []
    while True:
        page = await store.events_after(incident_id, out[-1].seq if out else 0, PAGE)
        out += page
        if len(page) < PAGE:
            return out


async def copy_incidents(src: str, dst: str) -> list[str]:
    """Copy the incident SRC names (every incident of SRC when it names none); one line each."""
    source = parse(src)
    src_db = database(source.database or (str(source.path) if source.path is not None else src))
    dst_db = database(dst)
    book = settings().playbook
    reader = await open_database(src_db, create=False, read_only=True, playbook=book)
    try:
        ids = [source.incident_id] if source.incident_id else [i.id for i in await reader.list_incidents()]
        if source.incident_id:
            await reader.get_incident(source.incident_id)
        writer = await open_database(dst_db, create=True, playbook=book)
        try:
            lines: list[str] = []
            for incident_id in ids:
                assert incident_id is not None
                events = await _events(reader, incident_id)
                count = await writer.import_events(incident_id, events)
                head = head_of([e.hash for e in events]).line()
                lines.append(f"copied {incident_id}: {count} events to {named(dst_db)}, {head}")
            return lines
        finally:
            await writer.close()
    finally:
        await reader.close()


@click.command("copy")
@click.argument("src", metavar="SRC")
@click.argument("dst", metavar="DST")
def copy(src: str, dst: str) -> None:
    """Copy incidents between SQLite files and PostgreSQL (postgresql://...), either way.

    SRC is a file or URL, optionally with #INCIDENT-ID (else every incident); DST is
    a file or URL. Same events, same hashes: verify passes on both sides.
    """
    for line in run(lambda: copy_incidents(src, dst)):
        click.echo(line)


def register(group: click.Group) -> None:
    group.add_command(copy)
