"""What every command shares: the global options' `Settings`, and `run` for async commands.

Its own module so that crisis_tui.cli imports the commands and the commands
never import crisis_tui.cli back (an import-linter contract keeps it so).
"""

from __future__ import annotations

import asyncio
import getpass
import os
import sys
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import click

from crisis_tui import playbook as playbook_mod
from crisis_tui.errors import CrisisError
from crisis_tui.model import Event
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


def from_log(incident: str, token: str | None, derive: Callable[[list[Event]], T]) -> T:
    """`derive` of INCIDENT's whole log, read once: the views the log alone answers (what left
    the room, the escalations and their answers)."""
    from crisis_tui import locator  # noqa: PLC0415 - the store only for the commands that read one

    cfg = settings()

    async def go() -> T:
        store, incident_id = await locator.open_incident(incident, playbook=cfg.playbook, read_only=True, token=token)
        try:
            return derive(list(await store.events_after(incident_id, 0, 1_000_000)))
        finally:
            await store.close()

    return run(go)
