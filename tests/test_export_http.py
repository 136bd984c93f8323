"""Exporting from a `crisis-tui serve` server with a viewer token: the same incident, loss-free."""

from __future__ import annotations

from pathlib import Path

from crisis_tui import locator
from crisis_tui.export import export_incident
from crisis_tui.importer import import_file
from crisis_tui.playbook import Playbook
from crisis_tui.store.sqlite import SqliteStore
from tests.test_export import make_demo
from tests.test_server_support import ServeFactory, serve  # noqa: F401 - the fixture


async def test_a_viewer_exports_over_http_and_the_import_is_identical(
    serve: ServeFactory, book: Playbook, tmp_path: Path  # noqa: F811
) -> None:
    served = await serve()
    inc = await make_demo(served.db, book)
    viewer, incident_id = await locator.open_incident(
        f"{served.url}/incidents/{inc}", playbook=book, read_only=True, token=await served.token("Eval", "viewer"))
    try:
        assert not hasattr(viewer, "raw_events")  # the generic, paged path
        (exported,) = await export_incident(viewer, incident_id, "json", tmp_path / "remote.json", playbook=book)
        (md,) = await export_incident(viewer, incident_id, "md", tmp_path / "remote.md", playbook=book)
    finally:
        await viewer.close()
    await import_file(exported, str(tmp_path / "copy.db"), playbook=book)
    original = await SqliteStore.open(served.db, read_only=True, playbook=book)
    copy = await SqliteStore.open(tmp_path / "copy.db", read_only=True, playbook=book)
    try:
        assert [r[1:] for r in await copy.raw_events(inc)] == [r[1:] for r in await original.raw_events(inc)]
        assert await copy.comments(inc) == await original.comments(inc)
    finally:
        await copy.close()
        await original.close()
    assert "## Review" in md.read_text(encoding="utf-8")
