"""The streamed json export is, byte for byte, the document `to_json.write` makes of the whole
record in memory: on the story incident that writes every event kind, over every transport,
with pages of a few events, hostile text and a comment id the log gives twice."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from crisis_tui.export import arrivals, export_incident, json_stream, write_record
from crisis_tui.export.record import load_record
from crisis_tui.model import NewComment
from crisis_tui.playbook import Playbook
from crisis_tui.store.protocol import IncidentStore
from tests.event_story import every_kind, newer_and_broken

NOW = 1_900_000_000.0


async def _whole(store: IncidentStore, inc: str, book: Playbook, out: Path) -> bytes:
    """The export as it was made before it streamed: the record read whole, then encoded."""
    record = await load_record(store, inc, with_state=True)
    write_record(record, "json", out, out, playbook=book, now=NOW)
    return out.read_bytes()


@pytest.mark.parametrize("page", [3, 5000])
async def test_the_streamed_json_is_the_whole_documents_bytes(store: IncidentStore, book: Playbook, tmp_path: Path,
                                                              page: int, monkeypatch: pytest.MonkeyPatch) -> None:
    inc = await every_kind(store, book)
    await newer_and_broken(store, inc)
    await store.ingest(inc, [NewComment(source="x", external_id=f"h{i}", author=f"@h\x7f{i}",
                                        text=f"\x1b]0;pwn\x07 \u0085 \u202e refund {i}", posted_at=1_000_000_000.0 + i)
                             for i in range(7)])
    monkeypatch.setattr(json_stream, "PAGE", page)
    streamed = tmp_path / "streamed.json"
    [written] = await export_incident(store, inc, "json", streamed, playbook=book, now=NOW)
    assert written == streamed
    whole = await _whole(store, inc, book, tmp_path / "whole.json")
    data = streamed.read_bytes()
    assert data == whole
    assert b"\x7f" not in data and b"\xc2\x85" not in data
    doc = msgspec.json.decode(data)
    assert len(doc["events"]) == doc["head"]["number"] and doc["metrics"]["sla"]["breaches"] >= 7
    assert not (tmp_path / "streamed.json.part").exists()


async def test_a_comment_id_given_twice_keeps_its_first_place(tmp_path: Path, book: Playbook) -> None:
    """A log that ingests one id twice (an import of a hand-made file could): the state holds the
    last arrival in the first one's place, as the record's dict does."""
    from crisis_tui.eventlog import GENESIS, chain_hash, encode_payload  # noqa: PLC0415
    from crisis_tui.store.sqlite import SqliteStore  # noqa: PLC0415

    path = tmp_path / "twice.db"
    async with await SqliteStore.open(path, playbook=book) as store:
        inc = (await store.create_incident("Twice", actor="Luis")).id
        await store.ingest(inc, [NewComment(source="x", external_id=f"t{i}", author="@t", text=f"t{i}") for i in range(3)])
        await store.claim(inc, 1, actor="Luis")
        events = await store.events_after(inc, 0, 100)
    again = msgspec.to_builtins(events[1].payload)
    again["comment"]["text"] = "the same id, again"
    copy = tmp_path / "copy.db"
    async with await SqliteStore.open(copy, playbook=book) as target:
        rows = []
        prev = GENESIS
        for e in [*events, msgspec.structs.replace(events[1], payload=again, ts=events[-1].ts + 1)]:
            body = encode_payload(msgspec.to_builtins(e.payload))
            digest = chain_hash(prev, inc, e.ts, e.actor, e.kind, body)
            rows.append((inc, e.ts, e.actor, e.kind, body, prev, digest))
            prev = digest
        await target._db.executemany(
            "INSERT INTO events (incident_id, ts, actor, kind, payload, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)",
            rows)
        await target._db.execute("INSERT INTO incidents (id, title, severity, opened_at) VALUES (?, 'Twice', 'sev2', 0)",
                                 (inc,))
        await target._db.commit()
        streamed = tmp_path / "streamed.json"
        await export_incident(target, inc, "json", streamed, playbook=book, now=NOW)
        whole = await _whole(target, inc, book, tmp_path / "whole.json")
    assert streamed.read_bytes() == whole
    doc = msgspec.json.decode(whole)
    assert [c["text"] for c in doc["state"]["comments"]][:1] == ["the same id, again"]


def _arrival_bytes(i: int, **more: object) -> dict[str, object]:
    return {"comment": {"author": f"@o{i}", "external_id": f"o{i}", "id": i, "received_at": 1_000_000_100.0 + i,
                        "posted_at": 1_000_000_000.0 + i, "source": "x", "text": f"odd {i}", **more}}


async def test_stored_payloads_the_fast_path_cannot_vouch_for_are_written_as_before(
        tmp_path: Path, book: Playbook, monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs of arrivals are decoded at once and their payloads written as stored only where that gives
    the event-by-event bytes: payloads spelled otherwise than canonically (spaces, a key twice, an
    escaped key, another key), a comment naming a Comment-only field, a payload stored as text, an id
    out of order and a severity change between arrivals all export as the whole document does."""
    from crisis_tui.eventlog import GENESIS, chain_hash, encode_payload  # noqa: PLC0415
    from crisis_tui.store.sqlite import SqliteStore  # noqa: PLC0415

    canonical = encode_payload
    odd: list[tuple[str, bytes | str]] = [("comment.ingested", canonical(_arrival_bytes(i))) for i in range(1, 4)]
    odd += [
        ("comment.ingested", b'{"comment": ' + canonical(_arrival_bytes(4))[11:]),
        ("comment.ingested", canonical(_arrival_bytes(5))[:-1] + b' }'),
        ("comment.ingested", b'{"comment":{"id":1},' + canonical(_arrival_bytes(6))[1:]),
        ("comment.ingested", b'{"\\u0063omment":' + canonical(_arrival_bytes(7))[11:]),
        ("comment.ingested", canonical({**_arrival_bytes(8), "note": 1})),
        ("comment.ingested", canonical(_arrival_bytes(9, status="answered", holder="@x", tags=["t"]))),
        ("comment.ingested", canonical(_arrival_bytes(10, incident_id="elsewhere"))),
        ("comment.ingested", canonical(_arrival_bytes(11, status="new", holder=None, tags=[]))),
        ("comment.ingested", canonical(_arrival_bytes(12, text="a \\u escape \x1b and \x7f"))),
        ("comment.ingested", canonical(_arrival_bytes(13)).decode()),
        ("comment.ingested", canonical(_arrival_bytes(20))),
        ("comment.ingested", canonical(_arrival_bytes(14))),
        ("comment.ingested", b"not json"),
        ("incident.updated", canonical({"changes": {"severity": "sev1"}})),
        ("comment.ingested", canonical(_arrival_bytes(15))),
        ("comment.ingested", canonical(_arrival_bytes(16))),
        ("comment.claimed", canonical({"comment_id": 16, "holder": "Luis"})),
        ("comment.ingested", canonical(_arrival_bytes(17))),
        ("comment.ingested", canonical(_arrival_bytes(18))),
        ("comment.ingested", canonical(_arrival_bytes(17, text="17 again"))),
    ]
    taken: list[int] = []
    refused: list[int] = []
    decode = arrivals.RunDecoder.decode

    def watched(self: arrivals.RunDecoder, rows: list[tuple[object, ...]]) -> arrivals.Run | None:
        found = decode(self, rows)
        (refused if found is None else taken).append(len(rows))
        return found

    monkeypatch.setattr(arrivals.RunDecoder, "decode", watched)
    path = tmp_path / "odd.db"
    async with await SqliteStore.open(path, playbook=book) as store:
        inc = (await store.create_incident("Odd", actor="Luis")).id
        [created] = await store.events_after(inc, 0, 10)
        rows = []
        prev = created.hash
        for n, (kind, body) in enumerate(odd):
            ts = created.ts + n + 1
            data = body.encode() if isinstance(body, str) else body
            digest = chain_hash(prev, inc, ts, "intake", kind, data)
            rows.append((inc, ts, "intake", kind, body, prev, digest))
            prev = digest
        await store._db.executemany(
            "INSERT INTO events (incident_id, ts, actor, kind, payload, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)",
            rows)
        await store._db.commit()
    async with await SqliteStore.open(path, playbook=book) as store:
        for page in (3, 7, 5000):
            monkeypatch.setattr(json_stream, "PAGE", page)
            streamed = tmp_path / f"streamed-{page}.json"
            await export_incident(store, inc, "json", streamed, playbook=book, now=NOW)
            whole = await _whole(store, inc, book, tmp_path / "whole.json")
            assert streamed.read_bytes() == whole, page
    doc = msgspec.json.decode(whole)
    assert len(doc["events"]) == len(odd) + 1 and doc["head"]["hash"] != GENESIS
    assert [c["text"] for c in doc["state"]["comments"]][16:18] == ["17 again", "odd 18"]
    assert taken and refused  # both paths were walked
