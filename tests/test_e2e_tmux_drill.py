"""End to end in a real terminal: a lead starts a drill in tmux, a colleague joins it with
`crisis-tui open` as any incident, both rooms say DRILL and the inject reaches the colleague;
quitting the room that plays it leaves the drill for `drill end`, which prints the report."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from crisis_tui import playbook as playbook_mod
from tests.test_e2e_tmux import CLI, Tmux, tmux  # noqa: F401 - the fixture

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed (.ci/run installs it)"),
]


def test_a_drill_is_joined_like_any_incident_and_ended_by_hand(tmp_path: Path, tmux: Tmux) -> None:  # noqa: F811
    db = tmp_path / "drill.db"
    env = f"env TERM=xterm-256color CRISIS_TUI_PLAYBOOK={playbook_mod.shipped_path()}"
    luis, ana = "drill:0", "drill:1"
    tmux.start(["new-session", "-d", "-s", "drill", "-x", "120", "-y", "36"], luis,
               f"{env} {CLI} drill refund-viral {db} --speed 20 --as Luis; echo EXITED $?; sleep 60", size="120x36")
    first = tmux.wait_for(luis, "DRILL Refunds stuck")
    assert first.splitlines()[0].lstrip().startswith("DRILL Refunds stuck")
    tmux.start(["new-window", "-t", "drill"], ana, f"{env} {CLI} open {db} --as Ana --role cm; echo EXITED $?; sleep 60")
    tmux.wait_for(ana, "DRILL Refunds stuck")
    tmux.wait_for(ana, "DRILL inject · minute 8", timeout=40)  # 8 scenario minutes at x20: 24 s
    tmux("send-keys", "-t", ana, "C-q")
    tmux.wait_for(ana, "EXITED 0")
    tmux("send-keys", "-t", luis, "C-q")
    done = tmux.wait_for(luis, "EXITED 0")
    assert f"the drill incident is kept in {db}#" in done and "end it: crisis-tui drill end" in done
    tmux.start(["new-window", "-t", "drill"], "drill:2", f"{env} {CLI} drill end {db} --as Luis; echo EXITED $?")
    ended = tmux.wait_for("drill:2", "EXITED 0")
    assert "DRILL refund-viral: Viral refund complaint (played at x20" in ended
    assert "first response (min): never (target 10)" in ended
