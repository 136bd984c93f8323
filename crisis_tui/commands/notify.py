"""`sitrep`, `notify` and the escalations' answers: word out to other departments through Apprise
(crisis_tui.notify), and what they answered back, recorded for the evaluation."""

from __future__ import annotations

import asyncio
import contextlib
import time

import click

from crisis_tui import events as ev
from crisis_tui import locator
from crisis_tui.commands.context import from_log, run, settings
from crisis_tui.commands.token_option import token_options
from crisis_tui.errors import InvalidInput
from crisis_tui.notify.loop_in import LoopIn, loop_ins
from crisis_tui.safe_text import one_line
from crisis_tui.timeline_text import describe
from crisis_tui.wire import MAX_ID


@click.command()
@click.argument("incident", metavar="INCIDENT")
@click.option("--no-send", is_flag=True, help="Record and print the report without sending it to any target.")
@click.option("--as", "name", default=None, help="Who issues it (default: playbook operator, then $USER).")
@token_options
def sitrep(incident: str, no_send: bool, name: str | None, token: str | None) -> None:
    """Issue a situation report of INCIDENT now: printed, sent to the targets that follow "sitrep", on the timeline."""
    cfg = settings()
    # Apprise takes 70-110 ms to import (measured with -X importtime): only the commands that send pay it.
    from crisis_tui.notify.runner import issue_sitrep  # noqa: PLC0415

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
    if no_send:
        click.echo("recorded, not sent (--no-send)")
    else:
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

    It resumes after the last event it notified, so a restart sends nothing twice; a second one on the
    same incident (another host) sends no notice twice either: each notice is claimed in the store first."""
    cfg = settings()
    from crisis_tui.notify.runner import ACTOR, Notifier  # noqa: PLC0415 - Apprise's import, as in sitrep

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


@click.command("escalation-answer")
@click.argument("incident", metavar="INCIDENT")
@click.argument("comment_id", metavar="COMMENT_ID", type=click.IntRange(0, MAX_ID))
@click.argument("answer", metavar="ANSWER")
@click.option("--as", "name", default=None, help="Who records it (default: playbook operator, then $USER).")
@token_options
def escalation_answer(incident: str, comment_id: int, answer: str, name: str | None, token: str | None) -> None:
    """Record what the department comment COMMENT_ID was escalated to answered: it closes the escalation,
    and the time it took goes into the evaluation as the time to loop that department in."""
    cfg = settings()

    async def go() -> str:
        store, incident_id = await locator.open_incident(incident, playbook=cfg.playbook, token=token)
        try:
            identity = getattr(store, "identity", None)
            who = identity.name if identity is not None else cfg.operator_name(name)
            if identity is not None and name and name != identity.name:
                raise InvalidInput("--as", f"this token is {identity.name}'s; the server acts as its owner")
            event = await store.answer_escalation(incident_id, comment_id, answer, actor=who)
        finally:
            await store.close()
        return describe(event)

    click.echo(run(go))


def _waited(item: LoopIn, now: float) -> str:
    seconds = (item.seconds if item.seconds is not None else now - item.escalated_at)
    whole = max(0, int(seconds))
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m" if whole >= 3600 else f"{whole // 60}m{whole % 60:02d}s"


@click.command("escalations")
@click.argument("incident", metavar="INCIDENT")
@token_options
def escalations(incident: str, token: str | None) -> None:
    """INCIDENT's escalations: whom each went to and why, and the department's answer with the time it
    took, or how long it has been waiting."""
    items = from_log(incident, token, loop_ins)
    now = time.time()
    if not items:
        click.echo("no comment was escalated")
    for item in items:
        head = (f"#{item.comment_id} to {one_line(item.to or 'the committee', 40)} by {one_line(item.escalated_by, 40)}"
                f" ({one_line(item.reason, 80) or 'no reason given'})")
        if item.answered_at is None:
            click.echo(f"{head}: waiting for an answer for {_waited(item, now)}")
        else:
            click.echo(f"{head}: answered after {_waited(item, now)}, recorded by {one_line(item.answered_by, 40)}: "
                       f"{one_line(item.answer, 160)}")


def register(group: click.Group) -> None:
    group.add_command(sitrep)
    group.add_command(notify_cmd)
    group.add_command(escalation_answer)
    group.add_command(escalations)
