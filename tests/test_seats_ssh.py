"""`crisis-tui seats` on a shared host: a seats TOML becomes authorized_keys lines whose forced
command seats each key's holder in the room under their own name and roles, and nothing else.

The lines are read back the way sshd reads them (OpenSSH's own parsing rules, ported below, and
ssh-keygen itself), the command is run the way sshd runs it (`sh -c COMMAND`), and a name built to
break out of the command line comes out as one argument, untouched, with nothing executed.
"""

from __future__ import annotations

import asyncio
import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from crisis_tui import playbook as playbook_mod
from crisis_tui.store.sqlite import SqliteStore
from tests.test_e2e_tmux import CLI, Tmux, tmux  # noqa: F401 - the fixture

needs_keygen = pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="ssh-keygen is not installed")
PLAYBOOK = str(playbook_mod.shipped_path().resolve())

#: Names a seats file may hold that a careless forced command would run as shell code.
HOSTILE = [
    "O'Brien \"$(touch PWNED)\" ; touch PWNED",
    "`touch PWNED` \\\" back\\slash\\",
    "--role gm",
    "-rf",
    "José Núñez 'el jefe' && touch PWNED",
]


def sshd_split(line: str) -> tuple[list[str], str]:
    """authorized_keys line -> (options, key), as OpenSSH's sshkey_advance_past_options and
    opt_dequote read it: options end at the first blank outside double quotes, and inside
    quotes the only escape is \\" for a double quote."""
    options: list[str] = []
    current, quoted, i = "", False, 0
    while i < len(line) and (quoted or line[i] not in " \t"):
        ch = line[i]
        if ch == "\\" and line[i + 1:i + 2] == '"':
            current += '"' if quoted else '\\"'
            i += 2
            continue
        if ch == '"':
            quoted = not quoted
        elif ch == "," and not quoted:
            options.append(current)
            current = ""
        else:
            current += ch
        i += 1
    assert not quoted, "unterminated quote: sshd would refuse the line"
    options.append(current)
    return options, line[i:].strip()


def seats_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CRISIS_TUI_PLAYBOOK": PLAYBOOK}
    return subprocess.run([sys.executable, "-m", "crisis_tui", "seats", *args], capture_output=True, text=True,
                          timeout=60, env=env, cwd=cwd, stdin=subprocess.DEVNULL)


def keygen(folder: Path, name: str, kind: str = "ed25519") -> str:
    path = folder / name
    subprocess.run(["ssh-keygen", "-q", "-t", kind, "-N", "", "-C", f"{name}@laptop", "-f", str(path)],
                   check=True, capture_output=True, timeout=60)
    return (folder / f"{name}.pub").read_text().strip()


def toml_string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a TOML basic string


def write_seats(path: Path, seats: list[tuple[str, list[str], str]]) -> Path:
    path.write_text("".join(f"[[seats]]\nname = {toml_string(n)}\nroles = {json.dumps(r)}\nkey = {toml_string(k)}\n\n"
                            for n, r, k in seats), encoding="utf-8")
    return path


async def _incident(db: Path) -> str:
    store = await SqliteStore.open(db, playbook=playbook_mod.load(PLAYBOOK))
    try:
        return (await store.create_incident("Refund delays", actor="Luis")).id
    finally:
        await store.close()


@pytest.fixture
def room_db(tmp_path: Path) -> tuple[Path, str]:
    db = tmp_path / "room.db"
    return db, asyncio.run(_incident(db))


@needs_keygen
def test_each_seat_becomes_one_restricted_line_and_hostile_names_stay_one_argument(
        tmp_path: Path, room_db: tuple[Path, str]) -> None:
    db, inc = room_db
    probe = tmp_path / "probe.py"
    probe.write_text("import json, sys\nwith open(sys.argv[1], 'a') as f:\n"
                     "    f.write(json.dumps(sys.argv[2:]) + '\\n')\n")
    seen = tmp_path / "argv.jsonl"
    people = [("Ana Ruiz", ["cm"]), *((name, ["care", "legal"]) for name in HOSTILE)]
    keys = [keygen(tmp_path, f"k{i}", "ed25519" if i % 2 else "rsa") for i in range(len(people))]
    seats = write_seats(tmp_path / "seats.toml", [(n, r, k) for (n, r), k in zip(people, keys, strict=True)])
    done = seats_cli(str(seats), inc, "--db", str(db), "--program", f"{sys.executable} {probe} {seen}", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    header, *lines = done.stdout.splitlines()
    assert header.startswith("# crisis-tui seats from seats.toml")
    assert len(lines) == len(people)
    pinned = f"{db.resolve()}#{inc}"
    for (name, roles), key, line in zip(people, keys, lines, strict=True):
        options, key_part = sshd_split(line)
        assert options[:2] == ["restrict", "pty"] and len(options) == 3
        assert key_part == key
        assert options[2].startswith("command=")
        command = options[2].removeprefix("command=")
        run = subprocess.run(["sh", "-c", command], cwd=tmp_path, capture_output=True, text=True, timeout=60)
        assert run.returncode == 0, run.stderr
        expected = ["--playbook", PLAYBOOK, "open", pinned, "--as", name]
        expected += ["--role", "cm", "--seat-roles", "cm"] if roles == ["cm"] else ["--seat-roles", "care,legal"]
        assert json.loads(seen.read_text().splitlines()[-1]) == expected
    assert not (tmp_path / "PWNED").exists(), "a name ran as shell code"
    listed = tmp_path / "authorized_keys"
    listed.write_text(done.stdout)
    fingerprints = subprocess.run(["ssh-keygen", "-l", "-f", str(listed)], capture_output=True, text=True,
                                  timeout=60, check=True).stdout.split("\n")
    for i, printed in enumerate(fingerprints[:len(people)]):
        own = subprocess.run(["ssh-keygen", "-l", "-f", str(tmp_path / f"k{i}.pub")], capture_output=True,
                             text=True, timeout=60, check=True).stdout.split()[1]
        assert printed.split()[1] == own, "ssh-keygen reads the line as that seat's key"


@needs_keygen
def test_a_broken_seats_file_is_one_line_naming_the_file_and_the_key(tmp_path: Path, room_db: tuple[Path, str]) -> None:
    db, inc = room_db
    key = keygen(tmp_path, "ana")
    other = keygen(tmp_path, "bea")
    kind, blob, _ = key.split(" ", 2)
    rsa_blob = keygen(tmp_path, "rsa", "rsa").split()[1]
    cases: list[tuple[list[tuple[str, list[str], str]], str]] = [
        ([("Ana\nRuiz", ["cm"], key)], "seats[0].name: must be printable text on one line (no control characters)"),
        ([("Ana", ["cm"], f'command="sh" {key}')],
         ("seats[0].key: must start with the key type (ssh-ed25519, ssh-rsa, ecdsa-sha2-nistp256, "
         "ecdsa-sha2-nistp384, ecdsa-sha2-nistp521, sk-ssh-ed25519@openssh.com, "
         "sk-ecdsa-sha2-nistp256@openssh.com), not 'command=\"sh\"'; authorized_keys options are not allowed here")),
        ([("Ana", ["cm"], f"{kind} {blob[:-3]}!!! ana")], "seats[0].key: the part after the type is not base64"),
        ([("Ana", ["cm"], f"ssh-rsa {blob}")],
         "seats[0].key: the base64 part is not a ssh-rsa key (it names another type, or is cut)"),
        ([("Ana", ["cm"], f"{kind} {rsa_blob}")],
         "seats[0].key: the base64 part is not a ssh-ed25519 key (it names another type, or is cut)"),
        ([("Ana", ["cm"], f"{key}\nssh-ed25519 {blob} second line")],
         "seats[0].key: must be one line of printable text (no control characters)"),
        ([("Ana", ["cm"], key), ("Bea", ["boss"], other)],
         "seats[1].roles[0]: 'boss' is not a role of the playbook (gm, marketing, cm, care, client, legal)"),
        ([("Ana", ["cm"], key), ("Bea", ["care"], key)],
         "seats[1].key: the same key as seats[0]: sshd would seat both people as the first"),
        ([("Ana", ["cm"], key), ("Ana", ["care"], other)], "seats[1].name: 'Ana' already sits at seats[0]"),
        ([("Ana", [], key)], "seats[0].roles: name at least one role of the playbook"),
    ]
    for seats, problem in cases:
        path = write_seats(tmp_path / "seats.toml", seats)
        done = seats_cli(str(path), inc, "--db", str(db))
        assert done.returncode == 2, problem
        assert done.stderr.strip() == f"crisis-tui: {path}: {problem}"
        assert done.stdout == ""
    (tmp_path / "typo.toml").write_text('[[seats]]\nname = "Ana"\nrole = ["cm"]\nkey = "x"\n')
    typo = seats_cli(str(tmp_path / "typo.toml"), inc, "--db", str(db))
    assert typo.stderr.strip() == f"crisis-tui: {tmp_path / 'typo.toml'}: seats[0].role: unknown key (a typo?)"
    (tmp_path / "nokey.toml").write_text('[[seats]]\nname = "Ana"\nroles = ["cm"]\n')
    nokey = seats_cli(str(tmp_path / "nokey.toml"), inc, "--db", str(db))
    assert nokey.stderr.strip() == f"crisis-tui: {tmp_path / 'nokey.toml'}: seats[0].key: is required"
    good = write_seats(tmp_path / "seats.toml", [("Ana", ["cm"], key)])
    remote = seats_cli(str(good), "http://127.0.0.1:8765/incidents/x")
    assert remote.stderr.strip() == ("crisis-tui: INCIDENT: seats are for a shared incident file; on a server give "
                                     "each person a token instead (crisis-tui token create --seat-roles ...)")
    missing = seats_cli(str(good), "nope", "--db", str(db))
    assert missing.returncode == 2 and "nope" in missing.stderr and "Traceback" not in missing.stderr


@needs_keygen
@pytest.mark.slow
@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed (.ci/run installs it)")
def test_a_seat_logs_in_to_its_room_and_picks_only_among_its_roles(tmp_path: Path, tmux: Tmux,  # noqa: F811
                                                                    room_db: tuple[Path, str]) -> None:
    """The forced command, run as sshd runs it, in a real terminal: the seat's name, a picker with
    its two roles only, the room, and quitting the room ends the session (no shell behind it)."""
    db, inc = room_db
    seats = write_seats(tmp_path / "seats.toml", [("Bea O'Neil", ["care", "legal"], keygen(tmp_path, "bea"))])
    done = seats_cli(str(seats), inc, "--db", str(db), "--program", CLI)
    assert done.returncode == 0, done.stderr
    options, _ = sshd_split(done.stdout.splitlines()[1])
    command = options[2].removeprefix("command=")
    (tmp_path / "login.sh").write_text(f"exec sh -c {shlex.quote(command)}\n")
    bogus = tmp_path / "bogus.toml"
    bogus.write_text("not a playbook")
    env = f"env TERM=xterm-256color CRISIS_TUI_PLAYBOOK={bogus}"  # the pinned playbook wins over the environment
    tmux.start(["new-session", "-d", "-s", "seat", "-x", "100", "-y", "30"], "seat:0",
               f"{env} sh {tmp_path / 'login.sh'}; echo SESSION OVER $?; sleep 60", size="100x30")
    screen = tmux.wait_for("seat:0", "Take your seat")
    assert "Customer care lead" in screen and "Legal / PR" in screen
    assert "General manager" not in screen and "Client contact" not in screen
    tmux("send-keys", "-t", "seat:0", "Down", "Enter")
    tmux.wait_for("seat:0", "● Bea O'Neil")
    tmux("send-keys", "-t", "seat:0", "C-q")
    tmux.wait_for("seat:0", "SESSION OVER 0")

    async def seated() -> dict[str, str]:
        store = await SqliteStore.open(db, playbook=playbook_mod.load(PLAYBOOK))
        try:
            return {p.name: p.role for p in await store.presence(inc)}
        finally:
            await store.close()

    assert asyncio.run(seated()) == {"Bea O'Neil": "legal"}
