"""The token by file or environment, so `ps` never shows it; `--token` still works, warned about.

Real `crisis-tui` subprocesses against a real server on loopback.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from crisis_tui.commands.token_option import PS_WARNING
from crisis_tui.playbook import Playbook
from crisis_tui.store.sqlite import SqliteStore
from tests.test_server_support import ServeFactory, serve  # noqa: F401 - the fixture

pytestmark = pytest.mark.timeout(180)


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k != "CRISIS_TUI_TOKEN"}
    return subprocess.run([sys.executable, "-m", "crisis_tui", *args], capture_output=True, text=True,
                          timeout=120, env={**clean, **(env or {})})


async def test_every_way_of_giving_the_token_reaches_the_server(
        serve: ServeFactory, tmp_path: Path, book: Playbook) -> None:
    served = await serve()
    store = await SqliteStore.open(served.db, playbook=book)
    try:
        inc = (await store.create_incident("Refund delays", actor="Luis")).id
    finally:
        await store.close()
    url = f"{served.url}/incidents/{inc}"
    secret = await served.token("Ana", "operator")
    token_file = tmp_path / "ana.token"
    token_file.write_text(secret + "\n", encoding="utf-8")

    by_file = cli("verify", url, "--token-file", str(token_file))
    assert by_file.returncode == 0 and by_file.stderr == "", by_file.stderr
    by_env = cli("verify", url, env={"CRISIS_TUI_TOKEN": secret})
    assert by_env.returncode == 0 and by_env.stderr == ""
    exported = tmp_path / "out.json"
    assert cli("export", url, "-f", "json", "-o", str(exported), "-q", "--token-file", str(token_file)).returncode == 0
    assert exported.stat().st_size > 0
    listed = cli("outbound", url, "--token-file", str(token_file))
    assert listed.returncode == 0 and listed.stdout.strip() == "nothing has left the room yet", listed.stderr
    unsent = cli("send", url, "1", "--token-file", str(token_file))
    assert unsent.returncode == 2 and unsent.stderr.strip() == f"crisis-tui: no draft 1 in incident {inc}"
    made = cli("new", served.url, "--title", "Second front", "--token-file", str(token_file))
    assert made.returncode == 2 and "lead" in made.stderr  # reached the server, which judged Ana's role

    by_flag = cli("verify", url, "--token", secret)
    assert by_flag.returncode == 0
    assert by_flag.stderr.splitlines() == [PS_WARNING]

    none = cli("verify", url)
    assert none.returncode == 2
    assert none.stderr.strip() == (f"crisis-tui: {served.url} needs a token: give --token-file FILE or set "
                                   "CRISIS_TUI_TOKEN")


def test_a_token_file_that_cannot_be_used_is_one_line(tmp_path: Path) -> None:
    empty = tmp_path / "empty.token"
    empty.write_text("\n", encoding="utf-8")
    for path, why in ((tmp_path / "missing.token", "cannot read"), (empty, "is empty")):
        done = cli("verify", "http://127.0.0.1:9/incidents/x", "--token-file", str(path))
        assert done.returncode == 2 and why in done.stderr and "Traceback" not in done.stderr
    both = cli("verify", "http://127.0.0.1:9/incidents/x", "--token", "a", "--token-file", str(empty))
    assert both.returncode == 2 and "not both" in both.stderr


@pytest.mark.parametrize("command", ["new", "verify", "export", "wallboard", "ingest", "open", "update", "send",
                                     "outbound", "escalations", "escalation-answer", "sitrep", "notify"])
def test_every_command_that_takes_a_token_takes_a_token_file(command: str) -> None:
    shown = cli(command, "--help").stdout
    assert "--token-file FILE" in shown and "--token TEXT" in shown and "ps" in shown
