"""Exports someone may `cat`: no escape or control character reaches their terminal.

An incident whose every string is hostile (the title, names, comments, tags,
notes, drafts, decisions, alert kinds and payloads, and the playbook's own
strings) is exported in every format. The md, html and csv files hold no C0
control but the newline and tab (and csv's own CRLF line ends), no DEL and no
C1; the json file holds none raw either, and still gives back every character.
"""

from __future__ import annotations

import re
from pathlib import Path

import msgspec

from crisis_tui.comment_shape import parse_comment
from crisis_tui.export import FORMATS, export_incident
from crisis_tui.playbook import Playbook
from crisis_tui.safe_text import storable
from crisis_tui.store.sqlite import SqliteStore
from tests.hostile_playbook import hostile_playbook

CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
EVIL = "\x1b]52;c;ZXZpbA==\x07\x1b[2J\x9b31m\x9d0;t\x9c\x7f\x00\x08\r"


def evil(word: str) -> str:
    return f"{word}{EVIL}"


async def hostile_incident(db: Path, book: Playbook) -> str:
    store = await SqliteStore.open(db, playbook=book)
    try:
        inc = (await store.create_incident(evil("Refund delays"), actor=evil("Luis"), brand=evil("Acme"))).id
        (cid,) = (await store.ingest(inc, [parse_comment({
            "source": "x", "id": evil("e1"), "author": evil("@marta"), "text": evil("¿Dónde está?") + "\nline two",
            "lang": "\x1b[5m", "url": evil("https://x.example/"),
        })])).ids
        await store.tag(inc, cid, [evil("refund")], actor=evil("Ana"))
        await store.heartbeat(inc, actor=evil("Ana"), role="cm", focus=evil("replying"))
        await store.heartbeat(inc, actor="Luis", role="gm")
        await store.claim(inc, cid, actor=evil("Ana"))
        draft = await store.save_draft(inc, evil("=1+1 Sorry") + "\nDM us", actor=evil("Ana"), comment_id=cid)
        await store.set_draft_status(inc, draft.id, "in_review", actor=evil("Ana"))
        await store.set_draft_status(inc, draft.id, "approved", actor="Luis", override_reason=evil("ok by legal"))
        await store.set_draft_status(inc, draft.id, "sent", actor=evil("Ana"))
        decision = await store.propose_decision(inc, evil("Publish"), actor=evil("Sam"), rationale=evil("because"))
        await store.vote_decision(inc, decision.id, True, actor="Luis")
        await store.add_note(inc, evil("note"), actor=evil("Ana"))
        await store.alert(inc, "alert.sla", {"detail": evil("late"), evil("key"): evil("value")})
    finally:
        await store.close()
    return inc


async def test_no_export_carries_a_raw_control_character(tmp_path: Path) -> None:
    book = hostile_playbook()
    db = tmp_path / "evil.db"
    inc = await hostile_incident(db, book)
    store = await SqliteStore.open(db, read_only=True, playbook=book)
    try:
        written = {fmt: await export_incident(store, inc, fmt, tmp_path / f"out-{fmt}",
                                              playbook=book) for fmt in FORMATS}
    finally:
        await store.close()
    assert set(written) >= {"md", "html", "csv", "json"}
    for fmt, paths in written.items():
        for path in paths:
            text = path.read_bytes().decode("utf-8")
            if fmt == "csv":
                text = text.replace("\r\n", "\n")  # csv's own line ends
            found = CONTROLS.search(text)
            assert found is None, f"{path.name}: {found.group()!r} in {text[found.start() - 40:found.start() + 10]!r}"
            if fmt in ("md", "html"):
                assert "ZXZpbA==" not in text, path.name  # the OSC 52 went whole, not just its ESC

    (json_file,) = written["json"]
    document = msgspec.json.decode(json_file.read_bytes())
    # loss-free: each character the record keeps is back (a NUL is kept as U+FFFD: safe_text.storable)
    assert document["incident"]["title"].startswith(storable(evil("Refund delays").strip()))
    # an alert's payload is the log's alone: kept as it came
    assert any(e["payload"].get(evil("key")) == evil("value") for e in document["events"])
    comments_csv = next(p for p in written["csv"] if p.name.endswith("comments.csv")).read_text(encoding="utf-8")
    assert "¿Dónde está?" in comments_csv and "line two" in comments_csv
    replies_csv = next(p for p in written["csv"] if p.name.endswith("replies.csv")).read_text(encoding="utf-8")
    assert "'=1+1 Sorry" in replies_csv  # formula neutralised, as before
