"""Seats as OpenSSH authorized_keys lines: a key that logs in lands in the room, nowhere else.

    restrict,pty,command="crisis-tui --playbook P open FILE#ID --as NAME --role ROLE --seat-roles ROLE" KEY

`restrict` turns off forwarding, agent, X11 and ~/.ssh/rc; `pty` gives back the
terminal the room needs. sshd runs the command through the account's shell
whatever the client asks for, so every argument is shell-quoted (single
quotes: nothing inside them is special to a POSIX shell), and the whole command
is then written between double quotes, where sshd's only escape is `\\"`.
Arguments with control characters are refused before they get here (they
could end the line). A seat with several roles gets no --role: the room asks
which, among its --seat-roles only. The playbook is pinned by path so an
environment variable sent by the client cannot swap the committee's rules.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence

from crisis_tui.errors import InvalidInput
from crisis_tui.seats_file import PublicKey, Seat

OPTIONS = "restrict,pty"


def forced_command(program: Sequence[str], playbook: str, incident: str, seat: Seat) -> list[str]:
    """The argv sshd will run for this seat."""
    argv = [*program, "--playbook", playbook, "open", incident, "--as", seat.name]
    if len(seat.roles) == 1:
        argv += ["--role", seat.roles[0]]
    return [*argv, "--seat-roles", ",".join(seat.roles)]


def _quoted(argv: Sequence[str]) -> str:
    for arg in argv:
        if any(not ch.isprintable() for ch in arg):
            raise InvalidInput("seats", f"{arg[:40]!r} has control characters; it cannot go in a command line")
    return " ".join(shlex.quote(a) for a in argv)


def line(argv: Sequence[str], key: PublicKey) -> str:
    command = _quoted(argv).replace('"', '\\"')
    return f'{OPTIONS},command="{command}" {key.line}'
