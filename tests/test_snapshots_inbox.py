"""Snapshots of the approval inbox at 80x24 and 160x48: the frozen incident of test_snapshots,
with Ana's reply to Marta and a public statement submitted for the general manager's approval.
Update with `pytest tests/test_snapshots_inbox.py --snapshot-update`."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from crisis_tui import playbook as playbook_mod
from crisis_tui.app import CrisisApp
from crisis_tui.playbook import Playbook
from crisis_tui.screens.approval_inbox import ApprovalInbox
from crisis_tui.store.sqlite import SqliteStore
from tests.room_support import loaded
from tests.test_snapshots import T0, FrozenRoom, _write_incident


async def _submit_two(path: Path, book: Playbook, inc: str, now: list[float]) -> None:
    store = await SqliteStore.open(path, playbook=book)
    try:
        now[0] = T0 + 550
        (reply,) = await store.drafts(inc, comment_id=1)
        await store.set_draft_status(inc, reply.id, "in_review", actor="Ana")
        statement = await store.save_draft(inc, "We are sorry: refunds are late because of our app update. "
                                                "Every refund is paid by Friday.", actor="Giulia", kind="statement")
        await store.set_draft_status(inc, statement.id, "in_review", actor="Giulia")
    finally:
        await store.close()


@pytest.fixture
def inbox_room(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., CrisisApp]]:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    book = playbook_mod.load(playbook_mod.shipped_path())
    now = [T0]
    db = tmp_path / "snap.db"
    with monkeypatch.context() as patch:
        patch.setattr(time, "time", lambda: now[0])
        inc = asyncio.run(_write_incident(db, book, now))
        asyncio.run(_submit_two(db, book, inc, now))

    def make() -> CrisisApp:
        store = asyncio.run(SqliteStore.open(db, playbook=book, read_only=True))
        return FrozenRoom(store, inc, book, me="Luis", role="gm", watch_playbook_file=False, clock=lambda: T0 + 560)

    yield make
    monkeypatch.undo()  # TZ back first: a tzset before monkeypatch's own undo left the worker in UTC
    time.tzset()


async def _open_inbox(pilot: Pilot) -> None:
    await loaded(pilot)
    await pilot.pause(0.2)
    await pilot.press("x")
    for _ in range(100):
        if isinstance(pilot.app.screen, ApprovalInbox):
            break
        await pilot.pause(0.05)
    await pilot.pause(0.2)


class TestApprovalInbox:
    def test_inbox_80x24(self, snap_compare: Any, inbox_room: Callable[..., CrisisApp]) -> None:
        assert snap_compare(inbox_room(), terminal_size=(80, 24), run_before=_open_inbox)

    def test_inbox_160x48(self, snap_compare: Any, inbox_room: Callable[..., CrisisApp]) -> None:
        assert snap_compare(inbox_room(), terminal_size=(160, 48), run_before=_open_inbox)
