"""`crisis-tui wallboard`: the room's big screen, read-only by construction.

The app only wires: it refuses a store that can write (the command opens the
SQLite file read-only, or a server with a viewer token), starts from what the
store answers (`read_start`: the board a replay of the whole log would leave,
without the replay), follows the log from there in one worker
(`store.subscribe`) into `BoardState`, and at most four times a second
turns what changed into a few store reads and widget updates. A one-second
tick moves what depends on the clock (ages, the rolling rate, the trends). The
only keys are quit and theme; there is nothing else to press.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

from textual import events, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Static

from crisis_tui.errors import CrisisError, Forbidden, StoreUnavailable
from crisis_tui.model import Counts, Decision, Incident, Presence
from crisis_tui.playbook import Playbook
from crisis_tui.sla import standing
from crisis_tui.store.protocol import IncidentStore
from crisis_tui.wallboard.banner import SeverityBanner
from crisis_tui.wallboard.boards import DecisionsBoard, PresenceBoard, TimelineTail
from crisis_tui.wallboard.figure import BigFigure, Mood
from crisis_tui.wallboard.live import BoardState, read_sitrep, read_start
from crisis_tui.wallboard.trend import Trend
from crisis_tui.widgets.display import plain
from crisis_tui.widgets.rewrite_alarm import RewriteAlarm
from crisis_tui.witness import CHECK_S, Witness

THEMES = ("textual-dark", "textual-light", "ansi-dark")
LIVE = "● live"
RECONNECTING = "⟳ reconnecting…"
PRESENCE_POLL_S = 5.0
RETRY_S = 2.0
NEGATIVE_ALERT = 0.5


def clock_figure(seconds: float) -> str:
    """`mm:ss` under an hour, `h:mm` above (the label says which)."""
    whole = max(0, int(seconds))
    if whole >= 3600:
        return f"{whole // 3600}:{whole % 3600 // 60:02d}"
    return f"{whole // 60:02d}:{whole % 60:02d}"


def _words(seconds: float) -> str:
    whole = int(max(0, seconds))
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m" if whole >= 3600 else f"{whole // 60}m{whole % 60:02d}s"


class WallboardApp(App[None]):
    """The read-only big screen for one incident."""

    TITLE = "crisis-tui wallboard"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS = [
        Binding("q", "quit", "quit", id="wallboard.quit", tooltip="Leave the wallboard"),
        Binding("ctrl+q", "quit", "quit", show=False, id="wallboard.quit_ctrl"),
        Binding("t", "next_theme", "theme", id="wallboard.theme", tooltip="Next colour theme"),
    ]
    CSS = """
    Screen { layout: vertical; }
    #figures { height: auto; }
    #trends { height: auto; layout: horizontal; }
    #trends > Trend { height: 3; }
    #lower { height: 1fr; }
    #side { width: 1fr; }
    #timeline { width: 1fr; }
    #keys { height: 1; padding: 0 1; color: $text-muted; background: $panel; }
    Screen.-large #banner { height: 3; content-align: left middle; }
    Screen.-large #trends { layout: vertical; }
    Screen.-large #trends > Trend { height: 6; }
    Screen.-large #timeline { width: 2fr; }
    Screen.-medium #trends > Trend { height: 4; }
    #away { display: none; height: auto; padding: 0 1; background: $warning; color: $background; text-style: bold; }
    Screen.-away #away { display: block; }
    Screen.-away #figures, Screen.-away #trends { opacity: 60%; }
    """

    def __init__(
        self,
        store: IncidentStore,
        incident_id: str,
        *,
        playbook: Playbook,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not store.read_only:
            raise Forbidden("the wallboard only shows an incident opened read-only")
        super().__init__()
        self.store = store
        self.incident_id = incident_id
        self.playbook = playbook
        self.clock = clock
        self.state = BoardState()
        self.incident: Incident | None = None
        self.counts = Counts()
        self.decisions: list[Decision] = []
        self.people: list[Presence] = []
        self.link = LIVE
        #: When the source went away (None while live): the board's clock stops there, so no
        #: age or "within SLA" keeps running as if live, and a band says since when.
        self.away_since: float | None = None
        self._applying = False
        #: Whether `state` holds the store's start (until then nothing is followed).
        self.started = False
        self.witness = Witness(store, incident_id)

    # ------------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        yield Static(Content(""), id="away")
        yield SeverityBanner(self.playbook, id="banner")
        with Horizontal(id="figures"):
            yield BigFigure("UNANSWERED", id="unanswered")
            yield BigFigure("OLDEST WAITING vs SLA", id="oldest")
            yield BigFigure("COMMENTS / MINUTE", id="rate")
        with Horizontal(id="trends"):
            yield Trend(id="volume")
            yield Trend(id="negative")
        with Horizontal(id="lower"):
            with Vertical(id="side"):
                yield PresenceBoard(self.playbook, id="presence")
                yield DecisionsBoard(id="decisions")
            yield TimelineTail(id="timeline")
        yield Static(Content(""), id="keys")

    def on_resize(self, event: events.Resize) -> None:
        self._fit(event.size.width, event.size.height)

    def _fit(self, width: int, height: int) -> None:
        large = width >= 160 and height >= 50
        medium = not large and width >= 110 and height >= 34
        self.screen.set_class(large, "-large")
        self.screen.set_class(medium, "-medium")

    def _connection(self, state: str) -> None:
        """The server went away or came back (a remote store only). Back, the board reads
        everything again: reads refused while it was away left parts of it stale."""
        self.link = LIVE if state == "live" else RECONNECTING
        self._away(state != "live")
        self.render_keys()
        if state == "live":
            self.run_worker(self.reload(), group="reload", exclusive=True, exit_on_error=False)

    def _read_failed(self, exc: CrisisError) -> None:
        """A server that is away is "reconnecting" (the stream retries by itself), whichever of
        the read and the stream noticed first; anything else is shown as it is."""
        away = isinstance(exc, StoreUnavailable) and self.store.connection_state != "live"
        self.link = RECONNECTING if away else f"✗ cannot read: {plain(exc, 120)}"
        self._away(away)

    def _away(self, away: bool) -> None:
        """Freeze the board's clock while its source is away (and start it again once back)."""
        if away and self.away_since is None:
            self.away_since = self.clock()
        elif not away:
            self.away_since = None
        self.screen.set_class(self.away_since is not None, "-away")

    async def on_mount(self) -> None:
        self.store.on_connection_state = self._connection
        self.theme = THEMES[0]
        self._fit(self.size.width, self.size.height)
        with contextlib.suppress(CrisisError):  # a store away now is the follow loop's to retry
            await self.start()
        await self.reload()
        with contextlib.suppress(CrisisError):  # a store away now is the follow loop's to report
            await self.witness.open()
        self.show_alarm()
        self.follow()
        self.set_interval(CHECK_S, self.witness_check)
        self.set_interval(1.0, self.tick)
        self.set_interval(0.25, self.apply_changes)
        self.set_interval(PRESENCE_POLL_S, self.poll_presence)

    def action_next_theme(self) -> None:
        current = THEMES.index(self.theme) if self.theme in THEMES else -1
        self.theme = THEMES[(current + 1) % len(THEMES)]

    # ------------------------------------------------------------- data flow
    async def start(self) -> None:
        """The board as a replay of the log would leave it, from the store's answers (read before
        `reload`, so the projections read then are at least as new as the start's head)."""
        try:
            self.state = await read_start(self.store, self.incident_id, self.clock())
        except CrisisError as exc:
            self._read_failed(exc)
            raise
        self.started = True
        self.find_sitrep()

    async def reload(self) -> None:
        """Read everything the store projects (start, and after a reconnect)."""
        try:
            self.incident = await self.store.get_incident(self.incident_id)
            self.counts = await self.store.counts(self.incident_id)
            self.decisions = await self.store.decisions(self.incident_id)
            self.people = await self.store.presence(self.incident_id)
        except CrisisError as exc:
            self._read_failed(exc)
        self.render_all()

    @work(exclusive=True, group="follow")
    async def follow(self) -> None:
        """Start from the store's answers, then feed the log after them into the board state,
        live; retry when cut off."""
        while True:
            try:
                if not self.started:
                    await self.start()
                    await self.reload()
                async for event in self.store.subscribe(self.incident_id, self.state.last_seq):
                    self.state.feed(event)
                    if self.witness.saw((event,)) is not None:
                        self.show_alarm()
                    if self.link != LIVE:
                        self.link = LIVE
                        self._away(False)
                return
            except CrisisError as exc:
                self.link = f"✗ disconnected: {plain(exc, 120)} (retrying)"
                self._away(True)
                self.render_keys()
                await asyncio.sleep(RETRY_S)

    @work(exclusive=True, group="sitrep")
    async def find_sitrep(self) -> None:
        """The last situation report before the start, looked for behind the first screen (a log
        without one is walked back to its first event)."""
        while True:
            try:
                await read_sitrep(self.store, self.incident_id, self.state)
                self.render_keys()
                return
            except CrisisError:
                await asyncio.sleep(RETRY_S)

    async def apply_changes(self) -> None:
        """Turn what the log changed into the few store reads it needs, then repaint."""
        if self._applying:
            return
        changed = self.state.take_changes()
        if not changed:
            return
        self._applying = True
        try:
            if "incident" in changed:
                self.incident = await self.store.get_incident(self.incident_id)
            if "comments" in changed:
                self.counts = await self.store.counts(self.incident_id)
            if "decisions" in changed:
                self.decisions = await self.store.decisions(self.incident_id)
            if "presence" in changed:
                self.people = await self.store.presence(self.incident_id)
        except CrisisError as exc:
            self.state.changed |= changed
            self._read_failed(exc)
        finally:
            self._applying = False
        self.render_all()

    async def poll_presence(self) -> None:
        """Heartbeats are not events: ask who is still here every few seconds."""
        try:
            self.people = await self.store.presence(self.incident_id)
        except CrisisError:
            return
        self.query_one(PresenceBoard).show(self.people, self.clock())

    async def witness_check(self) -> None:
        """Does the log still extend what this board has seen? (crisis_tui.witness)"""
        if self.witness.alarm is None:
            with contextlib.suppress(CrisisError):
                await self.witness.check()
            self.show_alarm()

    def show_alarm(self) -> None:
        """The witness's alarm across the top, for good, once raised."""
        alarm = self.witness.alarm
        if alarm is not None and not self.query(RewriteAlarm):
            self.screen.mount(RewriteAlarm(alarm.message), before=0)

    def tick(self) -> None:
        self.render_all()

    # --------------------------------------------------------------- drawing
    def render_all(self) -> None:
        # Away, every figure is told as of when the source was last seen, never "now".
        now = self.away_since if self.away_since is not None else self.clock()
        if not self.screen.query(TimelineTail):
            return  # quit while a read was on its way: the board is already taken down
        with self.batch_update():
            self.render_away()
            if self.incident is not None:
                self.query_one(SeverityBanner).show(self.incident, now)
            self.render_figures(now)
            self.render_trends(now)
            self.query_one(PresenceBoard).show(self.people, now)
            self.query_one(DecisionsBoard).show(self.decisions)
            timeline = self.query_one(TimelineTail)
            timeline.show(self.state.timeline(timeline.wanted))
            self.render_keys()

    def render_figures(self, now: float) -> None:
        counts = self.counts
        waiting = counts.unanswered
        sla = self.playbook.sla_seconds(self.incident.severity if self.incident else self.playbook.default_severity)
        unanswered_mood: Mood = "ok" if waiting == 0 else "warn"
        self.query_one("#unanswered", BigFigure).show(
            str(waiting),
            "✓ nothing waiting" if waiting == 0 else
            f"● {counts.new} new · {counts.claimed} claimed · {counts.escalated} escalated",
            unanswered_mood,
        )
        oldest = self.query_one("#oldest", BigFigure)
        sla_words = clock_figure(sla)
        if counts.oldest_unanswered_at is None or waiting == 0:
            oldest.show("--:--", f"✓ none waiting · SLA {sla_words}", "ok", label=f"OLDEST · SLA {sla_words}")
        else:
            age = max(0.0, now - counts.oldest_unanswered_at)
            unit = "h:mm" if age >= 3600 else "mm:ss"
            label = f"OLDEST {unit} · SLA {sla_words}"
            where = standing(age, sla)
            if where == "over":
                oldest.show(clock_figure(age), f"✗ OVER SLA by {_words(age - sla)}", "bad", label=label)
            elif where == "near":
                oldest.show(clock_figure(age), f"! near SLA: {_words(sla - age)} left", "warn", label=label)
            else:
                oldest.show(clock_figure(age), f"✓ within SLA: {_words(sla - age)} left", "ok", label=label)
        rate = self.state.per_minute(now)
        before = self.state.per_minute(now, minutes_ago=1)
        if rate > before * 1.2 and rate - before >= 3:
            trend, mood = f"▲ rising (was {before})", "warn"
        elif rate < before * 0.8 and before - rate >= 3:
            trend, mood = f"▼ falling (was {before})", "ok"
        else:
            trend, mood = f"■ steady (was {before})", "idle"
        self.query_one("#rate", BigFigure).show(str(rate), trend, mood)  # type: ignore[arg-type]

    def render_trends(self, now: float) -> None:
        volume, share = self.state.trends(now)
        peak = max(volume)
        self.query_one("#volume", Trend).show(
            Content.assemble(("Volume", "bold"), f" · now {volume[-1]}/min · peak {peak}/min · last hour"),
            [float(v) for v in volume],
        )
        current = next((s for s in reversed(share) if s is not None), None)
        if current is None:
            words: Content = Content.assemble(("Negative share", "bold"), " · no comments in the last hour")
        else:
            alarm = current >= NEGATIVE_ALERT
            words = Content.assemble(
                ("Negative share", "bold"), " · latest ",
                (f"{'▲ ' if alarm else ''}{current * 100:.0f}% negative", "bold $text-error" if alarm else "bold"),
                (" (over half)" if alarm else ""), " · last hour",
            )
        self.query_one("#negative", Trend).show(words, share, top=1.0, alert=NEGATIVE_ALERT)

    def render_away(self) -> None:
        if self.away_since is None:
            return
        since = time.strftime("%H:%M:%S", time.localtime(self.away_since))
        gone = _words(self.clock() - self.away_since)
        self.query_one("#away", Static).update(Content(
            f"⟳ SOURCE AWAY since {since} ({gone}): every figure below is as of {since}, not now"))

    def render_keys(self) -> None:
        self.query_one("#keys", Static).update(Content.assemble(
            ("wallboard · read-only", "bold"), " · q quit · t theme · ",
            (self.link, "$text-success" if self.link.startswith("●") else "bold $text-error"),
            f" · {self.state.events_seen:,} events · ",
            "last sitrep: looking…" if not self.state.sitrep_known else
            "no sitrep yet" if self.state.last_sitrep is None else
            f"last sitrep {time.strftime('%H:%M', time.localtime(self.state.last_sitrep))}",
        ))
