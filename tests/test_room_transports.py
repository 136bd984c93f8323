"""The same room over both transports (a shared SQLite file, a `crisis-tui serve` server):
the room never asks which store it has."""

from __future__ import annotations

import asyncio

from crisis_tui.playbook import Playbook
from crisis_tui.store.http import HttpStore
from crisis_tui.store.protocol import IncidentStore
from crisis_tui.widgets.editor import ResponseEditor
from tests.room_support import comments, loaded, make_app, screen_text, wait_for
from tests.test_server_support import Served, ServeFactory, serve  # noqa: F401 - the fixture


async def test_claim_reply_and_decide_over_either_transport(store: IncidentStore, incident: str, book: Playbook) -> None:
    await store.ingest(incident, comments(priorities=[0.6, 0.3, 0.9]))
    app = make_app(store, incident, book, me="Luis", role="gm")
    async with app.run_test(size=(120, 30)) as pilot:
        await loaded(pilot)
        assert "@dan_reviews" in screen_text(app)
        await pilot.press("r", *"Sorry Dan, we will call you today")
        editor = app.room.query_one(ResponseEditor)
        await wait_for(pilot, lambda: editor.target is not None and editor.target.draft_id is not None
                       and not editor.dirty)
        assert (await store.get_comment(incident, 3)).holder == "Luis"
        await pilot.press("escape", "d", *"holding statement", "enter", *"buy time", "enter")
        await wait_for(pilot, lambda: len(app.room.state.decisions) == 1)
        await pilot.press("v")
        await pilot.pause()
        await pilot.press("y")
        await wait_for(pilot, lambda: app.room.state.decisions[1].status == "approved")
        assert "Luis" in app.room.state.presence


async def ana_and_luis(served: Served) -> tuple[HttpStore, HttpStore, str]:
    """Ana (operator) and Luis (lead) on a served incident with three comments."""
    store = await served.store("Ana", "operator")
    lead = await served.store("Luis", "lead")
    incident = (await lead.create_incident("Refund delays", actor="Luis")).id
    await lead.ingest(incident, comments(priorities=[0.6, 0.3, 0.9]))
    return store, lead, incident


async def test_the_room_says_reconnecting_while_its_server_is_away(serve: ServeFactory, book: Playbook) -> None:
    served = await serve()
    store, lead, incident = await ana_and_luis(served)
    app = make_app(store, incident, book)
    async with app.run_test(size=(120, 30)) as pilot:
        await loaded(pilot)
        assert "reconnecting" not in screen_text(app)
        await asyncio.to_thread(served.server.stop)
        await wait_for(pilot, lambda: "⟳ reconnecting…" in screen_text(app), timeout=10)
        await asyncio.to_thread(served.server.start)
        await lead.add_note(incident, "back again", actor="Luis")
        await wait_for(pilot, lambda: "reconnecting" not in screen_text(app).splitlines()[0], timeout=20)
        await wait_for(pilot, lambda: any("back again" in e.text for e in app.room.state.timeline), timeout=10)


async def test_a_draft_typed_while_the_server_is_away_is_saved_when_it_returns(serve: ServeFactory, book: Playbook) -> None:
    served = await serve()
    store, lead, incident = await ana_and_luis(served)
    app = make_app(store, incident, book)
    async with app.run_test(size=(120, 30)) as pilot:
        await loaded(pilot)
        await pilot.press("r", *"Hola")
        editor = app.room.query_one(ResponseEditor)
        await wait_for(pilot, lambda: editor.target is not None and editor.target.draft_id is not None
                       and not editor.dirty)
        await asyncio.to_thread(served.server.stop)
        await wait_for(pilot, lambda: "⟳ reconnecting…" in screen_text(app), timeout=10)
        await pilot.press(*" Marta, te escribimos hoy")
        await pilot.pause(2.5)  # the autosave runs and is refused: the server is away
        assert editor.dirty
        await asyncio.to_thread(served.server.start)
        await wait_for(pilot, lambda: not editor.dirty, timeout=20)
        (draft,) = await lead.drafts(incident)
        assert draft.body == "Hola Marta, te escribimos hoy"
