"""The room takes only a seat its credential allows: `open --role` outside the seats is one line
before the room starts, and with several seats the room asks among them only."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from textual.widgets import OptionList

from crisis_tui.playbook import Playbook
from crisis_tui.screens.pickers import RolePicker
from crisis_tui.store.sqlite import SqliteStore
from tests.room_support import comments, loaded, make_app, wait_for
from tests.test_room_cli import cli
from tests.test_server_support import ServeFactory, serve  # noqa: F401 - the fixture

pytestmark = pytest.mark.timeout(120)


async def test_open_with_a_role_outside_the_tokens_seats_is_refused_before_the_room(
        serve: ServeFactory, tmp_path: Path) -> None:
    served = await serve()
    lead = await served.store("Luis", "lead")
    incident = (await lead.create_incident("Refund delays", actor="Luis")).id
    url = f"{served.url}/incidents/{incident}"
    ana = tmp_path / "ana.token"
    ana.write_text(await served.token("Ana", "operator", ["cm", "care"]), encoding="utf-8")
    done = await asyncio.to_thread(cli, "open", url, "--role", "gm", "--token-file", str(ana))
    assert done.returncode == 2
    assert done.stderr.strip() == "crisis-tui: --role: gm is not one of your seats (cm, care); open with --role cm"
    narrowed = await asyncio.to_thread(cli, "open", url, "--seat-roles", "gm,client", "--token-file", str(ana))
    assert narrowed.stderr.strip() == "crisis-tui: --seat-roles: none of gm, client is a seat of Ana's token (cm, care)"
    wall = tmp_path / "wall.token"
    wall.write_text(await served.token("Wall", "viewer"), encoding="utf-8")
    viewer = await asyncio.to_thread(cli, "open", url, "--token-file", str(wall))
    assert viewer.stderr.strip() == ("crisis-tui: --role: Wall's token has no seat in the committee: it reads only "
                                     "(watch with crisis-tui wallboard)")
    assert await lead.presence(incident) == [], "nobody joined: the room never started"


def test_open_with_seat_roles_on_a_file_refuses_another_role(tmp_path: Path) -> None:
    db = tmp_path / "room.db"
    assert cli("new", str(db), "--title", "Refund delays").returncode == 0
    done = cli("open", str(db), "--as", "Ana", "--seat-roles", "cm", "--role", "gm")
    assert (done.returncode, done.stderr.strip()) == (2, ("crisis-tui: --role: gm is not one of your seats (cm); "
                                                         "open with --role cm"))
    unknown = cli("open", str(db), "--as", "Ana", "--seat-roles", "cm,boss")
    assert unknown.stderr.strip() == ("crisis-tui: --seat-roles: 'boss' is not a role of the playbook "
                                      "(gm, marketing, cm, care, client, legal)")


async def test_the_seat_picker_lists_only_the_tokens_seats_and_joins_as_the_one_picked(
        serve: ServeFactory, book: Playbook) -> None:
    served = await serve()
    lead = await served.store("Luis", "lead")
    incident = (await lead.create_incident("Refund delays", actor="Luis")).id
    await lead.ingest(incident, comments())
    ana = await served.store("Ana", "operator", ["cm", "care"])
    assert ana.seat_roles == ("cm", "care")
    app = make_app(ana, incident, book, role=None, seats=ana.seat_roles)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, RolePicker))
        options = app.screen.query_one(OptionList)
        assert [options.get_option_at_index(i).id for i in range(options.option_count)] == ["cm", "care"]
        assert options.highlighted == 0, "the first seat is the one Enter takes"
        await pilot.press("down", "enter")
        await loaded(pilot)
        assert app.role == "care"
        await wait_for(pilot, lambda: "Ana" in app.room.state.presence)
    seated = {p.name: p.role for p in await lead.presence(incident)}
    assert seated == {"Ana": "care"}


async def test_escape_at_the_seat_picker_leaves_without_joining(tmp_path: Path, book: Playbook) -> None:
    store = await SqliteStore.open(tmp_path / "room.db", playbook=book)
    try:
        incident = (await store.create_incident("Refund delays", actor="Luis")).id
        app = make_app(store, incident, book, role=None, seats=("cm", "legal"), confined=True)
        async with app.run_test(size=(120, 30)) as pilot:
            await wait_for(pilot, lambda: isinstance(app.screen, RolePicker))
            await pilot.press("escape")
            await wait_for(pilot, lambda: app.return_code is not None)
        assert await store.presence(incident) == []
    finally:
        await store.close()


async def test_a_confined_room_offers_nothing_that_leaves_it(tmp_path: Path, book: Playbook,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """A seat's room (sshd's forced command): the palette has the room's own commands, theme, keys
    and quit, no screenshot writing to the host's disk; a link never reaches a browser."""
    monkeypatch.chdir(tmp_path)
    store = await SqliteStore.open(tmp_path / "room.db", playbook=book)
    try:
        incident = (await store.create_incident("Refund delays", actor="Luis")).id
        app = make_app(store, incident, book, role="cm", seats=("cm",), confined=True)
        async with app.run_test(size=(120, 30)) as pilot:
            await loaded(pilot)
            titles = [c.title for c in app.get_system_commands(app.screen)]
            assert "Screenshot" not in titles and {"Theme", "Quit", "Keys"} <= set(titles)
            room_actions = {b.action for b in app.room.command_bindings()}
            assert room_actions <= {"claim", "release", "reply", "statement", "submit", "approve", "send", "decide",
                                    "vote", "note", "filter", "order('priority')", "order('time')", "tag", "snippet",
                                    "mark('answered')", "mark('escalated')", "mark('ignored')",
                                    "mark('removal_requested')", "mark('new')", "keep_mine", "load_theirs", "inbox",
                                    "copy_text", "answer_escalation", "sitrep", "outbound"}
            assert app.deliver_screenshot() is None
            app.open_url("https://example.invalid/")
            await pilot.pause()
            assert [n.message for n in app._notifications][-2:] == ["no screenshots in a seat's room",
                                                                    "links are not opened from the room"]
        assert list(tmp_path.glob("*.svg")) == []
    finally:
        await store.close()
