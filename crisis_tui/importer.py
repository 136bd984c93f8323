"""`crisis-tui import`: rebuild an incident from its json export, identical to the original.

The export's events are written verbatim (same time, actor, kind, payload and
hashes) and replayed through the same projections as the live store, so the
imported incident is the original one: `verify` passes and a new export of it
carries the same events. The hashes cover the incident id, so the id is kept.
"""

from __future__ import annotations

from pathlib import Path

import msgspec

from crisis_tui import json_input
from crisis_tui.errors import InvalidInput, StoreUnavailable
from crisis_tui.export.to_json import FORMAT, VERSION
from crisis_tui.locator import parse
from crisis_tui.log_head import Head, head_of, still_holds
from crisis_tui.model import Event, Incident
from crisis_tui.playbook import Playbook
from crisis_tui.store.sqlite import SqliteStore


class ImportDocument(msgspec.Struct, kw_only=True):
    """The part of an export that import needs (the state and metrics are derived)."""

    format: str
    version: int
    incident: Incident
    events: list[Event]
    #: The head the export was made from (exports before it was recorded have none).
    head: Head | None = None


class ImportResult(msgspec.Struct, kw_only=True):
    incident_id: str
    title: str
    events: int
    path: str
    last_hash: str


def read_export(source: Path) -> ImportDocument:
    """Read and validate a json export; every problem is one line naming the file."""
    try:
        data = source.read_bytes()
    except FileNotFoundError:
        raise InvalidInput("file", f"{source} does not exist") from None
    except OSError as exc:
        raise InvalidInput("file", f"{source} cannot be read: {exc.strerror or exc}") from None
    try:
        header = json_input.decode_as(data, dict[str, msgspec.Raw])
    except msgspec.DecodeError as exc:
        raise InvalidInput("file", f"{source} is not JSON: {exc}") from None
    if header.get("format") is None or msgspec.json.decode(header["format"]) != FORMAT:
        raise InvalidInput("file", f"{source} is not a crisis-tui json export (export with --format json)")
    try:
        document = json_input.decode_as(data, ImportDocument)
    except msgspec.MsgspecError as exc:
        raise InvalidInput("file", f"{source}: {exc}") from None
    if document.version > VERSION:
        raise InvalidInput("file", f"{source} is export version {document.version}; this crisis-tui reads up to {VERSION}")
    return document


def check_head(document: ImportDocument, source: Path, expected: Head | None) -> None:
    """Refuse an export cut or re-chained after it was made: its events must end at the head
    it records, and hold the `expected` head (one verify printed) when given."""
    own = head_of([e.hash for e in document.events])
    if document.head is not None and (document.head.number, document.head.hash) != (own.number, own.hash):
        raise InvalidInput("file", f"{source} says it was made at {document.head.line()}, but its events end at "
                                   f"{own.line()}: it was cut or re-chained after the export")
    if expected is not None:
        found = None
        if 0 < expected.number <= len(document.events):
            found = Head(number=expected.number, hash=document.events[expected.number - 1].hash)
        why = still_holds(expected, found, len(document.events))
        if why is not None:
            raise InvalidInput("expect-head", f"{source} does not hold the expected head: {why}")


async def import_file(source: Path, target: str, *, playbook: Playbook, expect_head: Head | None = None) -> ImportResult:
    """Import the export at `source` into the SQLite file named by `target` (created if missing)."""
    document = read_export(source)
    check_head(document, source, expect_head)
    where = parse(target)
    if where.is_remote:
        raise StoreUnavailable("import writes into a SQLite incident file; import locally, then serve that file")
    incident_id = document.incident.id
    if where.incident_id and where.incident_id != incident_id:
        raise InvalidInput(
            "incident", f"the export holds incident {incident_id!r}; its hashes cover that id, so it cannot become "
            f"{where.incident_id!r} (leave #ID out)"
        )
    assert where.path is not None
    fresh = not where.path.exists()
    store = await SqliteStore.open(where.path, create=True, playbook=playbook)
    try:
        written = await store.import_events(incident_id, document.events)
    except BaseException:
        await store.close()
        if fresh:
            for leftover in (where.path, *(where.path.with_name(where.path.name + s) for s in ("-wal", "-shm"))):
                leftover.unlink(missing_ok=True)
        raise
    await store.close()
    return ImportResult(incident_id=incident_id, title=document.incident.title, events=written,
                        path=str(where.path), last_hash=document.events[-1].hash)
