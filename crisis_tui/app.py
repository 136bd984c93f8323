"""The Textual app: wiring only.

It registers the themes, applies the operator's keymap from the playbook,
asks which seat to take when the credential allows several and none was
named, pushes the room screen (which runs the sync worker), watches the
playbook for hot reload, plays the demo script in the background when asked,
and says goodbye to the committee on quit. It computes nothing itself.

A confined room (a shared host's seat, run by sshd as a forced command) has
nothing that leaves it: no screenshot written to the host's disk, and no URL
handed to a browser (on a terminal-only host that may be a text browser with
its own shell escape).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from rich.text import Text
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.notifications import SeverityLevel
from textual.screen import Screen

from crisis_tui import demo_script
from crisis_tui.errors import CrisisError, PlaybookError
from crisis_tui.playbook import Playbook
from crisis_tui.playbook_watch import LastGood, watch_playbook
from crisis_tui.screens.help import HelpScreen, help_sections
from crisis_tui.screens.pickers import RolePicker
from crisis_tui.screens.room import RoomScreen
from crisis_tui.store.protocol import IncidentStore
from crisis_tui.themes import THEMES
from crisis_tui.widgets.demo_caption import DemoCaption
from crisis_tui.widgets.display import plain, toast

THEME_VAR = "CRISIS_TUI_THEME"
#: Below this many columns the room is "-narrow" (app.tcss): slimmer side panes, one-line toasts.
NARROW = 100
NARROW_TOAST_SECONDS = 4.0


class CrisisApp(App[None]):
    """One operator in one incident room."""

    CSS_PATH = Path(__file__).with_name("app.tcss")
    TITLE = "crisis-tui"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (NARROW, "-wide")]
    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", id="app.quit", priority=True, tooltip="Leave the room (the draft is saved)"),
        Binding("f2", "next_theme", "Theme", show=False, id="app.theme", tooltip="Cycle the colour themes"),
        Binding("f1,question_mark", "help", "Help", key_display="?", id="app.help",
                tooltip="Every key of the pane you are in, and what it does now"),
    ]

    def __init__(
        self,
        store: IncidentStore,
        incident_id: str,
        playbook: Playbook,
        *,
        me: str,
        role: str | None,
        seats: Sequence[str] = (),
        confined: bool = False,
        demo_speed: float | None = None,
        demo_prepare: demo_script.Prepare | None = None,
        watch_playbook_file: bool = True,
        clock: Callable[[], float] = time.time,
        theme: str | None = None,
    ) -> None:
        super().__init__()
        self.store = store
        self.incident_id = incident_id
        self.rules = LastGood(playbook)
        self.me = me
        self.role = role or ""
        self.seats = tuple(seats)
        self.confined = confined
        self.demo_speed = demo_speed
        self.demo_prepare = demo_prepare
        self.watch_playbook_file = watch_playbook_file
        self.clock = clock
        self.requested_theme = theme or os.environ.get(THEME_VAR)
        self._room = self._room_for(role) if role else None
        self._unsaved_warned = False

    @property
    def room(self) -> RoomScreen:
        if self._room is None:
            raise RuntimeError("no seat taken yet: the room is not open")
        return self._room

    def on_mount(self) -> None:
        for theme in THEMES:
            self.register_theme(theme)
        if self.requested_theme:
            if self.requested_theme in self.available_themes:
                self.theme = self.requested_theme
            else:
                self.notify(f"unknown theme {self.requested_theme!r}; using {self.theme}", severity="warning",
                            markup=False)
        if self.rules.playbook.keys:
            self.set_keymap(self.rules.playbook.keys)
        if self._room is not None:
            self.push_screen(self._room)
        else:
            roles = [r for r in (self.rules.playbook.role(s) for s in self.seats) if r is not None]
            self.push_screen(RolePicker(roles, self.seats[0] if self.seats else ""), self._take_seat)
        source = self.rules.playbook.source
        if self.watch_playbook_file and source and Path(source).exists():
            self.run_worker(self._watch_playbook(Path(source)), name="playbook", group="playbook", exit_on_error=False)
        if self.demo_speed is not None:
            self.run_worker(self._play_demo(self.demo_speed), name="demo", group="demo", exit_on_error=False)

    def notify(self, message: str, *, title: str = "", severity: SeverityLevel = "information",
               timeout: float | None = None, markup: bool = False) -> None:
        """Every toast, whoever raises it, is its display form and never markup. Below NARROW
        columns a toast is one short-lived line over the footer (app.tcss), title folded in."""
        text, head = toast(message), plain(title, 120)
        if self.size.width < NARROW:
            text, head = (f"{head}: {plain(text, 2000)}" if head else plain(text, 2000)), ""
            timeout = min(self.NOTIFICATION_TIMEOUT if timeout is None else timeout, NARROW_TOAST_SECONDS)
        super().notify(text, title=head, severity=severity, timeout=timeout, markup=False)

    def action_help(self) -> None:
        """The keys of the screen as it is now, read before the help covers it."""
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(help_sections(self.screen)))

    def get_key_display(self, binding: Binding) -> str:
        """Keys come from the playbook's keymap: the footer and the palette show their display form."""
        return plain(super().get_key_display(binding), 20)

    def _take_seat(self, role: str | None) -> None:
        if role is None or role not in self.seats:
            self.exit()
            return
        self.role = role
        self._room = self._room_for(role)
        self.push_screen(self._room)

    def _room_for(self, role: str) -> RoomScreen:
        room = RoomScreen(self.store, self.incident_id, self.rules, self.me, role, clock=self.clock)
        room.confined = self.confined
        return room

    async def _watch_playbook(self, path: Path) -> None:
        async for item in watch_playbook(path):
            if isinstance(item, PlaybookError):
                self.rules.update(item)
                self.notify(f"playbook not reloaded (keeping the last good one): {item}", severity="error",
                            markup=False, timeout=10)
                continue
            self.rules.update(item)
            self.store.use_playbook(item)
            if item.keys:
                self.set_keymap(item.keys)
            if self._room is not None:
                self._room.playbook_changed()
            self.notify("playbook reloaded", markup=False, timeout=3)

    async def _play_demo(self, speed: float) -> None:
        """The script, narrated on one line under the panes; the scripted committee stays in the
        room (heartbeating) until the viewer quits."""
        caption = await self._demo_caption()
        total = len(demo_script.script())
        played = 0

        def announce(step: demo_script.Step) -> None:
            nonlocal played
            played += 1
            caption.show_step(played, total, step.caption)

        every = self.rules.playbook.presence.heartbeat_seconds
        self.run_worker(demo_script.keep_present(self.room.store, self.incident_id, every), name="demo-cast",
                        group="demo", exit_on_error=False)
        try:
            await demo_script.play(self.room.store, self.incident_id, speed=speed, prepare=self.demo_prepare,
                                   on_step=announce)
        except CrisisError as exc:
            caption.show_closing(f"the demo stopped: {exc}")
            return
        if speed and speed != float("inf"):
            await asyncio.sleep(demo_script.CLOSING_DELAY / speed)
        caption.show_closing(demo_script.CLOSING)

    async def _demo_caption(self) -> DemoCaption:
        """The caption line, placed under the room's panes once the room has composed them."""
        while not self.room.query("#room-body"):
            await asyncio.sleep(0.05)
        caption = DemoCaption(id="demo-caption")
        await self.room.mount(caption, after=self.room.query_one("#room-body"))
        return caption

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """Every room action is also in the command palette."""
        for command in super().get_system_commands(screen):
            if not (self.confined and command.title == "Screenshot"):
                yield command
        if isinstance(screen, RoomScreen):
            for binding in screen.command_bindings():
                key = plain(binding.key_display or binding.key.split(",")[0], 20)
                yield SystemCommand(
                    f"{binding.description} ({key})",
                    binding.tooltip or binding.description,
                    lambda action=binding.action: self.call_later(screen.run_action, action),
                )

    def action_next_theme(self) -> None:
        names = sorted(self.available_themes)
        self.theme = names[(names.index(self.theme) + 1) % len(names)] if self.theme in names else names[0]
        self.notify(f"theme: {self.theme}", markup=False, timeout=2)

    def open_url(self, url: str, *, new_tab: bool = True) -> None:
        """A confined room opens no URL: nothing in it may start a browser on the host it runs on."""
        if self.confined:
            self.notify("links are not opened from the room", severity="warning", markup=False, timeout=3)
            return
        super().open_url(url, new_tab=new_tab)

    def deliver_screenshot(self, filename: str | None = None, path: str | None = None,
                           time_format: str | None = None) -> str | None:
        """A confined room writes no file on the host it runs on."""
        if self.confined:
            self.notify("no screenshots in a seat's room", severity="warning", markup=False, timeout=3)
            return None
        return super().deliver_screenshot(filename, path, time_format)

    async def action_quit(self) -> None:
        """Save the draft and leave the room (the committee sees us leave), then exit.

        A draft the store refuses (a full disk) keeps the room open, once: the second
        ctrl+q leaves without it."""
        if self._room is not None:
            try:
                saved = await self._room.flush_draft()
                if not saved and not self._unsaved_warned:
                    self._unsaved_warned = True
                    self.notify("the draft is not saved (see above): it is still in the editor; "
                                "ctrl+q again leaves without it", severity="warning", markup=False, timeout=15)
                    return
                await self._room.sync.leave()
            except CrisisError as exc:
                # the room is closing, so a toast would not be seen: said on the terminal after exit
                self.exit(return_code=1, message=Text(f"crisis-tui: {exc}", style="red"))
                return
        self.exit()
