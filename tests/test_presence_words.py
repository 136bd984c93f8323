"""Presence has one word per state: "left" for who quit, "gone" for whose heartbeat stopped, the
same on the record and in the committee pane."""

from __future__ import annotations

import asyncio
from pathlib import Path

from crisis_tui.playbook import Playbook
from crisis_tui.presence_words import GONE, LEFT, absence_word
from crisis_tui.store.sqlite import SqliteStore
from crisis_tui.timeline_text import human_lines
from tests.room_support import loaded, make_app, screen_text, wait_for


def test_an_expiry_is_gone_and_a_quit_is_left() -> None:
    assert absence_word("timeout") == GONE
    assert absence_word("quit") == LEFT and absence_word("") == LEFT


async def test_the_record_and_the_live_pane_say_gone_and_left_alike(tmp_path: Path, book: Playbook) -> None:
    store = await SqliteStore.open(tmp_path / "room.db", playbook=book)
    try:
        inc = (await store.create_incident("Refund delays", actor="Luis")).id
        app = make_app(store, inc, book, me="Ana", role="cm")
        async with app.run_test(size=(120, 30)) as pilot:
            await loaded(pilot)
            await store.heartbeat(inc, actor="Luis", role="gm", focus="viewing the timeline")
            await store.heartbeat(inc, actor="Giulia", role="care", focus="checking accounts")
            await store.leave(inc, actor="Giulia")
            await asyncio.sleep(0.05)
            assert "Luis" in await store.expire_presence(inc, 0.01)
            await wait_for(pilot, lambda: "○ Luis" in screen_text(app) and "○ Giulia" in screen_text(app))
            shown = {line.split("│")[-2].strip() for line in screen_text(app).splitlines()
                     if "○ Luis" in line or "○ Giulia" in line}
            assert any("Luis" in s and s.endswith(GONE) for s in shown), shown
            assert any("Giulia" in s and s.endswith(LEFT) for s in shown), shown
        lines = human_lines(await store.events_after(inc, 0, 1000))
        assert any(line.endswith("Luis is gone (no heartbeat)") for line in lines)
        assert any(line.endswith("Giulia left") for line in lines)
        assert not any("timed out" in line for line in lines)
    finally:
        await store.close()
