"""The wallboard against a real `crisis-tui serve` on loopback, with a viewer token."""

from __future__ import annotations

import pytest
from textual.widgets import Static

from crisis_tui import demo_script, locator
from crisis_tui.comment_shape import parse_comment
from crisis_tui.errors import Forbidden
from crisis_tui.playbook import Playbook
from crisis_tui.store.sqlite import SqliteStore
from crisis_tui.wallboard.app import WallboardApp
from crisis_tui.wallboard.banner import SeverityBanner
from crisis_tui.wallboard.boards import DecisionsBoard
from crisis_tui.wallboard.figure import BigFigure
from tests.test_server_support import ServeFactory, serve  # noqa: F401 - the fixture
from tests.test_wallboard import until


async def test_the_wallboard_follows_a_server_with_a_viewer_token(serve: ServeFactory, book: Playbook) -> None:  # noqa: F811
    served = await serve()
    writer = await SqliteStore.open(served.db, playbook=book)
    try:
        inc = await demo_script.create_demo_incident(writer)
        await demo_script.play(writer, inc, speed=0)
        secret = await served.token("Big screen", "viewer")
        viewer, incident_id = await locator.open_incident(f"{served.url}/incidents/{inc}", playbook=book,
                                                          read_only=True, token=secret)
        try:
            assert incident_id == inc and viewer.read_only
            with pytest.raises(Forbidden):
                await viewer.add_note(inc, "from the wall", actor="Big screen")
            start = (await writer.counts(inc)).unanswered
            app = WallboardApp(viewer, inc, playbook=book)
            async with app.run_test(size=(80, 24)) as pilot:
                unanswered = app.query_one("#unanswered", BigFigure)
                await until(pilot, lambda: unanswered.value == str(start), timeout=15)
                await writer.ingest(inc, [parse_comment({"source": "x", "id": f"http-{i}", "author": f"@h{i}",
                                                         "text": "any news?"}) for i in range(3)])
                await until(pilot, lambda: unanswered.value == str(start + 3), timeout=15)
                await writer.propose_decision(inc, "Call the press office", actor="Sam", rationale="they ask")
                await until(pilot, lambda: "Call the press office" in str(app.query_one(DecisionsBoard).lines()[0]),
                            timeout=15)
                assert "live" in app.link
        finally:
            await viewer.close()
    finally:
        await writer.close()


async def test_the_wallboard_says_reconnecting_while_its_server_is_away(serve: ServeFactory, book: Playbook) -> None:  # noqa: F811
    import asyncio

    served = await serve()
    writer = await SqliteStore.open(served.db, playbook=book)
    try:
        inc = await demo_script.create_demo_incident(writer)
        secret = await served.token("Big screen", "viewer")
        viewer, _ = await locator.open_incident(f"{served.url}/incidents/{inc}", playbook=book,
                                                read_only=True, token=secret)
        try:
            app = WallboardApp(viewer, inc, playbook=book)
            async with app.run_test(size=(80, 24)) as pilot:
                await until(pilot, lambda: app.link == "● live", timeout=15)
                await asyncio.to_thread(served.server.stop)
                await until(pilot, lambda: app.link == "⟳ reconnecting…", timeout=15)
                # loud, and frozen: the band says since when, and no clock or SLA runs on as if live
                assert app.screen.has_class("-away") and app.away_since is not None
                away = app.query_one("#away", Static)
                await until(pilot, lambda: "SOURCE AWAY since" in str(away.content), timeout=5)
                banner = str(app.query_one(SeverityBanner).content)
                await pilot.pause(1.2)
                app.render_all()
                assert str(app.query_one(SeverityBanner).content) == banner
                await asyncio.to_thread(served.server.start)
                await writer.add_note(inc, "the server is back", actor="Luis")
                await until(pilot, lambda: app.link == "● live", timeout=20)
                # back, the board reads everything again (a read refused meanwhile left it stale)
                await until(pilot, lambda: app.incident is not None, timeout=20)
                assert not app.screen.has_class("-away") and app.away_since is None
        finally:
            await viewer.close()
    finally:
        await writer.close()
