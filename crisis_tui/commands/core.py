"""Core commands: `new`, `init`, `verify` and `demo`."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

import click

from crisis_tui import demo_script, locator
from crisis_tui import playbook as playbook_mod
from crisis_tui.commands.context import run, settings
from crisis_tui.commands.token_option import token_options
from crisis_tui.errors import DamagedFile, InvalidInput, NotFound
from crisis_tui.intake.pipeline import prepare_batch
from crisis_tui.log_head import EMPTY, parse_expected, still_holds
from crisis_tui.store import guards
from crisis_tui.store.audit import AuditReport, audit_file, describe
from crisis_tui.store.pg import PgStore
from crisis_tui.store.sqlite import SqliteStore
from crisis_tui.timeline_text import human_lines


@click.command()
@click.argument("incident", metavar="INCIDENT")
@click.option("--title", required=True, help="What the crisis is about, in a few words.")
@click.option("--brand", default="", help="The brand or client concerned.")
@click.option("--severity", default="", help="A severity id from the playbook (default: its default_severity).")
@click.option("--our-fault", is_flag=True, help="The error is ours: replies must apologise.")
@click.option("--as", "name", default=None, help="Who opens it (default: playbook operator, then $USER).")
@token_options
@click.option("--again", is_flag=True, help="Make a second open incident with a title one already has.")
def new(incident: str, title: str, brand: str, severity: str, our_fault: bool, name: str | None, token: str | None,
        again: bool) -> None:
    """Create an incident in INCIDENT (a SQLite file, created if missing, or a server URL).

    Prints the new incident's id on its last line. A title an open incident already has is
    refused without --again: a second `new` is usually a retyped command, and `open` would
    then join the new, empty incident.
    """
    cfg = settings()

    async def go() -> str:
        store, _ = await locator.open_store(incident, playbook=cfg.playbook, create=True, token=token)
        try:
            # The store refuses it too (for every client); here the refusal can say how to open it.
            same = guards.open_with_title(title, [(i.id, i.title) for i in await store.list_incidents()
                                                  if i.status == "open"])
            if same is not None and not again:
                raise InvalidInput("--title", f"{same} is already open with this title; open it with "
                                              f"crisis-tui open {incident}#{same}, or add --again for a second one")
            created = await store.create_incident(
                title, actor=cfg.operator_name(name), brand=brand, severity=severity, our_fault=our_fault,
                again=again,
            )
        finally:
            await store.close()
        return created.id

    incident_id = run(go)
    click.echo(f"created incident {title!r}")
    click.echo(incident_id)


@click.command()
@click.argument("path", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def init(path: Path | None, force: bool) -> None:
    """Write an editable copy of the playbook to PATH (default: your config folder)."""
    cfg = settings()
    source = playbook_mod.locate(cfg.playbook_option) if cfg.playbook_option else playbook_mod.shipped_path()
    target = path or playbook_mod.user_path()
    written = playbook_mod.write_copy(target, source, force=force)
    click.echo(f"wrote {written}")
    if path is not None:
        click.echo(f"use it with: crisis-tui --playbook {written} ... (or set {playbook_mod.ENV_VAR})")


async def _audit(incident: str, token: str | None, at: int | None, book: playbook_mod.Playbook) -> AuditReport:
    """The audit of INCIDENT: run here on a local file, by the server on a server URL."""
    target = locator.parse(incident)
    try:
        store, incident_id = await locator.open_incident(incident, playbook=book, read_only=True, token=token)
    except DamagedFile as exc:  # too damaged to find the incident in
        return AuditReport(incident_id=target.incident_id or "?", file=str(target.path), damaged=[str(exc)])
    except NotFound:
        if target.path is None or not target.incident_id:
            raise
        # its row may be what was deleted: the log still names it, and the audit says so
        report = await audit_file(target.path.resolve(), target.incident_id, at)
        if report.events == 0 and report.intact:
            raise
        return report
    try:
        if isinstance(store, PgStore):
            return await store.audit(incident_id, at)
        if isinstance(store, SqliteStore):
            return await audit_file(store.path, incident_id, at)
        from crisis_tui.store.http import HttpStore  # noqa: PLC0415 - only for a server URL

        assert isinstance(store, HttpStore)
        return await store.audit(incident_id, at)
    finally:
        await store.close()


@click.command()
@click.argument("incident", metavar="INCIDENT")
@click.option("--expect-head", "expect_head", metavar="NUMBER:HASH", default=None,
              help="Exit 1 unless the log still holds this event with this hash (a `head` line verify printed).")
@token_options
def verify(incident: str, expect_head: str | None, token: str | None) -> None:
    """Audit the incident: the hash chain, every table against a replay of the log, the file itself.

    Names each broken event, each table row that differs from the replay and a
    damaged file. Its last line is `head NUMBER HASH`, the newest event
    (NUMBER counts the incident's events, the same in every file it is imported into).
    """
    expected = parse_expected(expect_head) if expect_head else None
    book = settings().playbook
    report = run(lambda: _audit(incident, token, expected.number if expected else None, book))
    for line in describe(report):
        click.echo(line)
    ok = report.intact
    if expected is not None:
        why = still_holds(expected, report.at, report.events)
        if why is None:
            click.echo(f"{report.incident_id}: the log still holds event {expected.number} with the expected hash")
        else:
            click.echo(f"{report.incident_id}: expected head NOT held: {why}")
            ok = False
    click.echo((report.head or EMPTY).line())
    if not ok:
        raise SystemExit(1)


@click.command()
@click.option("--headless", is_flag=True, help="No room: play the crisis and print its timeline.")
@click.option("--speed", default=1.0, show_default=True, type=float, help="Fast-forward factor (0 = no waiting).")
@click.option("--db", "db", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Keep the demo incident in this file (default: a fresh temporary file).")
def demo(headless: bool, speed: float, db: Path | None) -> None:
    """Play a scripted crisis in a fresh incident so you can see the tool at work."""
    cfg = settings()
    if speed < 0:
        raise click.BadParameter("must be 0 or more", param_hint="--speed")
    path = db or Path(tempfile.mkdtemp(prefix="crisis-demo-")) / "demo.db"

    async def go() -> None:
        store = await SqliteStore.open(path, playbook=cfg.playbook)
        try:
            incident_id = await demo_script.create_demo_incident(store)
            printed = 0
            for step in demo_script.script(_prepare()):
                if speed:
                    await asyncio.sleep(step.delay / speed)
                click.echo(f"-- {step.caption}")
                await step.act(store, incident_id)
                events = await store.events_after(incident_id, printed, 100_000)
                if events:
                    printed = events[-1].seq
                for text in human_lines(events):
                    click.echo(text)
            click.echo(f"the demo incident is kept in {path}#{incident_id}")
        finally:
            await store.close()

    run(go)


def _prepare() -> demo_script.Prepare:
    """The intake's triage (language, scores, clusters, priority) for the demo's comments."""
    book = settings().playbook
    return lambda comments: prepare_batch(comments, playbook=book)


def register(group: click.Group) -> None:
    for command in (new, init, verify, demo):
        group.add_command(command)
