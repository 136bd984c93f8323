"""Evaluation and big-screen commands: `export`, `import` and `wallboard`."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path

import click

from crisis_tui import locator
from crisis_tui.commands.context import run, settings
from crisis_tui.commands.token_option import token_options
from crisis_tui.export import FORMATS, default_output, export_incident
from crisis_tui.export.record import Progress, no_progress
from crisis_tui.importer import import_file
from crisis_tui.log_head import parse_expected


@contextlib.contextmanager
def _progress(enabled: bool) -> Iterator[Progress]:
    """A rich progress display on stderr when it is a terminal; silence otherwise."""
    if not enabled or not sys.stderr.isatty():
        yield no_progress
        return
    from rich.console import Console  # noqa: PLC0415 - only for an interactive export
    from rich.progress import BarColumn, MofNCompleteColumn, SpinnerColumn, TextColumn, TimeElapsedColumn
    from rich.progress import Progress as RichProgress

    display = RichProgress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                           TimeElapsedColumn(), console=Console(stderr=True), transient=True)
    tasks: dict[str, int] = {}

    def report(phase: str, done: int, total: int | None) -> None:
        if phase not in tasks:
            tasks[phase] = display.add_task(phase, total=total)
        display.update(tasks[phase], completed=done, total=total)  # type: ignore[arg-type]

    with display:
        yield report


@click.command("export")
@click.argument("incident", metavar="INCIDENT")
@click.option("--format", "-f", "fmt", type=click.Choice(FORMATS), default="md", show_default=True,
              help="json: the whole log, loss-free (for import); csv: one file per entity; "
                   "md/html: the evaluation document.")
@click.option("-o", "--output", "output", metavar="OUT", default=None,
              help="File to write (csv: a folder, or a prefix such as eval/refund -> eval/refund-events.csv). "
                   "Default: INCIDENT-ID.FORMAT here (csv: INCIDENT-ID-csv/).")
@token_options
@click.option("--quiet", "-q", is_flag=True, help="No progress display.")
def export_cmd(incident: str, fmt: str, output: str | None, token: str | None, quiet: bool) -> None:
    """Export INCIDENT for the evaluation (reads only; safe while the room is live)."""
    cfg = settings()

    async def go() -> list[Path]:
        store, incident_id = await locator.open_incident(incident, playbook=cfg.playbook, read_only=True, token=token)
        try:
            with _progress(not quiet) as progress:
                return await export_incident(store, incident_id, fmt, output or default_output(incident_id, fmt),
                                             playbook=cfg.playbook, progress=progress)
        finally:
            await store.close()

    for path in run(go):
        click.echo(f"wrote {path}")


@click.command("import")
@click.argument("json_file", metavar="JSON_FILE", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("incident", metavar="INCIDENT")
@click.option("--expect-head", "expect_head", metavar="NUMBER:HASH", default=None,
              help="Refuse the export unless it holds this event with this hash (a `head` line verify printed).")
def import_cmd(json_file: Path, incident: str, expect_head: str | None) -> None:
    """Rebuild an incident from its json export into INCIDENT (a SQLite file, created if missing).

    The events keep their times, actors and hashes: `crisis-tui verify` passes on the result.
    An export whose events do not end at the head it records is refused.
    """
    cfg = settings()
    expected = parse_expected(expect_head) if expect_head else None
    result = run(lambda: import_file(json_file, incident, playbook=cfg.playbook, expect_head=expected))
    click.echo(f"imported {result.events:,} events of {result.title!r} into {result.path}, "
               f"last hash {result.last_hash[:16]}")
    click.echo(f"{result.path}#{result.incident_id}")


@click.command()
@click.argument("incident", metavar="INCIDENT")
@token_options
def wallboard(incident: str, token: str | None) -> None:
    """The read-only big screen for the room: q quits, t changes the theme."""
    cfg = settings()

    async def go() -> None:
        from crisis_tui.wallboard.app import WallboardApp  # noqa: PLC0415 - Textual only for this command

        store, incident_id = await locator.open_incident(incident, playbook=cfg.playbook, read_only=True, token=token)
        try:
            await WallboardApp(store, incident_id, playbook=cfg.playbook).run_async()
        finally:
            await store.close()

    run(go)


def register(group: click.Group) -> None:
    for command in (export_cmd, import_cmd, wallboard):
        group.add_command(command)
