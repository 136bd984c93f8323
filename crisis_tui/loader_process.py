"""The room's loader process: reads the older pages of a large incident and sends them packed.

`python -m crisis_tui.loader_process` reads a `LoadSpec` (JSON) on its standard input,
opens the store itself, read-only (a file's path or a PostgreSQL URL: it never goes
through the room's connection), reads the pages of comments with ids in (lower, upper],
newest page first, `PAGE` ids a page, and writes each to its standard output as a
frame (crisis_tui.packed_keys), an empty page where a run of ids has none. The room
(crisis_tui.sync) reads them while it paints: the reading, the transposition and the
folding of a million texts run on the other core, in their own interpreter, and the
room's own work is what is left. A full pipe holds it up, so it is never more than a
page ahead. It writes nothing else to its standard output; a failure is one line on
its standard error and exit status 1 (the room then loads the rest itself).
"""

from __future__ import annotations

import asyncio
import os
import sys
from typing import BinaryIO

import msgspec

from crisis_tui.errors import CrisisError
from crisis_tui.packed_keys import frame, keys_page, pack, page_bounds
from crisis_tui.store.opening import open_database


class LoadSpec(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """What to read: the store, the incident, the ids (lower, upper] and the ids a page."""

    database: str
    incident_id: str
    upper: int
    page: int
    lower: int = 0


async def send_pages(spec: LoadSpec, out: BinaryIO) -> None:
    """Every page of `spec` to `out`, newest first."""
    store = await open_database(spec.database, create=False, read_only=True)
    bounds = list(page_bounds(spec.upper, spec.page, spec.lower))
    reading = asyncio.ensure_future(keys_page(store, spec.incident_id, *bounds[0])) if bounds else None
    try:
        # the next page is read (SQLite steps without the GIL) while this one is packed and written
        for n in range(len(bounds)):
            assert reading is not None
            page = await reading
            reading = (asyncio.ensure_future(keys_page(store, spec.incident_id, *bounds[n + 1]))
                       if n + 1 < len(bounds) else None)
            out.write(frame(pack(page)))
            out.flush()
    finally:
        if reading is not None:
            reading.cancel()
        await store.close()


def main() -> int:
    try:
        spec = msgspec.json.decode(sys.stdin.buffer.read(), type=LoadSpec)
        if spec.page < 1 or spec.lower < 0 or spec.upper < spec.lower:
            raise CrisisError(f"nothing to read: ids ({spec.lower}, {spec.upper}] in pages of {spec.page}")
        asyncio.run(send_pages(spec, sys.stdout.buffer))
    except BrokenPipeError:  # the room left before the last page: nobody to tell
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # nor at exit, when stdout is flushed
        return 0
    except (CrisisError, OSError, msgspec.ValidationError, msgspec.DecodeError, ValueError) as exc:
        print(f"loader: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
