"""Stories of one operator in the room, driven by keys through Pilot on a real SQLite file."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from textual import events
from textual.command import CommandList, CommandPalette

from crisis_tui.app import CrisisApp
from crisis_tui.errors import StoreUnavailable
from crisis_tui.model import Comment
from crisis_tui.playbook import Playbook
from crisis_tui.screens.approval_dialog import ConfirmApproval
from crisis_tui.screens.detail import CommentDetail
from crisis_tui.screens.forms import ProposeDecision
from crisis_tui.screens.room import DECISION_POWER_KEYS
from crisis_tui.store.sqlite import SqliteStore
from crisis_tui.widgets.checklist import ToneChecklist
from crisis_tui.widgets.editor import ResponseEditor
from crisis_tui.widgets.stream import CommentStream
from crisis_tui.widgets.timeline import NoteInput
from tests.room_support import comments, inc, loaded, make_app, screen_text, sqlite, wait_for  # noqa: F401 - the fixtures


def stream(app: CrisisApp) -> CommentStream:
    return app.room.query_one(CommentStream)


def editor(app: CrisisApp) -> ResponseEditor:
    return app.room.query_one(ResponseEditor)


def draft_of(app: CrisisApp) -> int | None:
    """The draft the editor is on: None with no target, or before its first save."""
    target = editor(app).target
    return target.draft_id if target else None


def status_of(app: CrisisApp, comment_id: int) -> str | None:
    draft = app.room.state.draft_for(comment_id)
    return draft.status if draft else None


def notes(app: CrisisApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def test_all_four_panes_are_visible_at_80x24(sqlite: SqliteStore, inc: str, book: Playbook) -> None:
    app = make_app(sqlite, inc, book)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        text = screen_text(app)
        for part in ("Refund delays", "SEV2", "Comments (priority)", "Committee", "Response", "Timeline",
                     "@dan_revi", "@marta_vi", "giorgia.r", "c Claim", "^p palette"):
            assert part in text, part
        lines = text.splitlines()
        assert len(lines) == 24 and all(len(line) <= 80 for line in lines)
        # worst first: dan (0.9), marta (0.6), giorgia (0.3)
        rows = [line for line in lines if "@dan_revi" in line or "@marta_vi" in line or "giorgia" in line]
        assert "@dan_revi" in rows[0] and "giorgia" in rows[2]
        assert "@dan_reviews" in text  # the whole handle, in the preview under the stream


async def test_claim_then_release_with_the_keyboard(sqlite: SqliteStore, inc: str, book: Playbook) -> None:
    app = make_app(sqlite, inc, book)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        await pilot.press("c")
        await wait_for(pilot, lambda: app.room.state.rows[3].holder == "Ana")
        assert (await sqlite.get_comment(inc, 3)).holder == "Ana"
        await wait_for(pilot, lambda: "held by me" in screen_text(app))  # 80 columns: in the preview
        await pilot.press("u")
        await wait_for(pilot, lambda: app.room.state.rows[3].holder is None)
        assert (await sqlite.get_comment(inc, 3)).status == "new"


async def test_claiming_a_comment_someone_holds_names_the_holder(sqlite: SqliteStore, inc: str, book: Playbook) -> None:
    await sqlite.claim(inc, 3, actor="Luis")
    app = make_app(sqlite, inc, book)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await loaded(pilot)
        await pilot.press("c")
        await wait_for(pilot, lambda: any("held by Luis" in n for n in notes(app)))
        assert (await sqlite.get_comment(inc, 3)).holder == "Luis"
        assert "held by Luis" in screen_text(app)


async def test_reply_claims_and_autosaves_as_you_type(sqlite: SqliteStore, inc: str, book: Playbook) -> None:
    app = make_app(sqlite, inc, book)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        await pilot.press("r")
        await wait_for(pilot, lambda: editor(app).target is not None and not editor(app).text_area.read_only)
        assert app.focused is editor(app).text_area
        await pilot.press(*"Sorry Dan, we will fix it today")
        await wait_for(pilot, lambda: draft_of(app) is not None and not editor(app).dirty)
        drafts = await sqlite.drafts(inc, comment_id=3)
        assert [d.body for d in drafts] == ["Sorry Dan, we will fix it today"]
        assert (await sqlite.get_comment(inc, 3)).holder == "Ana"
        text = screen_text(app)
        assert "Reply to @dan_reviews" in text and "/280" in text and "saved" in text
        # the tone checklist updates as you type
        assert "calm" in text


async def test_a_stale_save_keeps_my_text_and_says_who_saved_what(sqlite: SqliteStore, inc: str, book: Playbook) -> None:
    app = make_app(sqlite, inc, book)
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await loaded(pilot)
        await pilot.press("r", *"first words")
        await wait_for(pilot, lambda: draft_of(app) is not None and not editor(app).dirty)
        draft_id = draft_of(app)
        assert draft_id is not None
        # Luis edits the same draft from another terminal, based on version 1
        await sqlite.save_draft(inc, "Luis's version", actor="Luis", base_version=1, draft_id=draft_id)
        await pilot.press(*" and more")
        await wait_for(pilot, lambda: editor(app).conflict is not None)
        assert editor(app).text == "first words and more"
        assert any("Luis saved version 2" in n for n in notes(app))
        assert "Luis saved v2" in screen_text(app)
        await pilot.press("ctrl+l")
        assert editor(app).text == "Luis's version" and editor(app).conflict is None


async def test_the_editor_is_read_only_when_someone_else_holds_the_comment(
    sqlite: SqliteStore, inc: str, book: Playbook
) -> None:
    await sqlite.claim(inc, 3, actor="Luis")
    await sqlite.save_draft(inc, "Luis is answering", actor="Luis", comment_id=3)
    app = make_app(sqlite, inc, book)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        await pilot.press("r")
        await wait_for(pilot, lambda: editor(app).target is not None)
        assert editor(app).text_area.read_only
        assert editor(app).text == "Luis is answering"
        assert "held by Luis" in screen_text(app)
        checklist = app.room.query_one(ToneChecklist)
        await wait_for(pilot, lambda: any(v.ticked is not None for v in checklist.verdicts))
        assert "space ticks" not in screen_text(app), "nothing here is the reader's to tick"
        await pilot.press("x")
        assert editor(app).text == "Luis is answering"


async def test_submit_approve_with_a_reason_and_send(sqlite: SqliteStore, inc: str, book: Playbook) -> None:
    app = make_app(sqlite, inc, book, me="Luis", role="gm")
    async with app.run_test(size=(100, 30)) as pilot:
        await loaded(pilot)
        await pilot.press("r", *"ok")  # fails apology / next step: approval needs a reason
        await pilot.press("ctrl+g")
        await wait_for(pilot, lambda: (d := app.room.state.draft_for(3)) is not None and d.status == "in_review")
        await pilot.press("escape", "a")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmApproval))
        await pilot.press("enter")
        assert isinstance(app.screen, ConfirmApproval)  # an empty reason is refused in place
        await pilot.press(*"known customer, answered by phone", "enter")
        await wait_for(pilot, lambda: status_of(app, 3) == "approved")
        draft = (await sqlite.drafts(inc, comment_id=3))[0]
        assert draft.override_reason == "known customer, answered by phone" and draft.approvals == ["Luis"]
        await pilot.press("m")
        await wait_for(pilot, lambda: app.room.state.rows[3].status == "answered")
        assert (await sqlite.get_comment(inc, 3)).status == "answered"


@pytest.mark.parametrize(("key", "status"), [("i", "ignored"), ("b", "removal_requested"), ("A", "answered")])
async def test_mark_keys_set_the_status(sqlite: SqliteStore, inc: str, book: Playbook, key: str, status: str) -> None:
    app = make_app(sqlite, inc, book)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        await pilot.press(key)
        await wait_for(pilot, lambda: app.room.state.rows[3].status == status)
        assert (await sqlite.get_comment(inc, 3)).status == status


async def test_tag_a_comment(sqlite: SqliteStore, inc: str, book: Playbook) -> None:
    app = make_app(sqlite, inc, book)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        await pilot.press("g", *"refund, VIP", "enter")
        await wait_for(pilot, lambda: app.room.state.rows[3].tags == ("refund", "vip"))


async def test_propose_and_approve_a_decision(sqlite: SqliteStore, inc: str, book: Playbook) -> None:
    app = make_app(sqlite, inc, book, me="Luis", role="gm")
    async with app.run_test(size=(100, 30)) as pilot:
        await loaded(pilot)
        await pilot.press("d", *"publish a holding statement", "enter", *"the bug is ours", "enter")
        await wait_for(pilot, lambda: len(app.room.state.decisions) == 1)
        await wait_for(pilot, lambda: "? proposed publish a holding" in screen_text(app))
        await pilot.press("v")
        await pilot.pause()
        await pilot.press("y")
        await wait_for(pilot, lambda: app.room.state.decisions[1].status == "approved")
        decision = (await sqlite.decisions(inc))[0]
        assert decision.decided_by == "Luis" and "Luis" in decision.present
        await wait_for(pilot, lambda: "✓ approved publish a holding" in screen_text(app))


async def test_voting_without_decision_power_is_refused_in_one_line(
    sqlite: SqliteStore, inc: str, book: Playbook
) -> None:
    await sqlite.propose_decision(inc, "take the post down", actor="Luis", rationale="tone-deaf")
    app = make_app(sqlite, inc, book, me="Ana", role="cm")
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await loaded(pilot)
        await pilot.press("v")
        await pilot.pause()
        await pilot.press("y")
        await wait_for(pilot, lambda: any("decision power" in n for n in notes(app)))
        assert (await sqlite.decisions(inc))[0].status == "proposed"


async def test_a_decision_that_is_not_ours_is_proposed_and_waits_for_the_client(
    sqlite: SqliteStore, inc: str, book: Playbook
) -> None:
    app = make_app(sqlite, inc, book, me="Luis", role="gm")
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await loaded(pilot)
        await pilot.press("d", *"take the campaign post down", "enter", *"their campaign", "tab", "space",
                          "shift+tab", "enter")
        await wait_for(pilot, lambda: len(app.room.state.decisions) == 1)
        assert (await sqlite.decisions(inc))[0].owner_decides
        await wait_for(pilot, lambda: "⚑owner take the campaign" in screen_text(app))
        await pilot.press("v")
        await pilot.pause()
        await pilot.press("y")
        await wait_for(pilot, lambda: any("not ours to take: only the owner (client)" in n for n in notes(app)))
        assert (await sqlite.decisions(inc))[0].status == "proposed"
    await sqlite.heartbeat(inc, actor="Carla", role="client")
    assert (await sqlite.vote_decision(inc, 1, True, actor="Carla")).status == "approved"


async def test_a_quick_typist_fills_the_decision_form_as_typed(sqlite: SqliteStore, inc: str, book: Playbook) -> None:
    """Keys arrive back to back (a paste, tmux, a fast typist over SSH), not one per frame as Pilot sends them."""
    app = make_app(sqlite, inc, book, me="Luis", role="gm")
    async with app.run_test(size=(100, 30)) as pilot:
        await loaded(pilot)
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, ProposeDecision))
        for char in "Pause the ads\rtheir campaign\r":
            key = "enter" if char == "\r" else ("space" if char == " " else char)
            app.post_message(events.Key(key, char))
        await wait_for(pilot, lambda: len(app.room.state.decisions) == 1)
        (decision,) = await sqlite.decisions(inc)
        assert (decision.title, decision.rationale) == ("Pause the ads", "their campaign")


async def test_a_note_goes_on_the_timeline(sqlite: SqliteStore, inc: str, book: Playbook) -> None:
    app = make_app(sqlite, inc, book)
    async with app.run_test(size=(120, 30)) as pilot:
        await loaded(pilot)
        await pilot.press("n", *"called the payments team", "enter")
        await wait_for(pilot, lambda: "Ana noted: called the payments team" in screen_text(app))
        events = await sqlite.latest_events(inc, 5)
        assert any(e.kind == "note.added" and e.payload["text"] == "called the payments team" for e in events)


async def test_filter_and_order_toggle(sqlite: SqliteStore, inc: str, book: Playbook) -> None:
    app = make_app(sqlite, inc, book)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        await pilot.press("slash", *"GIORGIA", "enter")
        await wait_for(pilot, lambda: len(app.room.state) == 1)
        text = screen_text(app)
        assert "filtered 1/3" in text and "giorgia.rossi" in text and "@dan_reviews" not in text
        await pilot.press("slash", "ctrl+r")
        await wait_for(pilot, lambda: len(app.room.state) == 3)
        await pilot.press("t")
        assert "Comments (time)" in screen_text(app)
        assert [r.id for r in app.room.state.visible] == [3, 2, 1]
        await pilot.press("p")
        assert [r.id for r in app.room.state.visible] == [3, 1, 2]


async def test_insert_a_fact_from_the_snippet_library(sqlite: SqliteStore, inc: str, book: Playbook) -> None:
    app = make_app(sqlite, inc, book)
    async with app.run_test(size=(100, 30)) as pilot:
        await loaded(pilot)
        await pilot.press("r")
        await wait_for(pilot, lambda: app.focused is editor(app).text_area)
        await pilot.press("ctrl+t")
        await pilot.pause()
        await pilot.press("enter")
        await wait_for(pilot, lambda: editor(app).text != "")
        assert editor(app).text in {s.text for s in book.snippets}
        assert f"{len(editor(app).text)}/280" in screen_text(app)


async def test_detail_shows_the_whole_comment_and_its_facts(sqlite: SqliteStore, inc: str, book: Playbook) -> None:
    app = make_app(sqlite, inc, book)
    async with app.run_test(size=(100, 30)) as pilot:
        await loaded(pilot)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, CommentDetail))
        text = screen_text(app)
        assert "Support chat closes on me." in text and "48k followers" in text
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is app.room)


async def test_every_room_action_is_in_the_command_palette(sqlite: SqliteStore, inc: str, book: Playbook) -> None:
    app = make_app(sqlite, inc, book)
    async with app.run_test(size=(100, 30)) as pilot:
        await loaded(pilot)
        titles = [c.title for c in app.get_system_commands(app.room)]
        offered = app.room.command_bindings()
        for binding in offered:
            assert any(t.startswith(binding.description) for t in titles), binding.description
            assert binding.id
        # Ana is cm: the committee's controls are offered only to a seat with decision power
        assert {b.id for b in app.room.BINDINGS} - {b.id for b in offered} == DECISION_POWER_KEYS  # type: ignore[union-attr]
        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: CommandPalette.is_open(app))  # type: ignore[arg-type]  # typed App[object]: invariant
        await pilot.press(*"Claim (c)")
        found = app.screen.query_one(CommandList)
        await wait_for(pilot, lambda: found.option_count > 0 and found.highlighted == 0
                       and "Claim" in str(found.get_option_at_index(0).prompt))
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.room.state.rows[3].holder == "Ana")


async def test_keys_are_remappable_from_the_playbook(sqlite: SqliteStore, inc: str, book: Playbook) -> None:
    book.keys = {"room.claim": "x"}
    app = make_app(sqlite, inc, book)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        assert "x Claim" in screen_text(app)
        await pilot.press("x")
        await wait_for(pilot, lambda: app.room.state.rows[3].holder == "Ana")


async def test_high_contrast_theme_and_no_color(
    sqlite: SqliteStore, inc: str, book: Playbook, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    late = time.time() + 3 * 3600  # every comment is past the SLA
    app = make_app(sqlite, inc, book, theme="crisis-high-contrast", clock=lambda: late)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await loaded(pilot)
        assert app.no_color and app.theme == "crisis-high-contrast"
        app.room.tick()
        await pilot.pause()
        text = screen_text(app)
        assert "⚠" in text and "SLA BREACHED" in text
        assert any("SLA breached" in n for n in notes(app))
        await pilot.press("f2")
        assert app.theme != "crisis-high-contrast"


async def test_a_new_urgent_comment_raises_a_toast(sqlite: SqliteStore, inc: str, book: Playbook) -> None:
    app = make_app(sqlite, inc, book)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await loaded(pilot)
        urgent = comments([{"source": "tiktok", "id": "tt-9", "author": "@viral_star", "author_followers": 900000,
                            "text": "This brand stole my money"}], priorities=[0.99])
        await sqlite.ingest(inc, urgent)
        await wait_for(pilot, lambda: any("@viral_star" in n for n in notes(app)))
        await wait_for(pilot, lambda: app.room.state.visible[0].author == "@viral_star")


async def test_the_playbook_can_set_the_toast_threshold(sqlite: SqliteStore, inc: str, book: Playbook) -> None:
    import msgspec

    strict = msgspec.structs.replace(book, triage=msgspec.structs.replace(book.triage, toast_priority=95.0))
    app = make_app(sqlite, inc, strict)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await loaded(pilot)
        calm = comments([{"source": "x", "id": "x-90", "author": "@mild", "text": "refund please"}], priorities=[90.0])
        loud = comments([{"source": "x", "id": "x-99", "author": "@loud", "text": "refund NOW"}], priorities=[99.0])
        await sqlite.ingest(inc, calm)
        await wait_for(pilot, lambda: any(r.author == "@mild" for r in app.room.state.visible))
        await sqlite.ingest(inc, loud)
        await wait_for(pilot, lambda: any("@loud" in n for n in notes(app)))
        assert not any("@mild" in n for n in notes(app))


async def test_back_after_a_dropped_connection_the_draft_is_there(sqlite: SqliteStore, inc: str, book: Playbook) -> None:
    first = make_app(sqlite, inc, book)
    async with first.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        await pilot.press("r", *"Lo sentimos Marta")
        await wait_for(pilot, lambda: draft_of(first) is not None and not editor(first).dirty)
    second = make_app(sqlite, inc, book)
    async with second.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        await wait_for(pilot, lambda: editor(second).text == "Lo sentimos Marta")
        assert not editor(second).text_area.read_only


async def test_quit_saves_the_draft_and_leaves_the_room(sqlite: SqliteStore, inc: str, book: Playbook) -> None:
    app = make_app(sqlite, inc, book)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        await pilot.press("r")
        await wait_for(pilot, lambda: app.focused is editor(app).text_area)
        await pilot.press(*"typed just before quitting", "ctrl+q")
        await pilot.pause(0.3)
    drafts = await sqlite.drafts(inc, comment_id=3)
    assert drafts and drafts[0].body == "typed just before quitting"
    ana = next(p for p in await sqlite.presence(inc) if p.name == "Ana")
    assert ana.left_at is not None


async def test_tick_a_manual_rule_from_the_checklist(sqlite: SqliteStore, inc: str, book: Playbook) -> None:
    from crisis_tui.widgets.checklist import ToneChecklist

    app = make_app(sqlite, inc, book)
    async with app.run_test(size=(120, 30)) as pilot:
        await loaded(pilot)
        await pilot.press("r", *"Sorry Dan, we will call you today")
        await wait_for(pilot, lambda: draft_of(app) is not None and not editor(app).dirty)
        await pilot.press("tab")
        checklist = app.room.query_one(ToneChecklist)
        assert app.focused is checklist
        while checklist.verdicts[checklist.cursor].rule != "real_user":
            await pilot.press("right")
        await pilot.press("space")
        draft_id = draft_of(app)
        assert draft_id is not None
        await wait_for(pilot, lambda: app.room.state.drafts[draft_id].checklist.get("real_user") is True)
        assert (await sqlite.get_draft(inc, draft_id)).checklist["real_user"] is True


async def test_the_playbook_reloads_live_and_a_broken_edit_keeps_the_last_good(
    sqlite: SqliteStore, inc: str, book: Playbook, tmp_path: Path
) -> None:
    from crisis_tui import playbook as playbook_mod

    path = tmp_path / "playbook.toml"
    playbook_mod.write_copy(path)
    mine = playbook_mod.load(path)
    app = CrisisApp(sqlite, inc, mine, me="Ana", role="cm")
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await loaded(pilot)
        await pilot.press("r")
        await wait_for(pilot, lambda: editor(app).target is not None)
        await pilot.pause(0.5)  # the watcher is up
        path.write_text(path.read_text().replace("x = 280", "x = 300"))
        await wait_for(pilot, lambda: (target := editor(app).target) is not None and target.limit == 300, 10.0)
        assert any("playbook reloaded" in n for n in notes(app))
        path.write_text(path.read_text().replace("x = 300", "x = -1"))
        await wait_for(pilot, lambda: any("not reloaded" in n for n in notes(app)), 10.0)
        assert app.rules.playbook.platform_limit("x") == 300
        assert app.is_running


async def test_escape_cancels_every_form_and_changes_nothing(sqlite: SqliteStore, inc: str, book: Playbook) -> None:
    from crisis_tui.screens.forms import Form

    app = make_app(sqlite, inc, book, me="Luis", role="gm")
    async with app.run_test(size=(100, 30)) as pilot:
        await loaded(pilot)
        for key in ("d", "/", "g"):
            await pilot.press(key)
            await wait_for(pilot, lambda: isinstance(app.screen, Form))
            await pilot.press("escape")
            await wait_for(pilot, lambda: app.screen is app.room)
        assert await sqlite.decisions(inc) == []
        assert all(not c.tags for c in await sqlite.comments(inc))


class SlowClaims(SqliteStore):
    """A real store whose claims wait at a gate, like a claim over a slow link."""

    gate: asyncio.Event

    async def claim(self, incident_id: str, comment_id: int, *, actor: str) -> Comment:
        await self.gate.wait()
        return await super().claim(incident_id, comment_id, actor=actor)


@contextlib.asynccontextmanager
async def gated(cls: type[SlowClaims], path: Path, book: Playbook) -> AsyncIterator[tuple[SlowClaims, str]]:
    """An incident with three comments on a store of `cls`, its claim gate closed."""
    store = await cls.open(path, playbook=book)
    assert isinstance(store, cls)  # SqliteStore.open is typed to return a SqliteStore, not the subclass
    store.gate = asyncio.Event()
    try:
        incident = (await store.create_incident("Refund delays", actor="Luis")).id
        await store.ingest(incident, comments(priorities=[0.6, 0.3, 0.9]))
        yield store, incident
    finally:
        await store.close()


async def test_keys_typed_while_the_claim_travels_go_into_the_reply_not_to_the_bindings(
        tmp_path: Path, book: Playbook) -> None:
    async with gated(SlowClaims, tmp_path / "slow.db", book) as (store, incident):
        app = make_app(store, incident, book)
        async with app.run_test(size=(120, 30)) as pilot:
            await loaded(pilot)
            await pilot.press("r", *"Hola Dan, a")  # `a` alone would approve, `n` would open a note
            editor = app.room.query_one(ResponseEditor)
            assert editor.target is None and app.screen is app.room  # no note form opened
            store.gate.set()
            await wait_for(pilot, lambda: editor.target is not None and editor.text == "Hola Dan, a")
            await pilot.press(*"hora mismo")
            assert editor.text == "Hola Dan, ahora mismo"
            held = app.room.query_one(ResponseEditor).target  # mypy still holds `editor.target` to the None asserted above
            assert held is not None and held.comment_id is not None
            assert (await store.get_comment(incident, held.comment_id)).holder == "Ana"


class RefusedClaims(SlowClaims):
    """A real store whose claims are refused once they pass the gate, like a server gone away."""

    async def claim(self, incident_id: str, comment_id: int, *, actor: str) -> Comment:
        await self.gate.wait()
        raise StoreUnavailable("cannot reach the server; nothing was sent")


async def test_when_the_claim_is_refused_the_keys_go_back_to_the_stream(tmp_path: Path, book: Playbook) -> None:
    async with gated(RefusedClaims, tmp_path / "refused.db", book) as (store, incident):
        app = make_app(store, incident, book)
        async with app.run_test(size=(120, 30), notifications=True) as pilot:
            await loaded(pilot)
            await pilot.press("r", *"Hola")
            store.gate.set()
            await wait_for(pilot, lambda: any("cannot reach the server" in str(n.message) for n in app._notifications))
            assert app.room.query_one(ResponseEditor).target is None
            await pilot.press("n")  # a one-key binding works again: the note line opens
            await wait_for(pilot, lambda: isinstance(app.focused, NoteInput))
