"""The one sync worker: loads the incident, follows its log, keeps us present.

It talks only to the `IncidentStore` protocol (a shared SQLite file or a
server: it never asks which) and posts small dataclass messages to the room
screen, which applies them to its `RoomState` and repaints the panes that
changed. Events that arrive together are posted as one batch, so a burst of
200 comments a second is one repaint, not 200. A heartbeat every
`playbook.presence.heartbeat_seconds` says we are here (and what we are doing);
members silent for `gone_after_seconds` are marked gone. It is also the room's
witness (crisis_tui.witness): the room writes through its guarded store, which
refuses everything once the log no longer extends what the room has seen.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from asyncio.subprocess import Process
from dataclasses import dataclass, field
from typing import cast

import msgspec
from textual.message import Message
from textual.message_pump import MessagePump

from crisis_tui import events as ev
from crisis_tui.errors import CrisisError
from crisis_tui.model import CommentKeys, Decision, Draft, Event, Incident, Presence
from crisis_tui.packed_keys import LENGTH, PackedKeys, decoded, keys_page, length_of, page_bounds
from crisis_tui.playbook import Playbook
from crisis_tui.room_state import Row
from crisis_tui.store.protocol import IncidentStore
from crisis_tui.witness import CHECK_S, GuardedStore, Witness

#: Comments read whole for the first screen, before the rest of a large incident loads as keys: a
#: screenful many times over. At 1M (bench/scale_room.py) 3,000 of them took 75 ms to read and
#: 25 ms to index in front of the first screen; the keys of all the others follow within seconds.
FIRST_PAGE = 1000
#: Comments per page of the background load (compact columns: a million in 40 pages). Measured
#: at 1M (bench/scale_room.py): pages of 50,000 left the room at 414 MB resident (two pages in
#: flight, their rows freed into fragmented arenas), 25,000 at 373-378 MB, the load time the same
#: within the shared machine's noise.
PAGE = 25_000
#: Comments beyond the first page from which the background load has a loader process read them
#: (crisis_tui.loader_process): below, starting a Python costs more than the reads.
LOADER_FROM = 50_000
#: Pages of the loader the room may have waiting in its queue.
PAGES_AHEAD = 2
#: The longest the background load waits for the room to paint its first screen.
FIRST_SCREEN_WAIT_S = 1.0
TIMELINE_BACKLOG = 400


@dataclass
class Loaded(Message):
    """The incident as it was when we joined (the newest comments first; more follow)."""

    incident: Incident
    rows: list[Row]
    drafts: list[Draft]
    decisions: list[Decision]
    presence: list[Presence]
    backlog: list[Event]
    last_seq: int
    total: int


@dataclass
class MoreComments(Message):
    """An older page of a large incident's comments, as columns (loading in the background)."""

    keys: CommentKeys | PackedKeys
    loaded: int
    total: int
    done: bool
    #: Released by the room once it took the page in: the loader's pages wait for it, so the room's
    #: queue never holds a million comments' worth (None: nothing waits).
    taken: asyncio.Semaphore | None = None


@dataclass
class EventsArrived(Message):
    """Events appended to the log since the last batch, in order."""

    events: list[Event]


@dataclass
class PresenceRefreshed(Message):
    """Who is here, after our heartbeat and the expiry of the silent ones."""

    people: list[Presence]


@dataclass
class SyncTrouble(Message):
    """The store failed (a dead server, a locked file); the worker retries."""

    message: str
    recovered: bool = False


@dataclass
class ConnectionChanged(Message):
    """The store lost its server ("reconnecting") or has it back ("live")."""

    state: str


@dataclass
class WitnessAlarm(Message):
    """The log no longer extends what this room saw (crisis_tui.witness): the alarm, to show and keep."""

    text: str


@dataclass
class SyncWorker:
    """State of the sync worker; `run()` is what the app runs as its worker."""

    store: IncidentStore
    incident_id: str
    me: str
    role: str
    playbook: Playbook
    target: MessagePump
    focus: str = "joined"
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    #: Set by the room once its first screen is painted: the background load waits for it, so the
    #: first frame is not held up behind the merge of a page of 50,000.
    first_screen_shown: asyncio.Event = field(default_factory=asyncio.Event)
    _gone: bool = False
    #: Held by a heartbeat and by the leave: a beat in flight when the operator quits lands before
    #: the leave, never after it (a beat after the leave would show them present again).
    _presence_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _alarmed: bool = False
    #: Pages of the background load that came from the loader process (the rest were read here).
    pages_from_loader: int = 0
    #: Pages posted that the room has not taken in yet, at most PAGES_AHEAD.
    _room_ready: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(PAGES_AHEAD))
    witness: Witness = field(init=False)

    def __post_init__(self) -> None:
        self.witness = Witness(self.store, self.incident_id)
        # the room writes through this one: once the witness raises the alarm, every write is refused
        self.store = cast(IncidentStore, GuardedStore(self.store, self.witness))

    def _connection_changed(self, state: str) -> None:
        self.target.post_message(ConnectionChanged(state))

    def set_focus(self, focus: str) -> None:
        """What we are doing now ("replying to @user"); sent with the next heartbeat, at once."""
        if focus != self.focus:
            self.focus = focus
            self._wake.set()

    async def run(self) -> None:
        """Load, then follow the log and beat the heart until cancelled."""
        self.store.on_connection_state = self._connection_changed
        head = await self.witness.open()
        self._alarm()
        if not self.store.read_only and self.witness.alarm is None:
            await self._beat()
        last_seq = await self._load(head.seq if head else 0)
        loops = [asyncio.create_task(self._heartbeat_loop()), asyncio.create_task(self._witness_loop())]
        try:
            await self._follow(last_seq)
        finally:
            for task in loops:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            self.witness.save()

    async def leave(self) -> None:
        """Say goodbye on quit, so the committee sees us leave rather than time out.

        A leave the store refuses raises CrisisError for the app to say: the committee would
        otherwise see us present until the presence times out, and nobody would know why."""
        if self.store.read_only or self._gone:
            return
        async with self._presence_lock:
            self._gone = True
            try:
                await self.store.leave(self.incident_id, actor=self.me, reason="quit")
            except OSError as exc:
                raise CrisisError(f"could not record leaving the room: {exc}") from exc

    # ----------------------------------------------------------------- loading
    async def _load(self, last_seq: int) -> int:
        """Post the incident as of `last_seq` (the head the witness starts from)."""
        store, inc = self.store, self.incident_id
        incident = await store.get_incident(inc)
        backlog = await store.latest_events(inc, TIMELINE_BACKLOG)
        # Comment ids count 1, 2, 3... per incident, so the newest page starts near the newest
        # comment's id, which the log's latest comment.ingested says (no count of a million rows
        # in front of the first screen); a log whose tail holds no arrival is counted.
        newest = max((e.body.comment.id for e in backlog if isinstance(e.body, ev.CommentIngested)), default=None)
        total = newest if newest is not None else (await store.counts(inc)).total
        first_after = max(0, total - FIRST_PAGE)
        first = [Row.from_comment(c) for c in await store.comments(inc, after_id=first_after)]
        total = max([total, *(r.id for r in first)])
        self.target.post_message(Loaded(
            incident=incident, rows=first, drafts=await store.drafts(inc), decisions=await store.decisions(inc),
            presence=await store.presence(inc), backlog=[e for e in backlog if e.seq <= last_seq],
            last_seq=last_seq, total=max(total, len(first)),
        ))
        loaded = len(first)
        upper = first_after
        # Older pages newest first, as compact columns: each page is older than all loaded, so the
        # index merges it in one pass, and the screen fills from the top of the time order down.
        # Read and packed by a loader process where one can open the store (started now: it starts
        # while the first screen paints), else here.
        loader = await self._start_loader(upper) if upper > LOADER_FROM else None
        try:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.first_screen_shown.wait(), FIRST_SCREEN_WAIT_S)
        except BaseException:  # the room closed before its first screen: no loader left behind
            if loader is not None:
                await _stopped(loader)
            raise
        if loader is not None:
            upper, loaded = await self._pages_from(loader, upper, loaded, total)
        for lower, top in page_bounds(upper, PAGE):
            page = await keys_page(store, inc, lower, top)
            loaded += len(page.ids)
            self.target.post_message(MoreComments(page, loaded, total, done=lower == 0))
            await asyncio.sleep(0)
        return last_seq

    async def _start_loader(self, upper: int) -> Process | None:
        """The loader process (crisis_tui.loader_process) for ids up to `upper`, or None where the
        store is only this connection's (a server's client) or no process can start."""
        database = self.store.shared_at
        if database is None:
            return None
        spec = msgspec.json.encode({"database": database, "incident_id": self.incident_id, "upper": upper,
                                    "page": PAGE})
        try:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "crisis_tui.loader_process", stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
            assert proc.stdin is not None
            proc.stdin.write(spec)  # the URL goes by pipe, never on a command line others can read
            await proc.stdin.drain()
            proc.stdin.close()
        except OSError as exc:
            self.target.post_message(SyncTrouble(f"loading the older comments here: no loader process ({exc})",
                                                 recovered=True))
            return None
        return proc

    async def _pages_from(self, proc: Process, upper: int, loaded: int, total: int) -> tuple[int, int]:
        """Post the loader's pages as they come, at most `PAGES_AHEAD` ahead of the room; returns where
        it stopped (upper 0: every page came) and how many are loaded. A loader that fails, or sends
        what is not a page of ids (lower, upper], leaves the rest to the in-process loop."""
        assert proc.stdout is not None and proc.stderr is not None
        try:
            for lower, _ in page_bounds(upper, PAGE):
                header = await proc.stdout.readexactly(LENGTH)
                page = decoded(await proc.stdout.readexactly(length_of(header)))
                ids = page.id_array()
                if ids and (ids[0] <= lower or ids[-1] > upper):
                    raise ValueError(f"a page of ids {ids[0]}..{ids[-1]} where ({lower}, {upper}] was next")
                await self._room_ready.acquire()
                loaded += len(ids)
                self.pages_from_loader += 1
                self.target.post_message(MoreComments(page, loaded, total, done=lower == 0, taken=self._room_ready))
                upper = lower
        except (asyncio.IncompleteReadError, ValueError, OSError) as exc:
            said = (await proc.stderr.read()).decode("utf-8", "replace").strip().splitlines()
            why = said[-1] if said else (f"it stopped ({exc})" if isinstance(exc, asyncio.IncompleteReadError)
                                         else str(exc))
            self.target.post_message(SyncTrouble(f"loading the older comments here: the loader process: {why}",
                                                 recovered=True))
        finally:
            await _stopped(proc)
        return upper, loaded

    # ------------------------------------------------------------------ follow
    async def _follow(self, after_seq: int) -> None:
        """Events from the store's subscription, posted in batches; retried after failures."""
        delay = 0.5
        while True:
            queue: asyncio.Queue[Event] = asyncio.Queue()
            pump = asyncio.create_task(self._pump(after_seq, queue))
            try:
                while True:
                    getter = asyncio.ensure_future(queue.get())
                    done, _ = await asyncio.wait({getter, pump}, return_when=asyncio.FIRST_COMPLETED)
                    if getter not in done:
                        getter.cancel()
                        pump.result()  # raises what the subscription raised
                        raise CrisisError("the store's event stream ended")
                    batch = [getter.result()]
                    while not queue.empty() and len(batch) < 5000:
                        batch.append(queue.get_nowait())
                    after_seq = batch[-1].seq
                    if delay > 0.5:
                        self.target.post_message(SyncTrouble("back in sync", recovered=True))
                        delay = 0.5
                    self.witness.saw(batch)
                    self._alarm()
                    self.target.post_message(EventsArrived(batch))
            except (CrisisError, OSError) as exc:
                self.target.post_message(SyncTrouble(f"sync: {exc}; retrying in {delay:.0f}s"))
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
            finally:
                pump.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await pump

    async def _pump(self, after_seq: int, queue: asyncio.Queue[Event]) -> None:
        async for event in self.store.subscribe(self.incident_id, after_seq):
            queue.put_nowait(event)

    # ----------------------------------------------------------------- witness
    def _alarm(self) -> None:
        """Post the alarm once, when it is raised."""
        if self.witness.alarm is not None and not self._alarmed:
            self._alarmed = True
            self.target.post_message(WitnessAlarm(self.witness.alarm.message))

    async def _witness_loop(self) -> None:
        while self.witness.alarm is None:
            await asyncio.sleep(CHECK_S)
            with contextlib.suppress(CrisisError, OSError):  # an unreachable store is the sync's trouble to report
                await self.witness.check()
            self._alarm()

    # ---------------------------------------------------------------- presence
    async def _beat(self) -> None:
        async with self._presence_lock:
            if self._gone:
                return
            await self.store.heartbeat(self.incident_id, actor=self.me, role=self.role, focus=self.focus)

    async def _heartbeat_loop(self) -> None:
        every = max(0.2, float(self.playbook.presence.heartbeat_seconds))
        gone_after = float(self.playbook.presence.gone_after_seconds)
        while True:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), every)
            self._wake.clear()
            if self._gone:  # left while waiting: no expiry pass, no presence refresh after the leave
                return
            try:
                if not self.store.read_only and self.witness.alarm is None:
                    await self._beat()
                    await self.store.expire_presence(self.incident_id, gone_after)
                self.target.post_message(PresenceRefreshed(await self.store.presence(self.incident_id)))
            except (CrisisError, OSError) as exc:
                self.target.post_message(SyncTrouble(f"heartbeat: {exc}"))


async def _stopped(proc: Process) -> None:
    """The loader process ended (killed if it still runs) and reaped."""
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
    await proc.wait()
