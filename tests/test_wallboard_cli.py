"""`crisis-tui wallboard` in a real terminal (tmux): it shows the room, follows it, and q quits."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "crisis_tui", *args], capture_output=True, text=True,
                          timeout=120, cwd=cwd, env={**os.environ})


@pytest.fixture
def tmux() -> Iterator[str]:
    assert shutil.which("tmux"), "tmux is needed (bash .ci/run installs it)"
    name = f"wallboard-{uuid.uuid4().hex[:8]}"
    try:
        yield name
    finally:
        subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True)


def screen(name: str) -> str:
    return subprocess.run(["tmux", "capture-pane", "-p", "-t", name], capture_output=True, text=True).stdout


def wait_for(name: str, text: str, timeout: float = 30.0) -> str:
    deadline = time.monotonic() + timeout
    while True:
        shown = screen(name)
        if text in shown:
            return shown
        assert time.monotonic() < deadline, f"{text!r} never showed:\n{shown}"
        time.sleep(0.2)


def test_wallboard_in_a_real_terminal(tmp_path: Path, tmux: str) -> None:
    db = tmp_path / "demo.db"
    assert cli("demo", "--headless", "--speed", "0", "--db", str(db), cwd=tmp_path).returncode == 0
    before = db.stat().st_mtime_ns
    command = f"{sys.executable} -m crisis_tui wallboard {db}; echo WALLBOARD-EXIT=$?; sleep 30"
    subprocess.run(["tmux", "new-session", "-d", "-s", tmux, "-x", "80", "-y", "24", command], check=True,
                   env={**os.environ, "TERM": "xterm-256color"})
    shown = wait_for(tmux, "UNANSWERED")
    assert "SEV2" in shown and "read-only" in shown
    wait_for(tmux, "Giulia marked @user84721")

    subprocess.run(["tmux", "resize-window", "-t", tmux, "-x", "200", "-y", "60"], check=True)
    wait_for(tmux, "Refund delays after the app update")

    subprocess.run(["tmux", "send-keys", "-t", tmux, "q"], check=True)
    assert "WALLBOARD-EXIT=0" in wait_for(tmux, "WALLBOARD-EXIT=")
    assert db.stat().st_mtime_ns == before  # the wallboard wrote nothing


def test_wallboard_mistakes_are_one_line(tmp_path: Path) -> None:
    missing = cli("wallboard", str(tmp_path / "nothing.db"), cwd=tmp_path)
    assert missing.returncode == 2 and "no incident file" in missing.stderr and "Traceback" not in missing.stderr
