"""`update`: change an incident from the command line (severity, fault, title, closing).

The same guarded store command the room and `PATCH /incidents/ID` use: only a
member with decision power may do it (the seat taken in the room, or, when not
in it, `--role`; over a server that role must be one of the token's seats and
the token a lead's), and the change goes on the timeline with who and why.
"""

from __future__ import annotations

import click

from crisis_tui import locator
from crisis_tui.commands.context import run, settings
from crisis_tui.commands.token_option import token_options
from crisis_tui.errors import InvalidInput
from crisis_tui.model import Incident


def _changes(title: str | None, severity: str | None, our_fault: bool | None, close: bool | None) -> dict[str, object]:
    changes: dict[str, object] = {}
    if title is not None:
        changes["title"] = title
    if severity is not None:
        changes["severity"] = severity
    if our_fault is not None:
        changes["our_fault"] = our_fault
    if close is not None:
        changes["status"] = "closed" if close else "open"
    return changes


def _summary(incident: Incident) -> str:
    fault = "our fault" if incident.our_fault else "not our fault"
    return f"{incident.id}: {incident.title!r} · {incident.severity} · {fault} · {incident.status}"


@click.command()
@click.argument("incident", metavar="INCIDENT")
@click.option("--title", default=None, help="A new title.")
@click.option("--severity", default=None, help="A severity id from the playbook (the SLA follows it).")
@click.option("--our-fault/--not-our-fault", "our_fault", default=None,
              help="Whether the error is ours (replies must then apologise).")
@click.option("--close/--reopen", "close", default=None, help="Close the incident, or open it again.")
@click.option("--why", default="", help="Why: goes on the timeline with the change.")
@click.option("--as", "name", default=None, help="Who changes it (default: playbook operator, then $USER).")
@click.option("--role", default=None,
              help="Your committee role when you are not in the room (it needs decision power; "
                   "default: playbook operator role).")
@token_options
def update(incident: str, title: str | None, severity: str | None, our_fault: bool | None, close: bool | None,
           why: str, name: str | None, role: str | None, token: str | None) -> None:
    """Change INCIDENT's title, severity, fault or status; prints the incident as it is then."""
    cfg = settings()
    changes = _changes(title, severity, our_fault, close)
    if not changes:
        raise click.UsageError("nothing to change: give --title, --severity, --our-fault/--not-our-fault "
                               "or --close/--reopen")

    async def go() -> tuple[Incident, Incident]:
        store, incident_id = await locator.open_incident(incident, playbook=cfg.playbook, token=token)
        try:
            identity = getattr(store, "identity", None)
            who = identity.name if identity is not None else cfg.operator_name(name)
            if identity is not None and name and name != identity.name:
                raise InvalidInput("--as", f"this token is {identity.name}'s; the server acts as its owner")
            before = await store.get_incident(incident_id)
            after = await store.update_incident(incident_id, actor=who, role=cfg.operator_role(role),
                                                reason=why, **changes)
        finally:
            await store.close()
        return before, after

    before, after = run(go)
    if before == after:
        click.echo(f"nothing changed: {_summary(after)}")
    else:
        click.echo(f"updated {_summary(after)}")


def register(group: click.Group) -> None:
    group.add_command(update)
