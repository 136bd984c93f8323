"""The demo in the room: narrated on one line under the panes, the scripted committee kept in
the room until the viewer quits, and a closing line that says what to try."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import msgspec
import pytest

from crisis_tui import demo_script
from crisis_tui.playbook import Playbook
from crisis_tui.store.sqlite import SqliteStore
from crisis_tui.widgets.demo_caption import DemoCaption
from tests.room_support import make_app, screen_text, wait_for


@pytest.fixture
def quick_presence(book: Playbook) -> Playbook:
    """Heartbeats every 0.2s and gone after 1s, so a test sees what a minute of the demo does."""
    presence = msgspec.structs.replace(book.presence, heartbeat_seconds=0.2, gone_after_seconds=1.0)
    return msgspec.structs.replace(book, presence=presence)


@pytest.fixture
async def demo_store(tmp_path: Path, quick_presence: Playbook) -> AsyncIterator[SqliteStore]:
    store = await SqliteStore.open(tmp_path / "demo.db", playbook=quick_presence)
    try:
        yield store
    finally:
        await store.close()


def test_the_script_takes_about_two_minutes_at_the_default_speed() -> None:
    total = sum(step.delay for step in demo_script.script()) + demo_script.CLOSING_DELAY
    assert 100 <= total <= 150


async def test_the_demo_is_narrated_once_under_the_panes_and_the_cast_stays(
        demo_store: SqliteStore, quick_presence: Playbook) -> None:
    inc = await demo_script.create_demo_incident(demo_store)
    app = make_app(demo_store, inc, quick_presence, me="Newcomer", role="gm", demo_speed=0)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: "room is yours" in screen_text(app), timeout=10)
        caption = app.room.query_one(DemoCaption)
        body = app.room.query_one("#room-body")
        assert caption.region.y >= body.region.bottom  # its own row, under the panes, over nothing
        assert not [n for n in app._notifications if n.title == "Demo"]  # no toast per step

        await pilot.pause(2.5)  # more than twice gone_after: a silent cast would be gone
        assert await demo_store.expire_presence(inc, quick_presence.presence.gone_after_seconds) == []
        seats = {p.name: p for p in await demo_store.presence(inc)}
        for name, _, _ in demo_script.CAST:
            assert seats[name].left_at is None
            assert time.time() - seats[name].heartbeat_at < 1.0
        marta = next(c for c in await demo_store.comments(inc, limit=20) if c.author == "@marta_viaja")
        assert marta.holder == "Ana" and seats["Ana"].left_at is None  # held, by someone who is here
        assert "Committee (5 here)" in screen_text(app)
