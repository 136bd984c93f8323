"""Ingest on PostgreSQL in two statements: what the batch meets in the log, then all of its rows.

SqliteStore.ingest asks a file for the incident, the keys already stored, the next id and the
chain's head one statement at a time, and writes with two executemany calls and the count: free
in a file, a round trip each through a socket, all of them inside the incident's lock that every
writer in every process waits for. Here the four reads are one statement (`READ`) and the three
writes another (`WRITE`: the events and the comments as arrays of their tables' rows, unnested
into data-modifying CTEs, beside the count). The rows are still built and hashed by
`arrival_rows`, in Python, exactly as on SQLite.

READ is planned afresh on every run (PgConnection.native's fresh_plan). A plan cached by the
connection is made when the statement is first run on it, often while the tables are nearly
empty, and kept: in a new database, such a plan found the next id by reading every comment of the
incident (1.6 ms a batch on average while one grew to 20,000 comments), and READ's keys by a walk of the
incident's comments for each key. The IN (...) list SQLite walks well was planned by PostgreSQL,
before the table's first ANALYZE, as one walk of the incident's comments with the list as a
filter (2 ms a batch at 10,000 comments). Here each key is a probe of the unique (incident,
source, external id) index (a LATERAL join), which a plan made for the table as it is picks.
"""

from __future__ import annotations

from collections.abc import Callable
from operator import itemgetter
from typing import Any

from crisis_tui.errors import StorageFault
from crisis_tui.store.arrivals import ARRIVAL_COLUMNS, Arrivals

#: INSERT_EVENT's columns, in the order of an arrival_rows event row.
EVENT_COLUMNS = ("incident_id", "ts", "actor", "kind", "payload", "prev_hash", "hash")

#: ($1 incident, $2 sources, $3 external ids of the distinct wanted keys): whether the incident
#: exists, its next comment id, its chain's head (NULL: none yet), and the 1-based places in the
#: two arrays of the keys already stored.
READ = (
    "SELECT EXISTS (SELECT 1 FROM incidents WHERE id = $1), "
    "(SELECT coalesce(max(id), 0) + 1 FROM comments WHERE incident_id = $1), "
    "(SELECT hash FROM events WHERE incident_id = $1 ORDER BY seq DESC LIMIT 1), "
    "ARRAY(SELECT w.n FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS w(source, external_id, n) "
    "CROSS JOIN LATERAL (SELECT 1 FROM comments c WHERE c.incident_id = $1 AND c.source = w.source "
    "AND c.external_id = w.external_id LIMIT 1) AS stored)"
)

#: ($1 the events as rows of the events table's type, in the chain's order; $2 the comments as rows
#: of the comments table's type; $3 the incident, $4 how many; $5, $6, $7 the minutes of posting,
#: how many in each and how many negative, each minute once): the batch's events (seq given in
#: the array's order), its comments, the arrivals' count (projector.COUNT_ARRIVALS) and their
#: minutes (projector.COUNT_MINUTES). Rows of a
#: table's type rather than an array per column: asyncpg checks every element of an array for
#: nesting (two isinstance against collections.abc for each string), 5,000 checks a batch of 100,
#: and this statement took 2.0 ms instead of 2.7 (measured in one transaction, 300 batches).
WRITE = (
    f"WITH logged AS (INSERT INTO events ({', '.join(EVENT_COLUMNS)}) "
    f"SELECT {', '.join(f'e.{name}' for name in EVENT_COLUMNS)} FROM unnest($1::events[]) WITH ORDINALITY AS e "
    f"ORDER BY e.ordinality), "
    f"arrived AS (INSERT INTO comments ({', '.join(ARRIVAL_COLUMNS)}) "
    f"SELECT {', '.join(f'c.{name}' for name in ARRIVAL_COLUMNS)} FROM unnest($2::comments[]) AS c), "
    "minutes AS (INSERT INTO arrival_minutes (incident_id, minute, n, negative) "
    "SELECT $3, m.minute, m.n, m.negative FROM unnest($5::bigint[], $6::bigint[], $7::bigint[]) AS m(minute, n, negative) "
    "ON CONFLICT (incident_id, minute) DO UPDATE SET n = arrival_minutes.n + excluded.n, "
    "negative = arrival_minutes.negative + excluded.negative) "
    "INSERT INTO comment_counts (incident_id, status, n) VALUES ($3, 'new', $4) "
    "ON CONFLICT (incident_id, status) DO UPDATE SET n = comment_counts.n + excluded.n"
)

#: ($1 a table): its columns in the order of its row type.
COLUMNS = ("SELECT attname FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 "
           "AND NOT attisdropped ORDER BY attnum")


class Layout:
    """Where each value of an arrival_rows row goes in a row of its table's type (read once per store
    from the catalog, as the tables stand: a column ingest does not write is NULL, and not inserted)."""

    def __init__(self, event_columns: list[str], comment_columns: list[str]) -> None:
        self._event = _placed(EVENT_COLUMNS, event_columns)
        self._comment = _placed(ARRIVAL_COLUMNS, comment_columns)

    def write_args(self, incident_id: str, built: Arrivals, minutes: list[tuple[Any, ...]]) -> tuple[Any, ...]:
        """WRITE's parameters for one batch (`minutes`: projector.minute_rows')."""
        event, comment = self._event, self._comment
        return ([event((*row, None)) for row in built.event_rows],
                [comment((*row, None)) for row in built.comment_rows], incident_id, len(built.comment_rows),
                [m[1] for m in minutes], [m[2] for m in minutes], [m[3] for m in minutes])


def _placed(names: tuple[str, ...], columns: list[str]) -> Callable[[tuple[Any, ...]], tuple[Any, ...]]:
    """A row of `names`' values, with one None after them, to a row of the table's `columns`."""
    missing = set(names) - set(columns)
    if missing:
        raise StorageFault(f"the database's tables have no column {', '.join(sorted(missing))}: not crisis-tui's")
    return itemgetter(*(names.index(c) if c in names else len(names) for c in columns))


def read_args(incident_id: str, keys: list[tuple[str, str]]) -> tuple[Any, ...]:
    """READ's parameters for the distinct (source, external id) `keys`."""
    return incident_id, [source for source, _ in keys], [external_id for _, external_id in keys]
