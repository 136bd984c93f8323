"""End to end in a real terminal: a hostile draft and a hostile snippet opened in the room's editor.

A raw store call (what any client can do) saves a draft holding an OSC 52
clipboard write and a clear-screen sequence, and the playbook file carries a
snippet with both. tmux runs the room with `set-clipboard on`, so an OSC 52 that
reached the terminal would land in a tmux paste buffer (a canary proves it
does); after the draft and the snippet are in the editor, the screen still shows
the room and the paste buffers are empty.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from pathlib import Path

import pytest

from crisis_tui import playbook as playbook_mod
from crisis_tui.model import NewComment
from crisis_tui.safe_text import display_text
from crisis_tui.store.sqlite import SqliteStore
from tests.hostile_playbook import CLEAR, OSC52, OSC52_ST, SNIPPET_TEXT, write_hostile_playbook
from tests.test_e2e_tmux import CLI, Tmux, tmux  # noqa: F401 - the fixture

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed (.ci/run installs it)"),
]
DRAFT = f"Hola Marta,{OSC52} lo{OSC52_ST} sentimos{CLEAR} mucho"


async def _hostile_room(db: Path, book_path: Path) -> tuple[str, Path]:
    """An incident with Marta's comment held by Ana and a raw hostile draft; the playbook file to open it with."""
    store = await SqliteStore.open(db, playbook=playbook_mod.load(playbook_mod.shipped_path()))
    try:
        inc = (await store.create_incident("Refund delays", actor="Luis")).id
        await store.ingest(inc, [NewComment(source="x", external_id="m", author="@marta_viaja",
                                            text="¿Dónde está mi reembolso? Llevo tres semanas esperando.",
                                            priority=0.9)])
        await store.claim(inc, 1, actor="Ana")
        await store.save_draft(inc, DRAFT, actor="Ana", comment_id=1, kind="reply")
        lang = (await store.get_comment(inc, 1)).lang
    finally:
        await store.close()
    return inc, write_hostile_playbook(book_path, snippet_lang=lang)


def _buffers(tmux: Tmux) -> str:
    return tmux("list-buffers").strip()


def test_a_hostile_draft_and_snippet_in_the_editor_neither_write_the_clipboard_nor_blank_the_room(
    tmp_path: Path, tmux: Tmux  # noqa: F811 - the fixture
) -> None:
    db = tmp_path / "room.db"
    inc, book = asyncio.run(_hostile_room(db, tmp_path / "hostile.toml"))

    tmux("new-session", "-d", "-s", "room", "-x", "100", "-y", "30", "sh")
    tmux("set-option", "-s", "set-clipboard", "on")
    tmux("send-keys", "-t", "room:0", "-l", "printf '\\033]52;c;%s\\007' \"$(printf canary | base64)\"")
    tmux("send-keys", "-t", "room:0", "Enter")
    deadline = time.monotonic() + 10
    while "canary" not in _buffers(tmux):
        assert time.monotonic() < deadline, "tmux never took the canary's OSC 52: this test could not see a leak"
        time.sleep(0.1)
    tmux("delete-buffer")
    assert _buffers(tmux) == ""

    ana = "room:1"
    tmux.start(["new-window", "-t", "room"], ana,
               f"env TERM=xterm-256color CRISIS_TUI_PLAYBOOK={book} {CLI} open {db} --as Ana --role cm; "
               "echo EXITED $?; sleep 60", size="100x30")
    tmux.wait_for(ana, "@marta_viaja")
    tmux("send-keys", "-t", ana, "r")
    screen = tmux.wait_for(ana, "Hola Marta, lo sentimos mucho")
    assert "Reply to @marta_viaja" in screen

    tmux("send-keys", "-t", ana, "C-t")
    tmux.wait_for(ana, "A refund page")
    tmux("send-keys", "-t", ana, "Enter")
    tmux.wait_for(ana, "https://example.com/r")  # the snippet is in (the editor may wrap it after "Refunds:")
    tmux.wait_for(ana, "saved")  # the edit was autosaved: the room repainted many times meanwhile
    time.sleep(1.0)
    screen = tmux.screen(ana)
    for part in ("Refund delays", "@marta_viaja", "Committee", "Timeline", "Reply to @marta_viaja",
                 "Hola Marta, lo sentimos mucho"):
        assert part in screen, f"{part!r} is gone from the room:\n{screen}"
    assert _buffers(tmux) == "", "an OSC 52 from the room reached the terminal"

    tmux("send-keys", "-t", ana, "Escape")
    tmux("send-keys", "-t", ana, "C-q")
    tmux.wait_for(ana, "EXITED 0")
    assert _buffers(tmux) == ""

    async def saved() -> str:
        store = await SqliteStore.open(db, playbook=playbook_mod.load(playbook_mod.shipped_path()))
        try:
            (draft,) = await store.drafts(inc, comment_id=1)
            return draft.body
        finally:
            await store.close()

    body = asyncio.run(saved())
    assert body.startswith(display_text(DRAFT, None)) and display_text(SNIPPET_TEXT, None) in body
    assert "\x1b" not in body
