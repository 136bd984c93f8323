"""Snapshots of the room at 80x24 and 160x48 (pytest-textual-snapshot).

The incident is written under a frozen clock (and TZ=UTC), opened read-only so
the viewer's own join never lands in the timeline, and the app's clock is
frozen too, so ages, the elapsed time, the sparkline and the timeline's times
are the same on every run. Update with `pytest tests/test_snapshots.py --snapshot-update`.
"""

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
from crisis_tui.comment_shape import parse_comment
from crisis_tui.demo_script import VIRAL, bot_comments, spike_comments
from crisis_tui.playbook import Playbook
from crisis_tui.store.sqlite import SqliteStore
from crisis_tui.widgets.editor import ResponseEditor
from tests.room_support import loaded

T0 = 1_767_261_600.0  # 2026-01-01 10:00 UTC


class FrozenRoom(CrisisApp):
    """The room on a read-only store that it closes in its own event loop."""

    async def on_unmount(self) -> None:
        await self.store.close()


async def _write_incident(path: Path, book: Playbook, now: list[float]) -> str:
    store = await SqliteStore.open(path, playbook=book)
    try:
        inc = (await store.create_incident("Refund delays after the app update", actor="Luis", brand="Lumo")).id
        viral = [parse_comment(dict(raw)) for raw in VIRAL]
        for i, c in enumerate(viral):
            c.priority = 0.9 - i * 0.1
        await store.ingest(inc, viral)
        spike = spike_comments(40)
        for i, c in enumerate(spike):
            c.priority = 0.35 - i * 0.005
        await store.ingest(inc, spike)
        bots = bot_comments(6)
        for c in bots:
            c.priority, c.bot_score, c.bot_reasons = 0.2, 0.9, ["account 2 days old", "copy-paste text"]
        await store.ingest(inc, bots)
        now[0] = T0 + 540  # the committee gathers nine minutes later
        for name, role, focus in (("Luis", "gm", "viewing the timeline"), ("Ana", "cm", "replying to @marta_viaja"),
                                  ("Giulia", "care", "checking accounts")):
            await store.heartbeat(inc, actor=name, role=role, focus=focus)
        await store.claim(inc, 1, actor="Ana")
        await store.save_draft(inc, "Hola Marta, lamentamos mucho la espera: es un error nuestro. Te escribimos "
                                    "por mensaje directo hoy antes de las 18:00.", actor="Ana", comment_id=1)
        await store.update_incident(inc, actor="Luis", our_fault=True)
        decision = await store.propose_decision(inc, "Publish a holding statement", actor="Ana", rationale="buy time")
        await store.vote_decision(inc, decision.id, True, actor="Luis")
        await store.propose_decision(inc, "Escalate the refund bug to the client", actor="Giulia",
                                     rationale="their bug")
        await store.add_note(inc, "payments team confirms the bug", actor="Giulia")
        await store.mark(inc, 5, "answered", actor="Giulia")
    finally:
        await store.close()
    return inc


@pytest.fixture
def frozen_room(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., CrisisApp]]:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    book = playbook_mod.load(playbook_mod.shipped_path())
    now = [T0]
    with monkeypatch.context() as patch:
        patch.setattr(time, "time", lambda: now[0])
        inc = asyncio.run(_write_incident(tmp_path / "snap.db", book, now))

    def make(**kwargs: Any) -> CrisisApp:
        store = asyncio.run(SqliteStore.open(tmp_path / "snap.db", playbook=book, read_only=True))
        return FrozenRoom(store, inc, book, me="Luis", role="gm", watch_playbook_file=False,
                          clock=lambda: T0 + 560, **kwargs)

    yield make
    monkeypatch.undo()  # TZ back first: a tzset before monkeypatch's own undo left the worker in UTC
    time.tzset()


async def _ready(pilot: Pilot) -> None:
    await loaded(pilot)
    await pilot.pause(0.2)


class TestRoom:
    def test_room_80x24(self, snap_compare: Any, frozen_room: Callable[..., CrisisApp]) -> None:
        assert snap_compare(frozen_room(), terminal_size=(80, 24), run_before=_ready)

    def test_room_160x48(self, snap_compare: Any, frozen_room: Callable[..., CrisisApp]) -> None:
        assert snap_compare(frozen_room(), terminal_size=(160, 48), run_before=_ready)

    def test_high_contrast_160x48(self, snap_compare: Any, frozen_room: Callable[..., CrisisApp]) -> None:
        assert snap_compare(frozen_room(theme="crisis-high-contrast"), terminal_size=(160, 48), run_before=_ready)


class TestEditor:
    def test_someone_elses_reply_is_read_only_80x24(self, snap_compare: Any,
                                                    frozen_room: Callable[..., CrisisApp]) -> None:
        async def open_marta(pilot: Pilot) -> None:
            await _ready(pilot)
            app = pilot.app
            assert isinstance(app, CrisisApp)
            app.room.stream.select_id(1)
            await pilot.press("r")
            editor = app.room.query_one(ResponseEditor)
            for _ in range(100):
                if editor.target is not None:
                    break
                await pilot.pause(0.05)
            editor.text_area.cursor_blink = False
            await pilot.pause(0.2)

        assert snap_compare(frozen_room(), terminal_size=(80, 24), run_before=open_marta)


class TestDetail:
    def test_comment_detail_80x24(self, snap_compare: Any, frozen_room: Callable[..., CrisisApp]) -> None:
        async def open_detail(pilot: Pilot) -> None:
            await _ready(pilot)
            await pilot.press("enter")
            await pilot.pause(0.5)

        assert snap_compare(frozen_room(), terminal_size=(80, 24), run_before=open_detail)


class TestHelp:
    @pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
    def test_help_over_the_stream(self, snap_compare: Any, frozen_room: Callable[..., CrisisApp],
                                  size: tuple[int, int]) -> None:
        async def open_help(pilot: Pilot) -> None:
            await _ready(pilot)
            await pilot.press("question_mark")
            await pilot.pause(0.3)

        assert snap_compare(frozen_room(), terminal_size=size, run_before=open_help)


class TestToast:
    @pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
    def test_a_refusal_toast(self, snap_compare: Any, frozen_room: Callable[..., CrisisApp],
                             size: tuple[int, int]) -> None:
        async def refuse(pilot: Pilot) -> None:
            await _ready(pilot)
            pilot.app.notify("@marta_viaja is held by Ana: ask them to release it", title="Claim refused",
                             severity="warning", timeout=60)
            await pilot.pause(0.3)

        assert snap_compare(frozen_room(), terminal_size=size, run_before=refuse)
