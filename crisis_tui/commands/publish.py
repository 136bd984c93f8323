"""`send` and `outbound`: an approved reply out of the room, and the log of what went out.

`send` is the same guarded store step the room's send action and
`POST .../drafts/ID/status {"status": "sent"}` take: where the playbook
publishes the comment's platform the store posts the approved text there
first, and a failure leaves the draft approved.
"""

from __future__ import annotations

import click

from crisis_tui import approval, locator
from crisis_tui.commands.context import from_log, run, settings
from crisis_tui.commands.token_option import token_options
from crisis_tui.errors import InvalidInput
from crisis_tui.publish.outbound import BY_HAND, DRILL_NOWHERE, Outbound, line, outbound, where_it_went
from crisis_tui.safe_text import one_line
from crisis_tui.wire import MAX_ID


@click.command()
@click.argument("incident", metavar="INCIDENT")
@click.argument("draft_id", metavar="DRAFT_ID", type=click.IntRange(0, MAX_ID))
@click.option("--version", "version", type=click.IntRange(0, MAX_ID), default=None,
              help="The version you read: refused if the draft has moved on since.")
@click.option("--as", "name", default=None, help="Who sends it (default: playbook operator, then $USER).")
@token_options
def send(incident: str, draft_id: int, version: int | None, name: str | None, token: str | None) -> None:
    """Send approved draft DRAFT_ID of INCIDENT (a reply or a statement): published where the playbook says,
    else marked sent by hand."""
    cfg = settings()

    async def go() -> list[Outbound]:
        store, incident_id = await locator.open_incident(incident, playbook=cfg.playbook, token=token)
        try:
            identity = getattr(store, "identity", None)
            who = identity.name if identity is not None else cfg.operator_name(name)
            if identity is not None and name and name != identity.name:
                raise InvalidInput("--as", f"this token is {identity.name}'s; the server acts as its owner")
            await approval.send(store, incident_id, draft_id, actor=who, version=version)
            gone = [o for o in outbound(await store.events_after(incident_id, 0, 1_000_000)) if o.draft_id == draft_id]
        finally:
            await store.close()
        last = max((o.version for o in gone), default=0)
        return [o for o in gone if o.version == last]

    items = run(go)
    if not items:
        click.echo(f"sent draft {draft_id}")
    elif items[0].how == DRILL_NOWHERE:
        click.echo(f"marked draft {draft_id} v{items[0].version} sent: a drill publishes nothing")
    elif items[0].how == BY_HAND:
        click.echo(f"marked draft {draft_id} v{items[0].version} sent {one_line(where_it_went(items[0]), 300)}: "
                   "no publisher for this platform, so post the approved text yourself")
    else:
        click.echo(f"sent draft {draft_id} v{items[0].version}: published on "
                   + "; ".join(one_line(where_it_went(o), 300) for o in items))


@click.command("outbound")
@click.argument("incident", metavar="INCIDENT")
@token_options
def outbound_cmd(incident: str, token: str | None) -> None:
    """Everything that left INCIDENT's room: what, where, when, approved by whom, post id and address or "by hand"."""
    items = from_log(incident, token, outbound)
    if not items:
        click.echo("nothing has left the room yet")
    for item in items:
        click.echo(line(item))


def register(group: click.Group) -> None:
    group.add_command(send)
    group.add_command(outbound_cmd)
