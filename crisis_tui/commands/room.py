"""Room commands: `open` (join an incident's room) and `demo` (the room, with a crisis playing).

`demo --headless` is the core's headless demo, unchanged: this command hands
it over; without --headless it opens the room on a fresh incident and plays the
scripted crisis in the background while you watch and act.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import click

from crisis_tui import demo_script, locator
from crisis_tui.commands import core
from crisis_tui.commands.context import run, settings
from crisis_tui.commands.token_option import token_options
from crisis_tui.errors import InvalidInput
from crisis_tui.playbook import Playbook
from crisis_tui.seats import parse_list
from crisis_tui.store.protocol import IncidentStore
from crisis_tui.store.sqlite import SqliteStore


def _check_role(playbook: Playbook, role: str, option: str = "--role") -> None:
    if playbook.role(role) is None:
        roles = ", ".join(r.id for r in playbook.roles)
        raise InvalidInput(option, f"{role!r} is not a role of the playbook ({roles})")


def _seats(playbook: Playbook, option: str | None, store: IncidentStore, who: str) -> tuple[str, ...] | None:
    """The roles this room may take: --seat-roles, narrowed by a server token's seats; None: any."""
    seats: tuple[str, ...] | None = None
    if option is not None:
        seats = tuple(parse_list(option))
        if not seats:
            raise InvalidInput("--seat-roles", "name at least one role of the playbook, e.g. cm,care")
        for role in seats:
            _check_role(playbook, role, "--seat-roles")
    token_seats: tuple[str, ...] | None = getattr(store, "seat_roles", None)
    if token_seats is None:
        return seats
    if not token_seats:
        raise InvalidInput("--role", f"{who}'s token has no seat in the committee: it reads only "
                                     "(watch with crisis-tui wallboard)")
    if seats is None:
        return token_seats
    both = tuple(r for r in seats if r in token_seats)
    if not both:
        raise InvalidInput("--seat-roles", f"none of {', '.join(seats)} is a seat of {who}'s token "
                                           f"({', '.join(token_seats)})")
    return both


def _seat_role(seats: tuple[str, ...] | None, given: str | None, default: str, *, ask: bool) -> str | None:
    """The role to join as; None: the room asks among the seats (always, for a seat with several
    roles on a shared host, whose forced command cannot take a --role from its holder)."""
    if seats is None:
        return given or default
    if given is not None:
        if given not in seats:
            raise InvalidInput("--role", f"{given} is not one of your seats ({', '.join(seats)}); "
                                         f"open with --role {seats[0]}")
        return given
    if len(seats) == 1:
        return seats[0]
    return default if default in seats and not ask else None


@click.command("open")
@click.argument("incident", metavar="INCIDENT")
@click.option("--as", "name", default=None, help="Your name in the room (default: playbook operator, then $USER).")
@click.option("--role", default=None,
              help="Your role id from the playbook (default: playbook operator role, then cm; "
                   "with several seats and no --role, the room asks which).")
@click.option("--seat-roles", "seat_roles", default=None, metavar="ROLE,ROLE",
              help="Only these roles may be taken, and the room gives no way out of itself (the forced "
                   "command of `crisis-tui seats` sets it). A server token's seats narrow it further.")
@token_options
@click.option("--theme", default=None, help="A Textual theme, e.g. crisis-high-contrast (or $CRISIS_TUI_THEME).")
def open_room(incident: str, name: str | None, role: str | None, seat_roles: str | None, token: str | None,
              theme: str | None) -> None:
    """Join the incident's room: the stream, the committee, the editor and the timeline."""
    cfg = settings()
    me = cfg.operator_name(name)

    async def go() -> None:
        from crisis_tui.app import CrisisApp  # noqa: PLC0415 - Textual only for the room
        from crisis_tui.themes import check_theme  # noqa: PLC0415

        if theme is not None:
            check_theme(theme)
        if role is not None:
            _check_role(cfg.playbook, role)
        store, incident_id = await locator.open_incident(incident, playbook=cfg.playbook, token=token)
        try:
            who = me
            identity = getattr(store, "identity", None)
            if identity is not None:  # a server acts as the token's owner, whatever name is typed
                if name and name != identity.name:
                    raise InvalidInput("--as", f"this token is {identity.name}'s; open with --as {identity.name} "
                                               "or ask a lead for your own token (crisis-tui token create)")
                who = identity.name
            seats = _seats(cfg.playbook, seat_roles, store, who)
            my_role = _seat_role(seats, role, cfg.operator_role(None), ask=seat_roles is not None)
            if my_role is not None:
                _check_role(cfg.playbook, my_role)
            app = CrisisApp(store, incident_id, cfg.playbook, me=who, role=my_role, seats=seats or (),
                            confined=seat_roles is not None, theme=theme)
            await app.run_async()
        finally:
            await store.close()

    run(go)


@click.command()
@click.option("--headless", is_flag=True, help="No room: play the crisis and print its timeline.")
@click.option("--speed", default=1.0, show_default=True, type=float, help="Fast-forward factor (0 = no waiting).")
@click.option("--db", "db", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Keep the demo incident in this file (default: a fresh temporary file).")
@click.option("--as", "name", default=None, help="Your name in the room (default: playbook operator, then $USER).")
@click.option("--role", default=None, help="Your role id (default: gm, so you can approve decisions).")
@click.option("--theme", default=None, help="A Textual theme, e.g. crisis-high-contrast.")
@click.pass_context
def demo(ctx: click.Context, headless: bool, speed: float, db: Path | None, name: str | None, role: str | None,
         theme: str | None) -> None:
    """Play a scripted crisis in a fresh incident: in the room, or printed with --headless."""
    if headless:
        ctx.invoke(core.demo, headless=True, speed=speed, db=db)
        return
    if speed < 0:
        raise click.BadParameter("must be 0 or more", param_hint="--speed")
    cfg = settings()
    me = cfg.operator_name(name)
    if demo_script.plays_a_part(me) and not name:
        me = f"{me} (you)"  # your login shares a scripted name: their claims would look like yours
    my_role = role or "gm"
    path = db or Path(tempfile.mkdtemp(prefix="crisis-demo-")) / "demo.db"

    async def go() -> str:
        from crisis_tui.app import CrisisApp  # noqa: PLC0415 - Textual only for the room
        from crisis_tui.themes import check_theme  # noqa: PLC0415

        if theme is not None:
            check_theme(theme)
        _check_role(cfg.playbook, my_role)
        if demo_script.plays_a_part(me):
            cast = ", ".join(n for n, _, _ in demo_script.CAST)
            raise InvalidInput("--as", f"{me} plays a part in the scripted crisis ({cast}); pick another name")
        store = await SqliteStore.open(path, playbook=cfg.playbook)
        try:
            incident_id = await demo_script.create_demo_incident(store)
            app = CrisisApp(store, incident_id, cfg.playbook, me=me, role=my_role, theme=theme,
                            demo_speed=speed, demo_prepare=core._prepare())
            await app.run_async()
        finally:
            await store.close()
        return incident_id

    incident_id = run(go)
    click.echo(f"the demo incident is kept in {path}#{incident_id}")


def register(group: click.Group) -> None:
    """Add `open`, and replace the core's `demo` with the one that opens the room."""
    group.add_command(open_room)
    group.add_command(demo)
