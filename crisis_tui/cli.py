"""The `crisis-tui` command line: one click group, one module per command family.

Every command that acts on an incident takes INCIDENT first (a SQLite file,
`file.db#ID`, or an incident URL on a server). Errors a user can fix
(CrisisError) print one line and exit non-zero; they never show a traceback.
What the commands share (Settings, `run`) lives in crisis_tui.commands.context,
so the commands never import this module back.
"""

from __future__ import annotations

from typing import Any

import click

from crisis_tui import __version__
from crisis_tui import playbook as playbook_mod
from crisis_tui.commands import copy as copy_commands
from crisis_tui.commands import core, drill, incident, ingest, lint, notify, publish, room, seats, serve
from crisis_tui.commands import export as export_commands
from crisis_tui.commands.context import Settings
from crisis_tui.errors import CrisisError


class _Group(click.Group):
    """Turns CrisisError raised outside `run` (e.g. loading the playbook) into one line."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CrisisError as exc:
            click.echo(f"crisis-tui: {exc}", err=True)
            ctx.exit(2)


@click.group(cls=_Group)
@click.option(
    "--playbook",
    "playbook_option",
    metavar="FILE",
    help=f"Playbook TOML (else ${playbook_mod.ENV_VAR}, else your copy from `init`, else the shipped default).",
)
@click.version_option(__version__, prog_name="crisis-tui")
@click.pass_context
def main(ctx: click.Context, playbook_option: str | None) -> None:
    """A terminal room for a brand's social-media crisis committee."""
    ctx.obj = Settings(playbook_option)


for _family in (core, incident, export_commands, lint, serve, room, ingest, seats, publish, notify, copy_commands,
                drill):
    _family.register(main)
