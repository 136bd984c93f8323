"""Hot reload of the playbook: the room picks up edited rules without a restart.

`watch_playbook` watches the file's folder (editors save by writing a new file
and renaming it over the old one, which a watch on the file itself would lose),
and after each change that alters the file's bytes yields either the new,
validated Playbook or the PlaybookError saying what is wrong, in one line. It
never stops on a broken edit: the caller keeps its last good rules (`LastGood`
does that bookkeeping) and shows the error until the next save fixes it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

from watchfiles import Change, awatch

from crisis_tui import playbook as playbook_mod
from crisis_tui.errors import PlaybookError
from crisis_tui.playbook import Playbook
from crisis_tui.tone import ToneChecker, validate


def _snapshot(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def load_checked(path: Path) -> Playbook:
    """Read, validate and check the tone rules can be compiled (raises PlaybookError)."""
    book = playbook_mod.load(path)
    validate(book)
    ToneChecker(book)
    return book


async def watch_playbook(
    path: Path, stop_event: asyncio.Event | None = None, *, debounce_ms: int = 300
) -> AsyncIterator[Playbook | PlaybookError]:
    """Yield a new validated Playbook after each change of `path`, or the error."""
    target = Path(path).expanduser().resolve()
    if not target.parent.is_dir():
        yield PlaybookError(str(target), "", f"folder {target.parent} does not exist")
        return
    last = _snapshot(target)
    name = target.name

    def ours(change: Change, changed: str) -> bool:
        return Path(changed).name == name

    async for _changes in awatch(
        target.parent, watch_filter=ours, debounce=debounce_ms, stop_event=stop_event, recursive=False
    ):
        current = _snapshot(target)
        if current == last:
            continue
        last = current
        try:
            book = load_checked(target)
        except PlaybookError as exc:
            yield exc
            continue
        yield book


@dataclass
class LastGood:
    """The rules in force: the last playbook that loaded, and the error since, if any."""

    playbook: Playbook
    error: PlaybookError | None = None
    _checker: ToneChecker | None = field(default=None, init=False, repr=False)

    @property
    def checker(self) -> ToneChecker:
        """The tone rules compiled, on first use: their lexicons are ~20 ms of a room's start, in front
        of its first screen, for a checklist no one needs before they open a draft."""
        if self._checker is None:
            self._checker = ToneChecker(self.playbook)
        return self._checker

    def update(self, item: Playbook | PlaybookError) -> bool:
        """Take one item from `watch_playbook`; True when the rules changed."""
        if isinstance(item, PlaybookError):
            self.error = item
            return False
        self.playbook = item
        self._checker = None
        self.error = None
        return True
