"""The `crisis-tui` command line: one click group, one module per command family.

Every command that acts on an incident takes INCIDENT first (a SQLite file,
`file.db#ID`, or an incident URL on a server). Errors a user can fix
(CrisisError) print one line and exit non-zero; they never show a traceback.
"""

from __future__ import annotations

import asyncio
import getpass
import os
import sys
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import click

from crisis_tui import __version__
from crisis_tui import playbook as playbook_mod
from crisis_tui.errors import CrisisError
from crisis_tui.playbook import Playbook

T = TypeVar("T")


class Settings:
    """What the global options decide, shared by every command through click's context."""

    def __init__(self, playbook_option: str | None) -> None:
        self.playbook_option = playbook_option
        self._playbook: Playbook | None = None

    @property
    def playbook(self) -> Playbook:
        if self._playbook is None:
            self._playbook = playbook_mod.load(playbook_mod.locate(self.playbook_option))
        return self._playbook

    def operator_name(self, given: str | None) -> str:
        return given or self.playbook.operator.name or os.environ.get("USER") or getpass.getuser() or "operator"

    def operator_role(self, given: str | None) -> str:
        return given or self.playbook.operator.role or "cm"


def run(coro_factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run one async command; a CrisisError becomes one clear line and exit code 2."""
    try:
        return asyncio.run(coro_factory())
    except CrisisError as exc:
        click.echo(f"crisis-tui: {exc}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)


def settings() -> Settings:
    return click.get_current_context().find_object(Settings) or Settings(None)


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


from crisis_tui.commands import core  # noqa: E402  (commands register on `main`)

core.register(main)
from crisis_tui.commands import export as export_commands  # noqa: E402

export_commands.register(main)
from crisis_tui.commands import lint as lint_commands  # noqa: E402

lint_commands.register(main)
from crisis_tui.commands import serve as serve_commands  # noqa: E402

serve_commands.register(main)
from crisis_tui.commands import room as room_commands  # noqa: E402

room_commands.register(main)
from crisis_tui.commands import ingest as ingest_commands  # noqa: E402

ingest_commands.register(main)
from crisis_tui.commands import seats as seats_commands  # noqa: E402

seats_commands.register(main)
