"""`crisis-tui seats`: a seats file as authorized_keys lines for a shared host."""

from __future__ import annotations

import shlex
from pathlib import Path

import click

from crisis_tui import authorized_keys, locator, seats_file
from crisis_tui.commands.context import run, settings
from crisis_tui.errors import InvalidInput
from crisis_tui.safe_text import one_line


async def _pinned_incident(incident: str, db: Path | None) -> str:
    """INCIDENT as the forced command will name it: an absolute file path and the incident's id."""
    raw = f"{db}#{incident}" if db is not None else incident
    target = locator.parse(raw)
    if target.is_remote:
        raise InvalidInput("INCIDENT", "seats are for a shared incident file; on a server give each person "
                                       "a token instead (crisis-tui token create --seat-roles ...)")
    assert target.path is not None
    path = target.path.resolve()
    named = str(path) + (f"#{target.incident_id}" if target.incident_id else "")
    store, incident_id = await locator.open_incident(named, playbook=settings().playbook, read_only=True)
    await store.close()
    return f"{path}#{incident_id}"


@click.command()
@click.argument("seats", metavar="SEATS.toml", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("incident", metavar="INCIDENT")
@click.option("--db", "db", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The incident file; INCIDENT is then an incident id in it.")
@click.option("--program", default="crisis-tui", show_default=True,
              help="How sshd starts crisis-tui: give the absolute path of a venv's crisis-tui, "
                   "since sshd's PATH is short.")
def seats(seats: Path, incident: str, db: Path | None, program: str) -> None:
    """Print authorized_keys lines that seat each person of SEATS.toml in INCIDENT's room.

    Each line forces `crisis-tui open INCIDENT --as NAME --role ROLE` with
    restrict,pty: whoever logs in with that key lands in the room under their
    own name, in their own roles, with no shell. A seat with several roles picks
    among them when the room opens. See the README, "Seats".
    """
    cfg = settings()
    found = seats_file.load(seats, cfg.playbook)
    playbook_path = str(Path(cfg.playbook.source).resolve())
    pinned = run(lambda: _pinned_incident(incident, db))
    prog = shlex.split(program) if program.strip() else ["crisis-tui"]
    header = (f"# crisis-tui seats from {one_line(seats.name, 80)} for {one_line(pinned, 200)} "
              "(generated: edit the seats file and run crisis-tui seats again)")
    lines = [header]
    for seat, key in found:
        lines.append(authorized_keys.line(authorized_keys.forced_command(prog, playbook_path, pinned, seat), key))
    click.echo("\n".join(lines))


def register(group: click.Group) -> None:
    group.add_command(seats)
