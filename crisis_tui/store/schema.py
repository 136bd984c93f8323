"""The SQLite schema and its migrations, numbered by PRAGMA user_version.

Entity ids (comments, drafts, decisions, notes) count per incident, so an
incident exported from one file imports into any other with the same ids and
hashes. `comments` is a WITHOUT ROWID table clustered on (incident, id): one
B-tree less to maintain on every ingested comment. Tables other than `events` are projections of the log: they can be rebuilt by
replaying events (that is what `import` does), and every write changes them in
the same transaction as the event that explains the change. `comment_counts` is
a count of the `comments` table, kept in the same transactions (see
crisis_tui.store.projector, COUNT_ARRIVALS): checked against a count of the
comments, not against a replay of each event.
"""

from __future__ import annotations

MIGRATIONS: list[str] = [
    # 1: the first schema
    """
    CREATE TABLE incidents (
        id TEXT PRIMARY KEY,
        title TEXT NOT NULL,
        brand TEXT NOT NULL DEFAULT '',
        severity TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'open',
        our_fault INTEGER NOT NULL DEFAULT 0,
        opened_at REAL NOT NULL,
        closed_at REAL
    );
    CREATE TABLE events (
        seq INTEGER PRIMARY KEY,
        incident_id TEXT NOT NULL,
        ts REAL NOT NULL,
        actor TEXT NOT NULL,
        kind TEXT NOT NULL,
        payload BLOB NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
    );
    CREATE INDEX events_by_incident ON events (incident_id, seq);
    CREATE TABLE comments (
        id INTEGER NOT NULL,
        incident_id TEXT NOT NULL,
        source TEXT NOT NULL,
        external_id TEXT NOT NULL,
        author TEXT NOT NULL,
        text TEXT NOT NULL,
        lang TEXT NOT NULL DEFAULT '',
        posted_at REAL,
        received_at REAL NOT NULL,
        url TEXT NOT NULL DEFAULT '',
        likes INTEGER NOT NULL DEFAULT 0,
        shares INTEGER NOT NULL DEFAULT 0,
        replies INTEGER NOT NULL DEFAULT 0,
        author_followers INTEGER,
        author_following INTEGER,
        author_created_at REAL,
        author_verified INTEGER NOT NULL DEFAULT 0,
        in_reply_to TEXT NOT NULL DEFAULT '',
        extra TEXT NOT NULL DEFAULT '{}',
        priority REAL NOT NULL DEFAULT 0,
        negativity REAL NOT NULL DEFAULT 0,
        bot_score REAL NOT NULL DEFAULT 0,
        bot_reasons TEXT NOT NULL DEFAULT '[]',
        cluster TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL DEFAULT 'new',
        holder TEXT,
        tags TEXT NOT NULL DEFAULT '[]',
        PRIMARY KEY (incident_id, id),
        UNIQUE (incident_id, source, external_id)
    ) WITHOUT ROWID;
    CREATE TABLE drafts (
        id INTEGER NOT NULL,
        incident_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        comment_id INTEGER,
        author TEXT NOT NULL,
        body TEXT NOT NULL,
        version INTEGER NOT NULL,
        checklist TEXT NOT NULL DEFAULT '{}',
        status TEXT NOT NULL DEFAULT 'draft',
        approvals TEXT NOT NULL DEFAULT '[]',
        override_reason TEXT NOT NULL DEFAULT '',
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        PRIMARY KEY (incident_id, id)
    );
    CREATE INDEX drafts_by_comment ON drafts (incident_id, comment_id);
    CREATE TABLE decisions (
        id INTEGER NOT NULL,
        incident_id TEXT NOT NULL,
        title TEXT NOT NULL,
        rationale TEXT NOT NULL DEFAULT '',
        proposer TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'proposed',
        approvals TEXT NOT NULL DEFAULT '[]',
        rejections TEXT NOT NULL DEFAULT '[]',
        present TEXT NOT NULL DEFAULT '[]',
        proposed_at REAL NOT NULL,
        decided_at REAL,
        decided_by TEXT,
        PRIMARY KEY (incident_id, id)
    );
    CREATE TABLE presence (
        incident_id TEXT NOT NULL,
        name TEXT NOT NULL,
        role TEXT NOT NULL,
        joined_at REAL NOT NULL,
        heartbeat_at REAL NOT NULL,
        focus TEXT NOT NULL DEFAULT '',
        left_at REAL,
        PRIMARY KEY (incident_id, name)
    );
    CREATE TABLE notes (
        id INTEGER NOT NULL,
        incident_id TEXT NOT NULL,
        author TEXT NOT NULL,
        text TEXT NOT NULL,
        at REAL NOT NULL,
        PRIMARY KEY (incident_id, id)
    );
    """,
    # 2: the approval queue (drafts in review) without scanning every draft. Comments get no
    # status index on purpose: it cost ~30% of ingest speed, and counting 100k comments by
    # status scans them in ~20 ms.
    """
    CREATE INDEX drafts_by_status ON drafts (incident_id, status);
    """,
    # 3: bearer tokens for `crisis-tui serve` (crisis_tui.tokens): only a SHA-256 digest is kept
    """
    CREATE TABLE tokens (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        role TEXT NOT NULL,
        digest TEXT NOT NULL UNIQUE,
        created_at REAL NOT NULL,
        revoked_at REAL
    );
    """,
    # 4: decisions that are not ours to take: the owner (the agency's client) approves them
    """
    ALTER TABLE decisions ADD COLUMN owner_decides INTEGER NOT NULL DEFAULT 0;
    """,
    # 5: seats, the committee roles a token may take (crisis_tui.seats), a JSON list; NULL, the
    # default of its token role (tokens made before this migration get it too)
    """
    ALTER TABLE tokens ADD COLUMN seat_roles TEXT;
    """,
    # 6: an approval approves one version. Until now an edit cleared the approvals, so a
    # draft approved or sent with its approvals still there was approved at its version.
    # And who saved any version of a draft (four eyes), read back from the log.
    """
    ALTER TABLE drafts ADD COLUMN approved_version INTEGER;
    UPDATE drafts SET approved_version = version WHERE status IN ('approved', 'sent') AND approvals != '[]';
    ALTER TABLE drafts ADD COLUMN editors TEXT NOT NULL DEFAULT '[]';
    UPDATE drafts SET editors = coalesce((
        SELECT json_group_array(actor) FROM (
            SELECT DISTINCT e.actor FROM events e
            WHERE e.incident_id = drafts.incident_id AND e.kind = 'draft.saved'
              AND json_extract(CAST(e.payload AS TEXT), '$.draft_id') = drafts.id
            ORDER BY e.actor)
    ), json_array(author));
    """,
    # 7: a token's name is who every write with it is recorded as, so no two active tokens
    # share one (a revoked token's name may be given again: a person's new token after the
    # old one leaked). A file that already has such twins keeps its oldest under the name;
    # each later twin is renamed NAME #ID, which `token list` shows, rather than revoked
    # behind its holder's back.
    """
    UPDATE tokens SET name = name || ' #' || id
     WHERE revoked_at IS NULL
       AND EXISTS (SELECT 1 FROM tokens AS older
                    WHERE older.name = tokens.name AND older.revoked_at IS NULL AND older.id < tokens.id);
    CREATE UNIQUE INDEX IF NOT EXISTS tokens_active_name ON tokens (name) WHERE revoked_at IS NULL;
    """,
    # 8: a preset fixed per token (crisis_tui.intake.presets): a platform's webhook (Meta's) posts its
    # own body with this token, read through the preset; NULL, the native comment shape
    """
    ALTER TABLE tokens ADD COLUMN preset TEXT;
    """,
    # 9: drills (crisis_tui.drill): a rehearsal incident, fixed at its creation (incident.created)
    """
    ALTER TABLE incidents ADD COLUMN drill INTEGER NOT NULL DEFAULT 0;
    """,
    # 10: what the header and the wallboard count, answered without reading the comments (a million
    # of them took 0.6-2 s to count). comment_counts: how many of an incident's comments are in each
    # status, kept by every write that adds comments or moves one (crisis_tui.store.projector,
    # COUNT_*). comments_waiting: the oldest unanswered comment's clock (model.waiting_since) is a
    # seek per unanswered status; it costs ingest one index entry (~1 us a comment; the same
    # index made partial, WHERE status IN the unanswered ones, cost four times that). Its leading
    # status also lets the lapsed claims of those gone be found without a scan. drafts_by_comment
    # gains the draft id, so the drafts of one comment come in id order from the index itself (the
    # planner used to prefer the primary key for the ORDER BY and read every draft of the incident).
    """
    CREATE TABLE comment_counts (
        incident_id TEXT NOT NULL,
        status TEXT NOT NULL,
        n INTEGER NOT NULL,
        PRIMARY KEY (incident_id, status)
    ) WITHOUT ROWID;
    INSERT INTO comment_counts (incident_id, status, n)
        SELECT incident_id, status, count(*) FROM comments GROUP BY incident_id, status;
    CREATE INDEX comments_waiting ON comments (incident_id, status, min(coalesce(posted_at, received_at), received_at));
    DROP INDEX drafts_by_comment;
    CREATE INDEX drafts_by_comment ON drafts (incident_id, comment_id, id);
    """,
    # 11: the wallboard's start, from the comments posted in each minute of the last hour (and how many
    # of them are negative), answered without reading the comments: a million that arrived within the
    # hour took over a second to walk. arrival_minutes is kept like comment_counts, by the writers that
    # insert comments, one upsert per minute of a batch (crisis_tui.store.projector, minute_rows), and
    # checked against the comments by verify. A minute is floor(posted / 60), posted being the comment's
    # clock (model.waiting_since); the second term takes back a division that rounded up to the next
    # minute, so the minute is Python's `posted // 60` exactly.
    """
    CREATE TABLE arrival_minutes (
        incident_id TEXT NOT NULL,
        minute INTEGER NOT NULL,
        n INTEGER NOT NULL,
        negative INTEGER NOT NULL,
        PRIMARY KEY (incident_id, minute)
    ) WITHOUT ROWID;
    INSERT INTO arrival_minutes (incident_id, minute, n, negative)
        SELECT incident_id, minute, count(*), sum(negative) FROM (
            SELECT incident_id,
                   floor(min(coalesce(posted_at, received_at), received_at) / 60.0)
                   - CASE WHEN floor(min(coalesce(posted_at, received_at), received_at) / 60.0) * 60.0
                               > min(coalesce(posted_at, received_at), received_at) THEN 1 ELSE 0 END AS minute,
                   CASE WHEN negativity >= 0.5 THEN 1 ELSE 0 END AS negative
              FROM comments) AS posted
         GROUP BY incident_id, minute;
    """,
    # 12: a comment's clock (model.waiting_since) as a column of its own, written with the row, so
    # comments_waiting holds it as a value, not an expression: SQLite (3.40) reads a row of the table
    # for every entry of an index on an expression that a query reads (no covering), and the
    # wallboard's recent posting times (a hundred thousand in a firehose's two minutes) took 0.8 s.
    # Now they, the oldest unanswered and the claims of those gone are ranges of the index alone; the
    # negativity after the clock lets verify count the arrivals' minutes from the index too (a scan of
    # the wide rows took 1.3 s at 1M comments).
    """
    ALTER TABLE comments ADD COLUMN since REAL NOT NULL DEFAULT 0;
    UPDATE comments SET since = min(coalesce(posted_at, received_at), received_at);
    DROP INDEX comments_waiting;
    CREATE INDEX comments_waiting ON comments (incident_id, status, since, negativity);
    """,
    # 13: the events read by kind (an escalation's status changes and answers, asked by the room before
    # E and by the answer's write, inside the incident's lock) come from an index of their own that
    # leaves the arrivals out: they were a walk of every event of the incident, a million at a million
    # comments (0.2-0.6 s), and the index costs an arrival nothing but the test of its WHERE.
    # PostgreSQL also keys its events by (incident, seq) (store.pg_sql): see there.
    # And the notices (notices): per event another department hears of, the newest notify runner's
    # claim (who, until when) and whether it went out, so two runners never send one notice twice;
    # a projection of notify.claimed and notify.sent like any table, the notices sent before it
    # counted in from the log.
    """
    CREATE INDEX events_by_kind ON events (incident_id, kind, seq) WHERE kind <> 'comment.ingested';
    CREATE TABLE notices (
        incident_id TEXT NOT NULL,
        about_seq INTEGER NOT NULL,
        runner TEXT NOT NULL DEFAULT '',
        held_until REAL NOT NULL DEFAULT 0,
        sent INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (incident_id, about_seq)
    ) WITHOUT ROWID;
    INSERT INTO notices (incident_id, about_seq, sent)
        SELECT DISTINCT incident_id, json_extract(CAST(payload AS TEXT), '$.about_seq'), 1 FROM events
         WHERE kind = 'notify.sent' AND json_valid(CAST(payload AS TEXT))
           AND typeof(json_extract(CAST(payload AS TEXT), '$.about_seq')) = 'integer';
    """,
]

SCHEMA_VERSION = len(MIGRATIONS)
