"""A room on an incident larger than its first page, over every transport: the older comments
arrive as compact columns, and the rows they put on screen fetch their details from the store."""

from __future__ import annotations

import pytest

from crisis_tui import sync
from crisis_tui.comment_shape import parse_comment
from crisis_tui.model import NewComment
from crisis_tui.playbook import Playbook
from crisis_tui.room_state import Filter
from crisis_tui.store.protocol import IncidentStore
from tests.room_support import loaded, make_app, screen_text, wait_for


def old_and_urgent(n: int) -> NewComment:
    """The oldest comments are the worst: after the load they lead the stream, from older pages."""
    c = parse_comment({"source": "x", "id": f"c{n}", "author": f"@person{n}", "text": f"refund number {n}"})
    c.priority = 1.0 - n / 100
    return c


async def test_older_pages_load_as_columns_and_their_rows_read_their_details(
        store: IncidentStore, incident: str, book: Playbook, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sync, "FIRST_PAGE", 10)
    monkeypatch.setattr(sync, "PAGE", 15)
    await store.ingest(incident, [old_and_urgent(n) for n in range(1, 61)])
    app = make_app(store, incident, book)
    async with app.run_test(size=(120, 30)) as pilot:
        await loaded(pilot)
        state = app.room.state
        assert state.total == 60 and state.id_at(0) == 1  # the oldest, from the last page loaded
        await pilot.press("home")  # the cursor kept its comment while the pages came: back to the top
        await wait_for(pilot, lambda: state.rows[1].complete and "@person1 " in screen_text(app))
        assert "refund number 1" in screen_text(app)
        state.set_filter(Filter(text="NUMBER 4"))  # 4 and 40..49, from pages of columns alone
        assert [state.id_at(i) for i in range(len(state))] == [4, *range(40, 50)]
        await pilot.press("c")
        await wait_for(pilot, lambda: state.rows[1].holder == "Ana")
        assert (await store.get_comment(incident, 1)).holder == "Ana"
