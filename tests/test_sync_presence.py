"""A room's heartbeat and its leave on quit never cross: the committee sees who left as left,
and a leave the store refuses is said, not swallowed."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from textual.app import App

from crisis_tui.errors import CrisisError
from crisis_tui.model import Presence
from crisis_tui.playbook import Playbook
from crisis_tui.store.sqlite import SqliteStore
from crisis_tui.sync import SyncWorker


class SlowHeartbeats(SqliteStore):
    """A store on a slow disk: each heartbeat waits for `release` before it writes."""

    entered: asyncio.Event
    gate: asyncio.Event

    async def heartbeat(self, incident_id: str, *, actor: str, role: str, focus: str | None = None) -> Presence:
        self.entered.set()
        await self.gate.wait()
        return await super().heartbeat(incident_id, actor=actor, role=role, focus=focus)


class FullDiskOnLeave(SqliteStore):
    async def leave(self, incident_id: str, *, actor: str, reason: str = "quit") -> None:
        raise OSError(28, "No space left on device")


@contextlib.asynccontextmanager
async def incident_in(kind: type[SqliteStore], tmp_path: Path, book: Playbook) -> AsyncIterator[tuple[Any, str]]:
    """A store of `kind` on a real file, with one incident opened by Luis."""
    store = await kind.open(tmp_path / "room.db", playbook=book)
    try:
        yield store, (await store.create_incident("Refund delays", actor="Luis")).id
    finally:
        await store.close()


def ana(presence: list[Presence]) -> Presence:
    return next(p for p in presence if p.name == "Ana")


async def test_a_heartbeat_in_flight_lands_before_the_leave_not_after(tmp_path: Path, book: Playbook) -> None:
    async with incident_in(SlowHeartbeats, tmp_path, book) as (store, inc):
        store.entered, store.gate = asyncio.Event(), asyncio.Event()
        worker = SyncWorker(store, inc, "Ana", "cm", book, App())
        beat = asyncio.create_task(worker._beat())
        await store.entered.wait()
        leave = asyncio.create_task(worker.leave())
        await asyncio.sleep(0.05)  # without the shared lock the leave would be written by now
        store.gate.set()
        await asyncio.gather(beat, leave)
        assert ana(await store.presence(inc)).left_at is not None
        await worker._beat()  # a beat after the leave is not written
        assert ana(await store.presence(inc)).left_at is not None


async def test_the_heartbeat_loop_ends_once_the_room_has_left(tmp_path: Path, book: Playbook) -> None:
    async with incident_in(SqliteStore, tmp_path, book) as (store, inc):
        worker = SyncWorker(store, inc, "Ana", "cm", book, App())
        await worker._beat()
        loop = asyncio.create_task(worker._heartbeat_loop())
        await worker.leave()
        worker.set_focus("quitting")  # wakes the loop at once
        await asyncio.wait_for(loop, 5)
        assert ana(await store.presence(inc)).left_at is not None


async def test_a_leave_the_store_refuses_is_raised_for_the_app_to_say(tmp_path: Path, book: Playbook) -> None:
    async with incident_in(FullDiskOnLeave, tmp_path, book) as (store, inc):
        worker = SyncWorker(store, inc, "Ana", "cm", book, App())
        with pytest.raises(CrisisError, match="could not record leaving the room: .*No space left"):
            await worker.leave()


async def test_quitting_when_the_leave_is_refused_exits_with_the_reason(
        tmp_path: Path, book: Playbook, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.room_support import loaded, make_app

    async with incident_in(FullDiskOnLeave, tmp_path, book) as (store, inc):
        app = make_app(store, inc, book)
        async with app.run_test(size=(80, 24)) as pilot:
            await loaded(pilot)
            await pilot.press("ctrl+q")
            await pilot.pause(0.3)
        assert app.return_code == 1
        assert "could not record leaving the room" in capsys.readouterr().err
