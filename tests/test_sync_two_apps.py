"""Two operators, two App instances on one incident file: each sees what the other does, live."""

from __future__ import annotations

from pathlib import Path

from crisis_tui.playbook import Playbook
from crisis_tui.store.sqlite import SqliteStore
from crisis_tui.widgets.editor import ResponseEditor
from tests.room_support import comments, loaded, make_app, screen_text, wait_for

# The room promises the committee a second; bench/store.py and bench/http.py measure that
# (propagation in milliseconds). Here the story must happen, with slack for a loaded CI machine.
WITHIN = 5.0


async def test_two_operators_see_claims_drafts_decisions_and_presence(tmp_path: Path, book: Playbook) -> None:
    db = tmp_path / "room.db"
    setup = await SqliteStore.open(db, playbook=book)
    inc = (await setup.create_incident("Refund delays", actor="Luis")).id
    await setup.ingest(inc, comments(priorities=[0.6, 0.3, 0.9]))
    await setup.close()

    ana_store = await SqliteStore.open(db, playbook=book)
    luis_store = await SqliteStore.open(db, playbook=book)
    ana = make_app(ana_store, inc, book, me="Ana", role="cm")
    luis = make_app(luis_store, inc, book, me="Luis", role="gm")
    try:
        async with ana.run_test(size=(120, 30)) as ana_pilot, luis.run_test(size=(120, 30)) as luis_pilot:
            await loaded(ana_pilot)
            await loaded(luis_pilot)

            # presence: each sees the other in the committee
            await wait_for(ana_pilot, lambda: "Luis" in ana.room.state.presence, WITHIN)
            await wait_for(luis_pilot, lambda: "Ana" in luis.room.state.presence, WITHIN)
            assert "● Luis" in screen_text(ana) and "● Ana" in screen_text(luis)

            # Ana claims and starts a reply: Luis sees the claim, what she is doing, and the draft
            await ana_pilot.press("r")
            await wait_for(luis_pilot, lambda: luis.room.state.rows[3].holder == "Ana", WITHIN)
            await wait_for(luis_pilot, lambda: "●Ana" in screen_text(luis), WITHIN)
            await wait_for(luis_pilot, lambda: "replying to @dan_reviews" in screen_text(luis), WITHIN)
            await ana_pilot.press(*"Sorry Dan, we will call you today")
            await wait_for(luis_pilot, lambda: (d := luis.room.state.draft_for(3)) is not None
                           and d.body == "Sorry Dan, we will call you today", WITHIN + 1.0)  # + the autosave pause
            assert "✎●Ana" in screen_text(luis)

            # Luis opens the same comment: read-only, with Ana's text and her name
            await luis_pilot.press("r")
            luis_editor = luis.room.query_one(ResponseEditor)
            await wait_for(luis_pilot, lambda: luis_editor.target is not None and luis_editor.text_area.read_only)
            assert luis_editor.text == "Sorry Dan, we will call you today"
            assert "held by Ana" in screen_text(luis)

            # Ana submits: Luis sees the draft in review
            await ana_pilot.press("ctrl+g")
            await wait_for(luis_pilot, lambda: (draft := luis.room.state.draft_for(3)) is not None
                           and draft.status == "in_review", WITHIN)
            assert "⧗●Ana" in screen_text(luis)

            # Luis proposes a decision and approves it: Ana sees both, with who was present
            await luis_pilot.press("escape", "d", *"publish a holding statement", "enter", *"say it first", "enter")
            await wait_for(ana_pilot, lambda: len(ana.room.state.decisions) == 1, WITHIN)
            await wait_for(ana_pilot, lambda: "? proposed publish" in screen_text(ana), WITHIN)
            await luis_pilot.press("v")
            await luis_pilot.pause()
            await luis_pilot.press("y")
            await wait_for(ana_pilot, lambda: ana.room.state.decisions[1].status == "approved", WITHIN)
            assert ana.room.state.decisions[1].present == ["Ana", "Luis"]
            await wait_for(ana_pilot, lambda: "✓ approved publish" in screen_text(ana), WITHIN)

            # Luis quits: Ana sees him leave
            await luis_pilot.press("ctrl+q")
            await wait_for(ana_pilot, lambda: ana.room.state.presence["Luis"].left_at is not None, WITHIN)
            await wait_for(ana_pilot, lambda: "○ Luis" in screen_text(ana), WITHIN)
    finally:
        await ana_store.close()
        await luis_store.close()


async def test_a_silent_operator_is_marked_gone(tmp_path: Path, book: Playbook) -> None:
    book.presence.heartbeat_seconds = 0.2
    book.presence.gone_after_seconds = 1.5  # Ana's own heartbeat may lag on a loaded machine; Giulia's never comes
    store = await SqliteStore.open(tmp_path / "room.db", playbook=book)
    try:
        inc = (await store.create_incident("Refund delays", actor="Luis")).id
        await store.heartbeat(inc, actor="Giulia", role="care", focus="checking accounts")
        app = make_app(store, inc, book, me="Ana", role="cm")
        async with app.run_test(size=(120, 30)) as pilot:
            await loaded(pilot)
            await wait_for(pilot, lambda: app.room.state.presence["Giulia"].left_at is not None, 10.0)
            await wait_for(pilot, lambda: "○ Giulia" in screen_text(app))
            assert app.room.state.presence["Ana"].left_at is None
        events = await store.latest_events(inc, 20)
        assert any(e.kind == "operator.left" and e.payload == {"name": "Giulia", "reason": "timeout"} for e in events)
    finally:
        await store.close()
