"""Single hostile values (huge counts, dates outside any calendar we show, JSON nested
thousands deep) are refused with their place and reason; the rest of the input goes in."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from crisis_tui.comment_shape import parse_comment
from crisis_tui.errors import InvalidInput
from tests.test_server_support import ServeFactory, serve  # noqa: F401 - the fixture

CLI = [sys.executable, "-m", "crisis_tui"]
GOOD = {"source": "x", "id": "1", "author": "@marta", "text": "¿Dónde está mi reembolso?"}
DEEP = "[" * 5000 + "]" * 5000


def comment(**changes: Any) -> dict[str, Any]:
    return {**GOOD, **changes}


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("likes", 2**63, "9223372036854775808 is larger than the largest count"),
        ("shares", 10**400, "is larger than the largest count"),
        ("replies", 1e300, "1e+300 is larger than the largest count"),
        ("author_followers", float("inf"), "must be a whole number"),
        ("posted_at", "0001-01-01T00:00:00+23:59", "is outside 1970-01-01 to 3000-01-01"),
        ("author_created_at", "9999-12-31T23:59:59-23:59", "is outside 1970-01-01 to 3000-01-01"),
        ("posted_at", 1e300, "epoch time out of range"),
    ],
)
def test_a_value_out_of_range_is_refused_naming_the_field(field: str, value: object, words: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_comment(comment(**{field: value}))
    assert refused.value.field == field
    assert words in str(refused.value)


def test_the_largest_count_and_the_edges_of_time_are_kept() -> None:
    kept = parse_comment(comment(likes=2**63 - 1, posted_at="1970-01-01T00:00:00Z",
                                 author_created_at="2999-12-31T23:59:59Z"))
    assert kept.likes == 2**63 - 1
    assert kept.posted_at == 0.0


def test_unknown_keys_nested_too_deep_are_refused() -> None:
    deep: Any = 1
    for _ in range(40):
        deep = [deep]
    with pytest.raises(InvalidInput, match="nest more than 32 levels"):
        parse_comment(comment(campaign=deep))
    shallow: Any = {"a": {"b": [1, 2, {"c": 3}]}}
    assert parse_comment(comment(campaign=shallow)).extra == {"campaign": shallow}


def test_ingest_names_each_hostile_line_and_stores_the_rest(tmp_path: Path) -> None:
    db = tmp_path / "room.db"
    made = subprocess.run([*CLI, "new", str(db), "--title", "Refund delays"], capture_output=True, text=True, cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    lines = [
        json.dumps(comment(id="ok-1")),
        '{"source": "x", "id": "big", "author": "@a", "text": "hi", "likes": 9223372036854775808}',
        json.dumps(comment(id="far", posted_at="0001-01-01T00:00:00+23:59")),
        '{"source": "x", "id": "deep", "author": "@a", "text": "hi", "extra": ' + "[" * 40 + "]" * 40 + "}",
        DEEP,
        '{"source": "x", "id": "float", "author": "@a", "text": "hi", "shares": 1e300}',
        json.dumps(comment(id="ok-2")),
    ]
    backlog = tmp_path / "export.jsonl"
    backlog.write_text("\n".join(lines) + "\n", encoding="utf-8")
    done = subprocess.run([*CLI, "ingest", str(db), str(backlog)], capture_output=True, text=True, cwd=tmp_path,
                          timeout=120)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    assert "ingested 2, duplicates 0, rejected 5" in done.stdout
    reasons = done.stderr
    assert "export.jsonl:2: likes: 9223372036854775808 is larger than the largest count" in reasons
    assert "export.jsonl:3: posted_at:" in reasons and "outside 1970-01-01 to 3000-01-01" in reasons
    assert "export.jsonl:4: comment: unknown keys nest more than 32 levels deep" in reasons
    assert "export.jsonl:5: not valid JSON: JSON nested too deep to read" in reasons
    assert "export.jsonl:6: shares: 1e+300 is larger than the largest count" in reasons
    with sqlite3.connect(db) as con:
        stored = sorted(r[0] for r in con.execute("SELECT external_id FROM comments"))
    assert stored == ["ok-1", "ok-2"]


async def test_the_webhook_answers_422_for_hostile_values_and_takes_the_next_batch(serve: ServeFactory) -> None:
    served = await serve(triage=False)
    lead = await served.store("luis", "lead")
    inc = (await lead.create_incident("Refund delays", actor="luis")).id
    hook = served.raw(await served.token("hook", "operator"))
    path = f"/incidents/{inc}/comments"
    for body in (
        '{"source": "x", "id": "big", "author": "@a", "text": "hi", "likes": 9223372036854775808}',
        '{"source": "x", "id": "far", "author": "@a", "text": "hi", "posted_at": "0001-01-01T00:00:00+23:59"}',
        DEEP,
        '{"source": "x", "id": "deep", "author": "@a", "text": "hi", "extra": ' + DEEP + "}",
    ):
        answer = await hook.post(path, content=body, headers={"content-type": "application/json"})
        assert answer.status_code == 422, answer.text
        assert answer.json()["detail"]
    assert (await hook.post(path, json=comment(id="fine"))).status_code == 200
    assert [c.external_id for c in await lead.comments(inc)] == ["fine"]


async def test_one_poisoned_batch_in_a_group_commit_fails_only_itself(tmp_path: Path, book: object) -> None:
    import asyncio

    import msgspec

    from crisis_tui.server.group_commit import GroupCommit
    from crisis_tui.store.sqlite import SqliteStore

    db = tmp_path / "group.db"
    writer = await SqliteStore.open(db, playbook=book)  # type: ignore[arg-type]
    reader = await SqliteStore.open(db, read_only=True, playbook=book)  # type: ignore[arg-type]
    try:
        inc = (await writer.create_incident("Refund delays", actor="luis")).id
        good = [[parse_comment(comment(id=f"g{n}-{i}")) for i in range(3)] for n in range(4)]
        # A value no edge check stopped (SQLite's INTEGER is 64-bit): the store itself refuses it.
        poisoned = [msgspec.structs.replace(parse_comment(comment(id="p")), likes=2**70)]
        group = GroupCommit(writer, reader)
        batches = [good[0], good[1], poisoned, good[2], good[3]]
        results = await asyncio.gather(*(group.ingest(inc, b, actor="hook") for b in batches), return_exceptions=True)
        assert isinstance(results[2], OverflowError)
        assert [r.ingested for r in results if not isinstance(r, BaseException)] == [3, 3, 3, 3]
        stored = {c.external_id for c in await writer.comments(inc)}
        assert stored == {c.external_id for b in good for c in b}
    finally:
        await reader.close()
        await writer.close()


@pytest.mark.parametrize("text", ["=1+1", " =HYPERLINK(\"x\")", "\n=cmd", "  \t+1", "＝1+1", "﹢SUM(A1)", "＠x", "－1"])
def test_a_csv_cell_never_starts_a_formula_whatever_comes_first(text: str) -> None:
    from crisis_tui.export.to_csv import cell

    assert cell(text).startswith("'")


@pytest.mark.parametrize("text", ["hello", "a=b", "¿reembolso?", ""])
def test_a_plain_csv_cell_is_left_alone(text: str) -> None:
    from crisis_tui.export.to_csv import cell

    assert cell(text) == text
