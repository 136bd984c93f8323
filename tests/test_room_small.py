"""Stories of the room at 80x24: the text gets the width, the selection a bar, the words a preview."""

from __future__ import annotations

import pytest
from textual.widgets import Footer, Static
from textual.widgets._footer import FooterKey

from crisis_tui.playbook import Playbook
from crisis_tui.screens.timeline_line import TimelineLineView
from crisis_tui.store.sqlite import SqliteStore
from crisis_tui.widgets.room_footer import RoomFooter
from crisis_tui.widgets.stream import CommentStream
from crisis_tui.widgets.stream_preview import StreamPreview
from crisis_tui.widgets.timeline import TimelineLines
from tests.room_support import comments, inc, loaded, make_app, screen_text, sqlite, wait_for  # noqa: F401 - the fixtures


def cursor_strip_styles(app: object) -> tuple[int, int, list[object]]:
    stream = app.room.query_one(CommentStream)  # type: ignore[attr-defined]
    y = stream._cursor_index - stream.scroll_offset.y
    strip = stream.render_line(y)
    return strip.cell_length, stream.scrollable_content_region.width, [seg.style for seg in strip]


async def test_at_80_columns_the_text_gets_the_width(sqlite: SqliteStore, inc: str, book: Playbook) -> None:
    app = make_app(sqlite, inc, book)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        text = screen_text(app)
        assert "Since the app update my refund is p" in text  # 35 characters of the top row's text
        assert "48k" not in text.split("\n")[2]  # the reach column went first


async def test_the_preview_tells_the_highlighted_comment_in_words(sqlite: SqliteStore, inc: str,
                                                                  book: Playbook) -> None:
    app = make_app(sqlite, inc, book)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        preview = app.room.query_one(StreamPreview)
        await wait_for(pilot, lambda: "Support chat closes on me." in str(preview.render()))
        shown = str(preview.render())
        assert "@dan_reviews" in shown and " new " in f" {shown} "
        await pilot.press("c")
        await wait_for(pilot, lambda: "held by me" in str(preview.render()))
        await pilot.press("down")
        await wait_for(pilot, lambda: "@marta_viaja" in str(preview.render()))
        assert "nadie contesta." in str(preview.render())


@pytest.mark.parametrize("theme", ["textual-dark", "crisis-high-contrast", "crisis-light"])
async def test_the_selected_row_has_a_full_width_bar(sqlite: SqliteStore, inc: str, book: Playbook,
                                                     theme: str) -> None:
    app = make_app(sqlite, inc, book, theme=theme)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        assert app.theme == theme
        length, width, styles = cursor_strip_styles(app)
        assert length == width
        backgrounds = {s.bgcolor for s in styles}  # type: ignore[attr-defined]
        assert len(backgrounds) == 1
        stream = app.room.query_one(CommentStream)
        stream.action_cursor(1)
        await pilot.pause()
        y = stream._cursor_index - stream.scroll_offset.y
        other = {seg.style.bgcolor for seg in stream.render_line(y - 1) if seg.style}
        assert backgrounds != other  # the bar stands out from the row it left


async def test_the_bar_shows_without_colour(sqlite: SqliteStore, inc: str, book: Playbook,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app(sqlite, inc, book)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        assert app.no_color
        length, width, styles = cursor_strip_styles(app)
        assert length == width
        assert all(s.reverse for s in styles)  # type: ignore[attr-defined]
        stream = app.room.query_one(CommentStream)
        y = stream._cursor_index - stream.scroll_offset.y
        assert not any(seg.style.reverse for seg in stream.render_line(y + 1) if seg.style)


async def test_enter_on_a_timeline_line_opens_it_whole(sqlite: SqliteStore, inc: str, book: Playbook) -> None:
    note = "payments team confirms the refund bug; the fix ships tonight, and support gets a script at 18:00"
    await sqlite.add_note(inc, note, actor="Giulia")
    await sqlite.add_note(inc, "short one", actor="Luis")
    app = make_app(sqlite, inc, book)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        lines = app.room.query_one(TimelineLines)
        await wait_for(pilot, lambda: any(e.text.endswith("short one") for e in app.room.state.timeline))
        assert note not in screen_text(app)  # cut at the pane's width
        lines.focus()
        await pilot.pause()
        assert lines.at_tail
        for _ in range(5):  # up past the newest lines (the viewer's own join comes after the notes)
            await pilot.press("up")
            if note in app.room.state.timeline[lines.cursor_index].text:
                break
        assert not lines.at_tail
        assert note in app.room.state.timeline[lines.cursor_index].text
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TimelineLineView))
        await pilot.pause()
        text = screen_text(app)
        assert "the fix ships" in text and "script at 18:00" in text  # wrapped over two lines
        assert note in str(app.screen.query_one("#timeline-line-text", Static).render())
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is app.room)
        await pilot.press("end")
        assert lines.at_tail


async def test_toasts_at_80_columns_stay_on_the_footer_line(sqlite: SqliteStore, inc: str, book: Playbook) -> None:
    app = make_app(sqlite, inc, book)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await loaded(pilot)
        for i in range(4):
            app.notify(f"refusal number {i}: someone else holds it", title="Refused", severity="warning", timeout=30)
        await pilot.pause(0.3)
        lines = screen_text(app).splitlines()
        assert "Refused: refusal number 3" in lines[23]  # the newest, on the footer's row
        assert not any("refusal number" in line for line in lines[:23])  # the panes stay uncovered
        assert all(n.timeout <= 4 for n in app._notifications)  # short-lived


@pytest.mark.parametrize("where", ["stream", "editor", "timeline"])
async def test_the_footer_never_overlaps_at_80_columns(sqlite: SqliteStore, inc: str, book: Playbook,
                                                       where: str) -> None:
    app = make_app(sqlite, inc, book, me="Luis", role="gm")
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        if where == "editor":
            await pilot.press("r")
            await wait_for(pilot, lambda: app.room.editor.target is not None)
        elif where == "timeline":
            app.room.query_one(TimelineLines).focus()
        await pilot.pause(0.3)
        footer = app.room.query_one(Footer)
        assert isinstance(footer, RoomFooter)
        keys = list(footer.query(FooterKey))
        assert sum(k.outer_size.width for k in keys) <= 80
        for k in keys:  # each key gets the cells its key and words need: none is cut or drawn over
            assert k.region.width >= len(k.key_display) + 1 + len(k.description), (k.key_display, k.description)
        bottom = screen_text(app).splitlines()[23]
        assert "? Help" in bottom and "^p palette" in bottom


async def test_a_narrow_footer_drops_keys_and_keeps_help(sqlite: SqliteStore, inc: str, book: Playbook) -> None:
    app = make_app(sqlite, inc, book)
    async with app.run_test(size=(60, 24)) as pilot:
        await loaded(pilot)
        await pilot.pause(0.3)
        keys = list(app.room.query_one(RoomFooter).query(FooterKey))
        for k in keys:
            assert k.region.width >= len(k.key_display) + 1 + len(k.description), (k.key_display, k.description)
        assert "Filter" not in [k.description for k in keys]  # dropped from the end, in order
        bottom = screen_text(app).splitlines()[23]
        assert bottom.startswith("c Claim") and "? Help" in bottom and "^p palette" in bottom


async def test_at_80x24_the_failing_rule_says_why_and_the_checklist_says_how_to_tick(
        sqlite: SqliteStore, inc: str, book: Playbook) -> None:
    app = make_app(sqlite, inc, book)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        await pilot.press("r", *"ok")
        await wait_for(pilot, lambda: "✗ focus: misses" in screen_text(app))
        assert "(tab, space ticks)" in screen_text(app)
        await pilot.press("tab")
        await wait_for(pilot, lambda: "(←/→ choose, space" in screen_text(app))
        lines = screen_text(app).splitlines()
        assert len(lines) == 24 and all(len(line) <= 80 for line in lines)
