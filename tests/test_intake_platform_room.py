"""A platform's own answer, ingested by the real command, is what the room shows."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from crisis_tui import locator
from crisis_tui.playbook import Playbook
from tests.room_support import loaded, make_app, screen_text

CLI = [sys.executable, "-m", "crisis_tui"]
DATA = Path(__file__).parent / "data" / "platforms"


async def test_a_reddit_tree_and_a_youtube_answer_ingested_by_preset_are_in_the_room(tmp_path: Path, book: Playbook) -> None:
    db = tmp_path / "room.db"
    assert subprocess.run([*CLI, "new", str(db), "--title", "T"], capture_output=True).returncode == 0
    for name in ("reddit_comments.json", "youtube_comment_threads.json"):
        (tmp_path / name).write_bytes((DATA / name).read_bytes())
        done = subprocess.run([*CLI, "ingest", str(db), str(tmp_path / name)], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
    store, incident = await locator.open_incident(str(db), playbook=book)
    try:
        app = make_app(store, incident, book)
        async with app.run_test(size=(160, 50)) as pilot:
            await loaded(pilot)
            shown = screen_text(app)
    finally:
        await store.close()
    for words in ("lumo_fan", "Doing what wrong? Clicking refund?", "Marta Gil", "Same here <3 weeks>"):
        assert words in shown, words
    assert "<b>" not in shown and "&amp;" not in shown
