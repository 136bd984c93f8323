"""Hot reload with a real file and real watchfiles: an edit reloads the rules,
a broken edit keeps the last good ones and reports the error, a fix recovers."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from crisis_tui import playbook as playbook_mod
from crisis_tui.errors import PlaybookError
from crisis_tui.playbook import Playbook
from crisis_tui.playbook_watch import LastGood, watch_playbook
from crisis_tui.tone import ToneContext

SHIPPED = playbook_mod.shipped_path().read_text(encoding="utf-8")
Item = Playbook | PlaybookError


class Watch:
    """A running watch_playbook whose items land in a queue."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.items: asyncio.Queue[Item] = asyncio.Queue()
        self.stop = asyncio.Event()
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        async for item in watch_playbook(self.path, self.stop, debounce_ms=100):
            await self.items.put(item)

    async def after_writing(self, text: str, *, replace: bool = False) -> Item:
        """Write the file (in place, or atomically like an editor) until the watcher reports it.

        The watcher may still be starting when the first write lands, so the
        write is repeated until an item arrives; identical rewrites of a change
        already reported are ignored by the watcher.
        """
        for _ in range(20):
            if replace:
                tmp = self.path.with_name(".playbook.toml.tmp")
                tmp.write_text(text, encoding="utf-8")
                os.replace(tmp, self.path)
            else:
                self.path.write_text(text, encoding="utf-8")
            try:
                return await asyncio.wait_for(self.items.get(), 1.5)
            except TimeoutError:
                continue
        raise AssertionError("the watcher never reported the change")

    async def close(self) -> None:
        self.stop.set()
        await asyncio.wait_for(self.task, 10)


@pytest.fixture
async def watch(tmp_path: Path) -> AsyncIterator[Watch]:
    path = tmp_path / "playbook.toml"
    path.write_text(SHIPPED, encoding="utf-8")
    running = Watch(path)
    try:
        yield running
    finally:
        await running.close()


async def test_an_edit_reloads_a_broken_edit_keeps_the_last_good_rules_and_a_fix_recovers(watch: Watch) -> None:
    rules = LastGood(playbook_mod.load(watch.path))
    assert rules.checker.check("Thanks!", ToneContext())[0].label == "calm"

    edited = await watch.after_writing(SHIPPED.replace('label = "calm"', 'label = "calm tone"'))
    assert isinstance(edited, Playbook)
    assert rules.update(edited) is True
    assert rules.checker.check("Thanks!", ToneContext())[0].label == "calm tone"

    broken = await watch.after_writing(SHIPPED.replace("[tone]", "[tone", 1))
    assert isinstance(broken, PlaybookError)
    assert str(broken).startswith(f"{watch.path}: not valid TOML")
    assert rules.update(broken) is False
    assert rules.error is broken
    assert rules.checker.check("Thanks!", ToneContext())[0].label == "calm tone"  # last good rules still in force

    fixed = await watch.after_writing(SHIPPED.replace("max_exclamations = 1", "max_exclamations = 3"), replace=True)
    assert isinstance(fixed, Playbook)
    rules.update(fixed)
    assert rules.error is None
    assert rules.checker.check("Thanks!!!", ToneContext())[0].passed is True


async def test_an_edit_that_breaks_a_rule_is_reported_with_its_key(watch: Watch) -> None:
    error = await watch.after_writing(SHIPPED.replace('id = "next_step"', 'id = "nextstep"'))
    assert isinstance(error, PlaybookError)
    assert error.key == "tone.rules[3].id"
    assert "no automatic check named 'nextstep'" in str(error)

    error = await watch.after_writing(SHIPPED.replace("canned_threshold = 0.85", "canned_threshold = 1.5"))
    assert isinstance(error, PlaybookError)
    assert str(error).endswith("tone.canned_threshold: must be between 0 and 1, got 1.5")


async def test_a_deleted_playbook_is_an_error_until_it_comes_back(watch: Watch) -> None:
    first = await watch.after_writing(SHIPPED.replace('label = "SLA"', 'label = "deadline"'))
    assert isinstance(first, Playbook)
    watch.path.unlink()
    gone = await asyncio.wait_for(watch.items.get(), 10)
    assert isinstance(gone, PlaybookError) and str(gone).endswith("no such file")
    back = await watch.after_writing(SHIPPED)
    assert isinstance(back, Playbook)


async def test_other_files_in_the_folder_are_ignored(watch: Watch) -> None:
    assert isinstance(await watch.after_writing(SHIPPED.replace('label = "focus"', 'label = "on topic"')), Playbook)
    (watch.path.parent / "notes.toml").write_text("not = [a playbook", encoding="utf-8")
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(watch.items.get(), 1.0)


async def test_a_missing_folder_is_reported_once(tmp_path: Path) -> None:
    items = [item async for item in watch_playbook(tmp_path / "nowhere" / "playbook.toml")]
    assert len(items) == 1 and isinstance(items[0], PlaybookError)
    assert "does not exist" in str(items[0])
