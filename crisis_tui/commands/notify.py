"""`sitrep` and `notify`: word out to other departments through Apprise (crisis_tui.notify)."""

from __future__ import annotations

import asyncio
import contextlib

import click

from crisis_tui import events as ev
from crisis_tui import locator
from crisis_tui.commands.context import run, settings
from crisis_tui.commands.token_option import token_options
from crisis_tui.notify.runner import ACTOR, Notifier, issue_sitrep


@click.command()
@click.argument("incident", metavar="INCIDENT")
@click.option("--no-send", is_flag=True, help="Record and print the report without sending it to any target.")
@click.option("--as", "name", default=None, help="Who issues it (default: playbook operator, then $USER).")
@token_options
def sitrep(incident: str, no_send: bool, name: str | None, token: str | None) -> None:
    """Issue a situation report of INCIDENT now: printed, sent to the targets that follow "sitrep", on the timeline."""
    cfg = settings()

    async def go() -> tuple[str, list[str], dict[str, str]]:
        store, incident_id = await locator.open_incident(incident, playbook=cfg.playbook, token=token)
        try:
            identity = getattr(store, "identity", None)
            who = identity.name if identity is not None else cfg.operator_name(name)
            text, outcome = await issue_sitrep(store, incident_id, cfg.playbook, actor=who, send=not no_send)
        finally:
            await store.close()
        return text, outcome.delivered, outcome.failed

    text, delivered, failed = run(go)
    click.echo(text)
    click.echo(f"sent to {', '.join(delivered)}" if delivered else "sent to no target")
    for target, why in failed.items():
        click.echo(f"not delivered to {target}: {why}", err=True)


@click.command("notify")
@click.argument("incident", metavar="INCIDENT")
@click.option("--once", is_flag=True, help="Handle what the log holds now, then stop (else follow it live).")
@token_options
def notify_cmd(incident: str, once: bool, token: str | None) -> None:
    """Tell the playbook's [[notify]] targets of INCIDENT's spikes, decisions, statements, escalations and
    severity changes, and issue the periodic situation report; each delivery goes on the timeline.

    Run one per incident: it resumes after the last event it notified, so a restart sends nothing twice."""
    cfg = settings()

    async def go() -> int:
        store, incident_id = await locator.open_incident(incident, playbook=cfg.playbook, token=token)
        sent = 0
        try:
            notifier = Notifier(store, incident_id, cfg.playbook)
            start = await notifier.catch_up()
            if once:
                for event in await store.events_after(incident_id, start, 1_000_000):
                    sent += await notifier.handle(event) is not None
                await notifier.sitrep_due()
                return sent
            async for event in store.subscribe(incident_id, start):
                if isinstance(event.body, ev.NotificationSent | ev.SitrepIssued) and event.actor == ACTOR:
                    continue
                sent += await notifier.handle(event) is not None
                await notifier.sitrep_due()
        finally:
            with contextlib.suppress(Exception):
                await store.close()
        return sent

    try:
        sent = run(go)
    except (KeyboardInterrupt, asyncio.CancelledError):
        return
    click.echo(f"notified {sent} events")


def register(group: click.Group) -> None:
    group.add_command(sitrep)
    group.add_command(notify_cmd)
