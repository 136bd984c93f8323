"""Drill commands: `drill SCENARIO [INCIDENT]`, `drill end`, `drill list` and `drills` (the trend).

A drill is an incident like any other (the same file or server, the same room
and wallboard, `crisis-tui open FILE#ID` to join it) made with the drill flag:
the store publishes nothing for it and records notifications only to the
playbook's drill targets. `drill` plays the scenario into it, in the room or
`--headless`; when the script runs out (or `drill end`), its export scores the
committee against the scenario's targets, and `drills` compares the runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import click
import msgspec

from crisis_tui import locator
from crisis_tui.commands import core
from crisis_tui.commands.context import run, settings
from crisis_tui.commands.token_option import token_options
from crisis_tui.drill import play, report, scenario
from crisis_tui.errors import InvalidInput
from crisis_tui.export.record import read_events
from crisis_tui.model import Event
from crisis_tui.playbook import Playbook
from crisis_tui.safe_text import one_line
from crisis_tui.store.protocol import IncidentStore
from crisis_tui.timeline_text import human_lines


class _DrillGroup(click.Group):
    """`drill SCENARIO ...` plays a scenario; `drill end` and `drill list` are its other words."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["play", *args]
        return super().parse_args(ctx, args)


@click.group("drill", cls=_DrillGroup)
def drill_group() -> None:
    """Rehearse a scenario in a drill incident: `drill SCENARIO [INCIDENT]`, `drill end`, `drill list`."""


def _lang(value: str) -> str:
    if value not in scenario.LANGS:
        raise InvalidInput("--lang", f"{value!r} is not one of {', '.join(scenario.LANGS)}")
    return value


async def _print_new(store: IncidentStore, incident_id: str, after: int) -> int:
    events = await store.events_after(incident_id, after, 1_000_000)
    for text in human_lines(events):
        click.echo(text)
    return events[-1].seq if events else after


async def _score(store: IncidentStore, incident_id: str, book: Playbook) -> report.DrillScore | None:
    return report.score(await read_events(store, incident_id), book)


@drill_group.command("play", hidden=True)
@click.argument("scenario_name", metavar="SCENARIO")
@click.argument("incident", metavar="[INCIDENT]", required=False)
@click.option("--speed", default=1.0, show_default=True, type=float,
              help="Fast-forward factor (0 = no waiting); the report's times are the scenario's minutes.")
@click.option("--headless", is_flag=True, help="No room: play the drill to its end and print its timeline and report.")
@click.option("--from", "from_export", type=click.Path(dir_okay=False, path_type=Path), default=None,
              metavar="EXPORT.json",
              help="Replay a past incident's comments (its json export) at their original relative times "
                   "instead of the scenario's waves (its setting, injects and targets stay).")
@click.option("--lang", default="en", show_default=True, help="The language of the title and injects (en, es, it).")
@click.option("--as", "name", default=None, help="Your name in the room (default: playbook operator, then $USER).")
@click.option("--role", default=None, help="Your role id in the room (default: gm).")
@click.option("--theme", default=None, help="A Textual theme, e.g. crisis-high-contrast.")
@token_options
def play_cmd(scenario_name: str, incident: str | None, speed: float, headless: bool, from_export: Path | None,
             lang: str, name: str | None, role: str | None, theme: str | None, token: str | None) -> None:
    """Start a drill of SCENARIO (a shipped name, see `drill list`, or a .toml file) in INCIDENT
    (a SQLite file, created if missing, or a server URL; default: a fresh temporary file).

    The committee joins it as a real incident: crisis-tui open INCIDENT#ID, and the wallboard.
    """
    cfg = settings()
    if speed < 0:
        raise click.BadParameter("must be 0 or more", param_hint="--speed")
    _lang(lang)
    book = cfg.playbook
    chosen = scenario.load(scenario_name, book)
    where = incident or str(Path(tempfile.mkdtemp(prefix="crisis-drill-")) / "drill.db")
    plan = play.beats(chosen)
    if from_export is not None:
        plan = sorted([*play.replay_beats(from_export), *(b for b in plan if b.inject is not None)],
                      key=lambda b: (b.offset, 0 if b.inject is None else 1))
    me = cfg.operator_name(name)
    if not headless:
        _check_room(book, role or "gm", theme)

    async def go() -> tuple[str, report.DrillScore | None, bool]:
        store, _ = await locator.open_store(where, playbook=book, create=True, token=token)
        try:
            identity = getattr(store, "identity", None)
            who = identity.name if identity is not None else me
            made = await play.start(store, chosen, lang=lang, speed=speed, actor=who,
                                    replayed=str(from_export) if from_export else "")
            player = play.play(store, made.id, plan, speed=speed, lang=lang,
                               duration_s=chosen.duration_minutes * 60.0, prepare=core._prepare())
            if headless:
                click.echo(f"-- DRILL {one_line(chosen.id, 60)}: {one_line(chosen.name.get(lang), 100)} · "
                           + ", ".join(f"{k} {n}" for k, n in play.kinds_of(plan).items()))
                finished = await _headless(store, made.id, player)
                return made.id, await _score(store, made.id, book), finished
            await _room(store, made.id, book, player, who=who, role=role or "gm", theme=theme)
            return made.id, await _score(store, made.id, book), await play.ended(store, made.id)
        finally:
            await store.close()

    incident_id, scores, finished = run(go)
    target = f"{where}#{incident_id}" if "://" not in where else f"{where.rstrip('/')}/incidents/{incident_id}"
    if finished and scores is not None:
        for text in report.lines(scores):
            click.echo(text)
    click.echo(f"the drill incident is kept in {target}")
    click.echo(f"join it: crisis-tui open {target}" if not finished else f"its report: crisis-tui export {target}")
    if not finished:
        click.echo(f"end it: crisis-tui drill end {target}")


async def _headless(store: IncidentStore, incident_id: str, player: Coroutine[Any, Any, bool]) -> bool:
    """Play to the end, printing the timeline as it grows (every few seconds, and at the end)."""
    task = asyncio.ensure_future(player)
    printed = 0
    while not task.done():
        await asyncio.wait({task}, timeout=2.0)
        printed = await _print_new(store, incident_id, printed)
    await _print_new(store, incident_id, printed)
    return bool(task.result())


def _check_room(book: Playbook, role: str, theme: str | None) -> None:
    """The room's options, checked before any drill is made."""
    from crisis_tui.themes import check_theme  # noqa: PLC0415 - Textual only for the room

    if theme is not None:
        check_theme(theme)
    if book.role(role) is None:
        raise InvalidInput("--role", f"{role!r} is not a role of the playbook ({', '.join(r.id for r in book.roles)})")


async def _room(store: IncidentStore, incident_id: str, book: Playbook, player: Coroutine[Any, Any, bool], *,
                who: str, role: str, theme: str | None) -> None:
    """The room on the drill, the script playing beside it until it runs out or you quit."""
    from crisis_tui.app import CrisisApp  # noqa: PLC0415 - Textual only for the room

    task = asyncio.ensure_future(player)
    try:
        await CrisisApp(store, incident_id, book, me=who, role=role, theme=theme).run_async()
    finally:
        if not task.done():
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _newest_drill(store: IncidentStore, target: locator.Target) -> str:
    if target.incident_id:
        await store.get_incident(target.incident_id)
        return target.incident_id
    drills = [i for i in await store.list_incidents() if i.drill and i.status != "closed"]
    if not drills:
        raise InvalidInput("INCIDENT", f"{target.raw} holds no drill (crisis-tui drill SCENARIO {target.raw} starts one)")
    return drills[-1].id


@drill_group.command("end")
@click.argument("incident", metavar="INCIDENT")
@click.option("--reason", default="", help="Why it ends now (on the timeline).")
@click.option("--as", "name", default=None, help="Who ends it (default: playbook operator, then $USER).")
@token_options
def end_cmd(incident: str, reason: str, name: str | None, token: str | None) -> None:
    """End the drill in INCIDENT now (the newest drill when no #ID is given) and print its report."""
    cfg = settings()

    async def go() -> report.DrillScore | None:
        store, target = await locator.open_store(incident, playbook=cfg.playbook, token=token)
        try:
            incident_id = await _newest_drill(store, target)
            identity = getattr(store, "identity", None)
            who = identity.name if identity is not None else cfg.operator_name(name)
            await play.end(store, incident_id, actor=who, reason=reason)
            return await _score(store, incident_id, cfg.playbook)
        finally:
            await store.close()

    scores = run(go)
    if scores is not None:
        for text in report.lines(scores):
            click.echo(text)


@drill_group.command("list")
def list_cmd() -> None:
    """The shipped scenarios, each with its name in en, es and it."""
    book = settings().playbook
    for path in scenario.shipped():
        s = scenario.load(str(path), book)
        click.echo(f"{one_line(s.id, 40):16} " + " · ".join(one_line(s.name.get(lang), 60) for lang in scenario.LANGS))


class _Export(msgspec.Struct):
    events: list[Event]


def _from_export(path: Path) -> list[Event]:
    try:
        return msgspec.json.decode(path.read_bytes(), type=_Export).events
    except (OSError, msgspec.DecodeError) as exc:
        raise InvalidInput("FILE_OR_INCIDENT", f"{path}: not a json export ({exc})") from None


async def _scores_in(raw: str, book: Playbook, token: str | None) -> list[report.DrillScore]:
    if raw.endswith(".json") and "://" not in raw:
        found = report.score(_from_export(Path(raw)), book)
        return [found] if found is not None else []
    store, target = await locator.open_store(raw, playbook=book, read_only=True, token=token)
    try:
        ids = [target.incident_id] if target.incident_id else [i.id for i in await store.list_incidents() if i.drill]
        out = []
        for incident_id in ids:
            found = await _score(store, incident_id, book)
            if found is not None:
                out.append(found)
        return out
    finally:
        await store.close()


@click.command("drills")
@click.argument("sources", metavar="FILE_OR_INCIDENT...", nargs=-1, required=True)
@token_options
def drills_cmd(sources: tuple[str, ...], token: str | None) -> None:
    """Compare each scenario's drill runs in these files, incidents or json exports over time:
    first response, holding statement, SLA breaches among the widest reach, checklist pass
    rate, decision latency and score (real incidents are left out)."""
    book = settings().playbook

    async def go() -> list[report.DrillScore]:
        out: list[report.DrillScore] = []
        for raw in sources:
            out += await _scores_in(raw, book, token)
        return out

    scores = run(go)
    if not scores:
        click.echo(f"crisis-tui: no drill in {', '.join(sources)} (crisis-tui drill SCENARIO FILE starts one)", err=True)
        raise SystemExit(2)
    for text in [*report.table(report.trend(scores)), *report.progress(scores)]:
        click.echo(text)
    click.echo("times in scenario minutes; SLA top: breaches among the comments with the widest reach")


def register(group: click.Group) -> None:
    group.add_command(drill_group)
    group.add_command(drills_cmd)

