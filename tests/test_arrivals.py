"""Ingest's fast rows are the log's own: the bytes encode_payload makes of the comment, the hashes
chain_hash makes of them, and the comments row a replay of the log writes (projector.arrived_row)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
from hypothesis import assume, given
from hypothesis import strategies as st

from crisis_tui import events as ev
from crisis_tui.comment_shape import parse_comment
from crisis_tui.errors import InvalidInput
from crisis_tui.eventlog import GENESIS, chain_hash, encode_payload
from crisis_tui.model import Comment, NewComment
from crisis_tui.playbook import Playbook
from crisis_tui.store.arrivals import ARRIVAL_COLUMNS, INGESTED, arrival_rows, unseen, wanted_keys
from crisis_tui.store.audit import audit_file
from crisis_tui.store.projector import COMMENT_COLUMNS, arrived_row
from crisis_tui.store.sqlite import SqliteStore
from tests.hostile_strings import HOSTILE_TEXT, PROPERTY

#: The keys the rows are spliced at, as a stranger may put them in any text or key.
SPLICES = [',"in_reply_to":', ',"replies":', ',"id":', ',"received_at":', "in_reply_to", "replies", "id", '"', "\\"]
TEXTS = st.one_of(HOSTILE_TEXT, st.lists(st.sampled_from(SPLICES), max_size=6).map("".join))

#: Texts and extras that hold the very keys the rows are spliced at, in every place they could be.
TRAPS: list[NewComment] = [
    parse_comment({"source": "x", "id": "t1", "author": "@a", "text": ',"in_reply_to":"x","replies":9,"id":1'}),
    parse_comment({"source": "x", "id": "t2", "author": "@b", "text": "plain", "zeta": {"in_reply_to": 1, "replies": 2},
                   "alpha": [',"replies":', {"b": 1, "a": 2}], "in_reply_to": ',"replies":3', "posted_at": 1.5e9,
                   "author_verified": True, "likes": 7}),
    parse_comment({"source": "ig", "id": ',"replies":', "author": ',"in_reply_to":', "text": "\\\",\"replies\":"}),
    NewComment(source="x", external_id="t4", author="@c", text="x", extra={"received_at": 1, "id": "no"},
               posted_at=-0.0, author_followers=0, author_created_at=1e20, priority=0.1 + 0.2,
               bot_reasons=["2 days old", ',"id":']),
]


def reference(incident_id: str, actor: str, now: float, first_id: int, prev: str, comments: list[NewComment]
              ) -> tuple[list[tuple[Any, ...]], list[dict[str, Any]]]:
    """The rows as the store built them before (one dict per comment), the row as a replay writes it."""
    events: list[tuple[Any, ...]] = []
    rows: list[dict[str, Any]] = []
    for number, new in enumerate(comments, start=first_id):
        data = msgspec.to_builtins(new)
        data["id"], data["received_at"] = number, now
        body = encode_payload({"comment": data})
        digest = chain_hash(prev, incident_id, now, actor, INGESTED, body)
        events.append((incident_id, now, actor, INGESTED, body, prev, digest))
        replayed = ev.decode(INGESTED, msgspec.json.decode(body))
        assert isinstance(replayed, ev.CommentIngested)
        rows.append(dict(zip(COMMENT_COLUMNS, arrived_row(incident_id, replayed.comment), strict=True)))
        prev = digest
    return events, rows


def test_the_fast_rows_are_the_logs_own() -> None:
    now = 1_796_200_305.7149603
    built = arrival_rows("refund-delays-1a2b", "intake", now, 41, GENESIS, TRAPS)
    events, rows = reference("refund-delays-1a2b", "intake", now, 41, GENESIS, TRAPS)
    assert built.event_rows == events
    assert [dict(zip(ARRIVAL_COLUMNS, row, strict=True)) for row in built.comment_rows] == rows
    assert built.head == events[-1][-1]


@PROPERTY
@given(texts=st.lists(st.tuples(TEXTS, st.dictionaries(TEXTS, TEXTS, max_size=4)), min_size=1, max_size=4))
def test_hostile_comments_make_the_same_rows(texts: list[tuple[str, dict[str, str]]]) -> None:
    comments = []
    for n, (text, extra) in enumerate(texts):
        try:
            comments.append(parse_comment({**extra, "source": "x", "id": f"p{n}", "author": "@p", "text": text or "-"}))
        except InvalidInput:
            continue  # refused at the door (empty after cleaning, too long): never reaches the store
    assume(comments)
    built = arrival_rows("inc", "intake", 1_700_000_000.25, 1, GENESIS, comments)
    events, rows = reference("inc", "intake", 1_700_000_000.25, 1, GENESIS, comments)
    assert built.event_rows == events
    assert [dict(zip(ARRIVAL_COLUMNS, row, strict=True)) for row in built.comment_rows] == rows


async def test_ingested_traps_verify_against_the_log(tmp_path: Path, book: Playbook) -> None:
    file = tmp_path / "traps.db"
    async with await SqliteStore.open(file, playbook=book) as store:
        inc = (await store.create_incident("Refund delays", actor="Luis")).id
        await store.ingest(inc, TRAPS[:2])
        await store.ingest(inc, TRAPS[2:])
        stored = await store.comments(inc)
    report = await audit_file(file, inc)
    assert report.intact, report.differences
    assert [c.text for c in stored] == [c.text for c in TRAPS]
    assert stored[1].extra == {"alpha": [',"replies":', {"a": 2, "b": 1}], "zeta": {"in_reply_to": 1, "replies": 2}}


#: JSON values as a platform may send them under keys we do not know, nested.
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.floats(allow_nan=False, allow_infinity=False)
    | TEXTS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXTS, inner, max_size=3),
    max_leaves=8,
)


@PROPERTY
@given(shapes=st.lists(st.fixed_dictionaries({
    "extra": st.dictionaries(TEXTS, JSON_VALUES, max_size=3),
    "posted_at": st.none() | st.floats(0, 4e9),
    "author_verified": st.booleans(),
    "likes": st.integers(-1000, 2**63 - 1),
    "author_followers": st.none() | st.integers(0, 2**63 - 1),
    "bot_reasons": st.lists(st.text(max_size=12) | st.sampled_from(SPLICES), max_size=3),  # triage's words
    "negativity": st.floats(0, 1),
}), min_size=1, max_size=5))
def test_every_column_of_a_batch_is_the_logs_own(shapes: list[dict[str, Any]]) -> None:
    """The batch is built column by column: nested unknown keys, reasons, clocks before and after the
    arrival, flags and counts land in their own comment's rows, whatever the others hold."""
    comments = []
    for n, shape in enumerate(shapes):
        raw = {**shape.pop("extra"), "source": "x", "id": f"s{n}", "author": "@s", "text": "refund?",
               "posted_at": shape.pop("posted_at"), "author_verified": shape.pop("author_verified"),
               "likes": shape.pop("likes"), "author_followers": shape.pop("author_followers")}
        try:
            comments.append(msgspec.structs.replace(parse_comment(raw), **shape))
        except InvalidInput:
            continue
    assume(comments)
    built = arrival_rows("inc", "intake", 1_800_000_000.5, 7, GENESIS, comments)
    events, rows = reference("inc", "intake", 1_800_000_000.5, 7, GENESIS, comments)
    assert built.event_rows == events
    assert [dict(zip(ARRIVAL_COLUMNS, row, strict=True)) for row in built.comment_rows] == rows
    assert built.head == events[-1][-1]


def test_no_comments_make_no_rows() -> None:
    assert arrival_rows("inc", "intake", 1.0, 1, GENESIS, []) == arrival_rows("inc", "intake", 1.0, 1, GENESIS, ())
    assert arrival_rows("inc", "intake", 1.0, 1, GENESIS, []).head == GENESIS


def test_a_batch_keeps_the_first_of_each_comment_it_has_not_stored() -> None:
    """Two platforms in one batch, one comment sent twice, one already stored: the duplicate check asks
    each platform for its own ids, and keeps the first copy of the new ones, in the batch's order."""
    batch = [NewComment(source=source, external_id=external_id, author="@a", text=str(n))
             for n, (source, external_id) in enumerate([("x", "1"), ("ig", "1"), ("x", "2"), ("x", "1"), ("ig", "9")])]
    keys, by_source = wanted_keys(batch)
    assert by_source == {"x": {"1", "2"}, "ig": {"1", "9"}}
    assert [c.text for c in unseen(batch, keys, {("ig", "9")})] == ["0", "1", "2"]
    assert unseen(batch[:3], keys[:3], set()) == batch[:3]
    assert wanted_keys(batch[:1])[1] == {"x": {"1"}}


def test_a_comment_of_another_incident_arrives_as_its_new_comment() -> None:
    """A stored Comment (its id, incident and status its own) given to ingest makes the rows its
    NewComment fields make."""
    new = TRAPS[1]
    stored = Comment(**msgspec.structs.asdict(new), id=99, incident_id="other", received_at=1.0, status="answered")
    mixed = arrival_rows("inc", "intake", 1_800_000_000.5, 7, GENESIS, [stored, new])
    assert mixed == arrival_rows("inc", "intake", 1_800_000_000.5, 7, GENESIS, [new, new])
