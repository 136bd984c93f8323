"""End to end in a real terminal: tmux runs the room, keys claim a comment and type a reply,
and a second window, another operator's room on the same file, shows the claim."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from crisis_tui import playbook as playbook_mod
from crisis_tui.store.sqlite import SqliteStore
from tests.room_support import comments

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed (.ci/run installs it)"),
]
CLI = str(Path(sys.executable).with_name("crisis-tui"))


class Tmux:
    """A private tmux server (its own socket), so nothing else's sessions are touched."""

    def __init__(self, socket: str) -> None:
        self.socket = socket

    def __call__(self, *args: str) -> str:
        done = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True, timeout=20)
        if done.returncode != 0:
            raise AssertionError(f"tmux {' '.join(args)}: {done.stderr.strip()}")
        return done.stdout

    def start(self, where: list[str], target: str, command: str, size: str | None = None) -> None:
        """Open a session or window on a plain shell, wait until the pane has its size, then
        type the command: an app started with the pane itself may see the 80x24 it had for a
        moment before tmux resized it, and keep that size."""
        self(*where, "sh")
        deadline = time.monotonic() + 10
        while size and self("display", "-p", "-t", target, "#{pane_width}x#{pane_height}").strip() != size:
            assert time.monotonic() < deadline, f"the tmux pane never became {size}"
            time.sleep(0.05)
        self("send-keys", "-t", target, "-l", command)
        self("send-keys", "-t", target, "Enter")

    def screen(self, target: str) -> str:
        return self("capture-pane", "-p", "-t", target)

    def wait_for(self, target: str, text: str, timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen(target)
            if text in screen:
                return screen
            time.sleep(0.2)
        raise AssertionError(f"{text!r} never showed in {target}:\n{screen}")


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Tmux]:
    server = Tmux(f"crisis-e2e-{os.getpid()}-{tmp_path.name}")
    try:
        yield server
    finally:
        subprocess.run(["tmux", "-L", server.socket, "kill-server"], capture_output=True, timeout=20)


async def _incident(db: Path) -> str:
    store = await SqliteStore.open(db, playbook=playbook_mod.load(playbook_mod.shipped_path()))
    try:
        inc = (await store.create_incident("Refund delays", actor="Luis")).id
        await store.ingest(inc, comments(priorities=[0.9, 0.3, 0.6]))
        return inc
    finally:
        await store.close()


def test_claim_and_reply_in_tmux_and_the_other_operator_sees_the_claim(tmp_path: Path, tmux: Tmux) -> None:
    db = tmp_path / "room.db"
    inc = asyncio.run(_incident(db))
    env = f"env TERM=xterm-256color CRISIS_TUI_PLAYBOOK={playbook_mod.shipped_path()}"
    ana = "room:0"
    tmux.start(["new-session", "-d", "-s", "room", "-x", "100", "-y", "30"], ana,
               f"{env} {CLI} open {db} --as Ana --role cm; echo EXITED $?; sleep 60", size="100x30")
    tmux.wait_for(ana, "@marta_viaja")
    tmux("send-keys", "-t", ana, "r")
    tmux.wait_for(ana, "Reply to @marta_viaja")
    tmux("send-keys", "-t", ana, "-l", "Hola Marta, lo sentimos")
    screen = tmux.wait_for(ana, "Hola Marta, lo sentimos")
    assert "held by me" in screen, screen  # the preview under the stream says it in words
    tmux.wait_for(ana, "saved")

    luis = "room:1"
    tmux.start(["new-window", "-t", "room"], luis, f"{env} {CLI} open {db} --as Luis --role gm; echo EXITED $?; sleep 60",
               size="100x30")
    screen = tmux.wait_for(luis, "held by Ana")
    assert "@marta_viaja" in screen
    tmux.wait_for(luis, "● Ana     CM     replyi")  # cut to the right column's width
    tmux.wait_for(ana, "● Luis")

    tmux("send-keys", "-t", luis, "C-q")
    tmux("send-keys", "-t", ana, "Escape")
    tmux("send-keys", "-t", ana, "C-q")
    tmux.wait_for(luis, "EXITED 0")  # both rooms have closed, and cleanly
    tmux.wait_for(ana, "EXITED 0")

    async def check() -> None:
        store = await SqliteStore.open(db, playbook=playbook_mod.load(playbook_mod.shipped_path()))
        try:
            marta = await store.get_comment(inc, 1)
            assert marta.holder == "Ana"
            drafts = await store.drafts(inc, comment_id=1)
            assert [d.body for d in drafts] == ["Hola Marta, lo sentimos"]
            gone = {p.name: p.left_at for p in await store.presence(inc)}
            assert gone["Luis"] is not None and gone["Ana"] is not None
        finally:
            await store.close()

    asyncio.run(check())


def test_demo_plays_the_crisis_in_the_room_and_ends_cleanly(tmp_path: Path, tmux: Tmux) -> None:
    db = tmp_path / "demo.db"
    env = f"env TERM=xterm-256color CRISIS_TUI_PLAYBOOK={playbook_mod.shipped_path()}"
    tmux.start(["new-session", "-d", "-s", "demo", "-x", "160", "-y", "40"], "demo:0",
               f"{env} {CLI} demo --speed 40 --db {db} --as Newcomer; echo EXITED $?; sleep 60", size="160x40")
    tmux.wait_for("demo:0", "@marta_viaja")
    tmux.wait_for("demo:0", "✓ approved Publish a ho")  # cut to the right column's width
    tmux.wait_for("demo:0", "● Luis")
    tmux.wait_for("demo:0", "● Newcomer")
    tmux.wait_for("demo:0", "room is yours")
    tmux("send-keys", "-t", "demo:0", "C-q")
    screen = tmux.wait_for("demo:0", "EXITED 0")
    assert f"the demo incident is kept in {db}#" in screen


def test_a_decision_typed_at_full_speed_lands_title_and_rationale_in_their_fields(tmp_path: Path, tmux: Tmux) -> None:
    """Title, Tab, rationale, Enter in one burst of keys: each key goes to the field that had
    focus when it was typed, and the stored decision has both (the Tab used to reach the form
    after the title field had already taken the rationale)."""
    db = tmp_path / "room.db"
    inc = asyncio.run(_incident(db))
    env = f"env TERM=xterm-256color CRISIS_TUI_PLAYBOOK={playbook_mod.shipped_path()}"
    luis = "decide:0"
    tmux.start(["new-session", "-d", "-s", "decide", "-x", "100", "-y", "30"], luis,
               f"{env} {CLI} open {db} --as Luis --role gm; echo EXITED $?; sleep 60", size="100x30")
    tmux.wait_for(luis, "@marta_viaja")
    tmux("send-keys", "-t", luis, "d")
    tmux.wait_for(luis, "Propose a decision")
    title = "Publish a holding statement"
    rationale = "the refund bug is ours and it spreads"
    tmux("send-keys", "-t", luis, title, "Tab", rationale, "Enter")
    tmux.wait_for(luis, "Publish a ho")  # the Decisions line cuts the title at 100 columns
    tmux("send-keys", "-t", luis, "C-q")
    tmux.wait_for(luis, "EXITED 0")

    async def check() -> None:
        store = await SqliteStore.open(db, playbook=playbook_mod.load(playbook_mod.shipped_path()))
        try:
            assert [(d.title, d.rationale, d.proposer) for d in await store.decisions(inc)] == [
                (title, rationale, "Luis")]
        finally:
            await store.close()

    asyncio.run(check())
