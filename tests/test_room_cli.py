"""`crisis-tui open` and `crisis-tui demo` refuse what a user can fix in one line, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from crisis_tui import playbook as playbook_mod
from crisis_tui.commands.token_option import PS_WARNING
from tests.test_server_support import ServeFactory, serve  # noqa: F401 - the fixture


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CRISIS_TUI_PLAYBOOK": str(playbook_mod.shipped_path())}
    return subprocess.run([sys.executable, "-m", "crisis_tui", *args], capture_output=True, text=True,
                          timeout=120, env=env, stdin=subprocess.DEVNULL)


def test_open_a_missing_file_says_so_in_one_line(tmp_path: Path) -> None:
    done = cli("open", str(tmp_path / "nope.db"), "--as", "Ana")
    assert done.returncode == 2
    assert done.stderr.strip() == f"crisis-tui: no incident file at {(tmp_path / 'nope.db').resolve()}"


def test_open_with_a_role_the_playbook_lacks_names_the_roles(tmp_path: Path) -> None:
    db = tmp_path / "room.db"
    assert cli("new", str(db), "--title", "Refund delays").returncode == 0
    done = cli("open", str(db), "--as", "Ana", "--role", "boss")
    assert done.returncode == 2
    assert done.stderr.strip() == ("crisis-tui: --role: 'boss' is not a role of the playbook "
                                   "(gm, marketing, cm, care, client, legal)")
    assert "Traceback" not in done.stderr


def test_open_a_file_without_incidents_says_how_to_make_one(tmp_path: Path) -> None:
    db = tmp_path / "empty.db"
    import asyncio

    from crisis_tui.store.sqlite import SqliteStore

    async def make() -> None:
        await (await SqliteStore.open(db)).close()

    asyncio.run(make())
    done = cli("open", str(db), "--as", "Ana")
    assert done.returncode == 2 and "holds no incident yet" in done.stderr and "crisis-tui new" in done.stderr


def test_demo_rejects_a_negative_speed_and_keeps_headless(tmp_path: Path) -> None:
    done = cli("demo", "--speed", "-1")
    assert done.returncode == 2 and "must be 0 or more" in done.stderr
    played = cli("demo", "--headless", "--speed", "0", "--db", str(tmp_path / "d.db"))
    assert played.returncode == 0, played.stderr
    assert "the demo incident is kept in" in played.stdout


async def test_on_a_server_you_are_your_tokens_owner(serve: ServeFactory) -> None:
    import asyncio

    served = await serve()
    lead = await served.store("Luis", "lead")
    incident = (await lead.create_incident("Refund delays", actor="Luis")).id
    ana = await served.token("Ana", "operator")
    done = await asyncio.to_thread(cli, "open", f"{served.url}/incidents/{incident}", "--as", "Luis", "--token", ana)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        PS_WARNING,  # --token is still taken, with a word about ps
        "crisis-tui: --as: this token is Ana's; open with --as Ana or ask a lead for your own token "
        "(crisis-tui token create)"]


def test_demo_refuses_to_seat_you_as_one_of_the_scripted_committee(tmp_path: Path) -> None:
    """Their scripted claims and drafts would show as yours ("●me")."""
    done = cli("demo", "--as", "ana", "--db", str(tmp_path / "d.db"))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip() == ("crisis-tui: --as: ana plays a part in the scripted crisis "
                                   "(Luis, Ana, Giulia, Sam); pick another name")
    assert not (tmp_path / "d.db").exists()


def test_an_unknown_theme_is_one_line_that_names_the_themes(tmp_path: Path) -> None:
    db = tmp_path / "room.db"
    assert cli("new", str(db), "--title", "Refund delays").returncode == 0
    for args in (["open", str(db), "--as", "Ana", "--theme", "nosuch"],
                 ["demo", "--db", str(tmp_path / "d.db"), "--as", "Newcomer", "--theme", "nosuch"]):
        done = cli(*args)
        assert done.returncode == 2, done.stderr
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("crisis-tui: --theme: no theme 'nosuch'; the themes are ")
        assert "crisis-high-contrast" in lines[0] and "textual-dark" in lines[0]
