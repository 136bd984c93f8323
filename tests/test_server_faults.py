"""I/O faults under a real loopback server: 503 with Retry-After, nothing acknowledged lost."""

from __future__ import annotations

import sqlite3

import pytest

from crisis_tui.store.sqlite import SqliteStore
from tests.test_server_support import Served, ServeFactory, serve  # noqa: F401 - the fixture

pytestmark = pytest.mark.timeout(120)


def _writer(served: Served) -> SqliteStore:
    store: SqliteStore = served.server.app.state.crisis.writer
    return store


async def _pragma(served: Served, statement: str) -> int:
    """Run a PRAGMA on the server's own write connection (aiosqlite queues it on that connection's thread)."""
    rows = list(await _writer(served)._db.execute_fetchall(statement))
    return int(rows[0][0]) if rows else 0


def _comments(start: int, n: int, size: int = 2000) -> list[dict[str, object]]:
    return [{"source": "x", "id": f"c{i}", "author": f"@u{i}", "text": f"refund {i} " + "x" * size}
            for i in range(start, start + n)]


async def test_a_full_file_is_503_with_retry_after_and_writing_resumes_when_space_returns(serve: ServeFactory) -> None:
    served = await serve(triage=False)
    lead = served.raw(await served.token("Luis", "lead"))
    inc = (await lead.post("/incidents", json={"title": "Refund delays"})).json()["id"]
    taken = await lead.post(f"/incidents/{inc}/comments", json=_comments(0, 20))
    assert taken.status_code == 200 and taken.json()["ingested"] == 20
    pages = await _pragma(served, "PRAGMA page_count")
    assert await _pragma(served, f"PRAGMA max_page_count = {pages}") == pages  # the file may grow no more

    for path, body in ((f"/incidents/{inc}/comments", _comments(20, 200)),
                       (f"/incidents/{inc}/comments", _comments(500, 1, size=120_000)[0])):
        refused = await lead.post(path, json=body)
        assert refused.status_code == 503, refused.text
        assert refused.headers["Retry-After"].isdigit()
        assert refused.json()["error"] == "unavailable"
        assert "is full" in refused.json()["detail"] and "nothing was written" in refused.json()["detail"]

    stored = (await lead.get(f"/incidents/{inc}/comments")).json()
    assert [c["external_id"] for c in stored] == [f"c{i}" for i in range(20)]  # all acknowledged, nothing half-kept

    await _pragma(served, "PRAGMA max_page_count = 1073741823")
    again = await lead.post(f"/incidents/{inc}/comments", json=_comments(20, 200))
    assert again.status_code == 200 and again.json()["ingested"] == 200
    assert (await lead.get(f"/incidents/{inc}/counts")).json()["total"] == 220
    audit = (await lead.get(f"/incidents/{inc}/audit")).json()
    assert (audit["damaged"], audit["broken"], audit["differences"]) == ([], [], [])


async def test_a_file_locked_by_another_process_is_503_and_the_write_goes_in_once_it_is_free(
        serve: ServeFactory) -> None:
    served = await serve(triage=False)
    lead = served.raw(await served.token("Luis", "lead"))
    inc = (await lead.post("/incidents", json={"title": "Refund delays"})).json()["id"]
    await _pragma(served, "PRAGMA busy_timeout = 300")  # wait 0.3 s for the lock, not the usual 10 s
    other = sqlite3.connect(served.db, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        refused = await lead.post(f"/incidents/{inc}/notes", json={"text": "call the CEO"})
        assert refused.status_code == 503, refused.text
        assert refused.headers["Retry-After"].isdigit() and "locked" in refused.json()["detail"]
        other.execute("ROLLBACK")
    finally:
        other.close()
    again = await lead.post(f"/incidents/{inc}/notes", json={"text": "call the CEO"})
    assert again.status_code == 201
    kinds = [e["kind"] for e in (await lead.get(f"/incidents/{inc}/events")).json()]
    assert kinds.count("note.added") == 1
