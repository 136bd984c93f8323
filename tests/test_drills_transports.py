"""A drill's rules hold on every transport (SQLite, HTTP, PostgreSQL, HTTP over PostgreSQL):
the flag is kept, a drill's notices are recorded only to drill targets, and a real incident's
log never takes a drill's events, whichever client writes them."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from crisis_tui import events as ev
from crisis_tui import playbook as playbook_mod
from crisis_tui.errors import Forbidden, InvalidInput
from crisis_tui.eventlog import encode_payload
from crisis_tui.playbook import NotifyTarget, Playbook
from crisis_tui.store.protocol import IncidentStore
from crisis_tui.store.sqlite import SqliteStore

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def book() -> Playbook:
    """The shipped playbook with one real target and one drill target."""
    shipped = playbook_mod.load(playbook_mod.shipped_path())
    return msgspec.structs.replace(shipped, notify=[
        NotifyTarget(name="care", url_env="CARE_URL", events=["decision_proposed"]),
        NotifyTarget(name="drill-desk", url_env="DESK_URL", events=["decision_proposed"], drill=True)])


async def test_a_drill_keeps_its_flag_and_its_rules_on_every_transport(store: IncidentStore) -> None:
    real = await store.create_incident("Refund delays", actor="Luis", severity="sev2")
    drill = await store.create_incident("Refund delays", actor="Luis", severity="sev2", again=True, drill=True)
    assert drill.drill and not real.drill
    assert (await store.get_incident(drill.id)).drill
    assert {i.id: i.drill for i in await store.list_incidents()} == {real.id: False, drill.id: True}

    with pytest.raises(Forbidden, match="a drill notifies only the playbook's drill targets; care is not one"):
        await store.record_notification(drill.id, 1, "decision_proposed", "words", actor="Luis", delivered=["care"])
    with pytest.raises(Forbidden, match="somebody"):
        await store.record_sitrep(drill.id, "report", actor="Luis", failed={"somebody": "down"})
    told = await store.record_notification(drill.id, 1, "decision_proposed", "words", actor="Luis",
                                           delivered=["drill-desk"])
    assert isinstance(told.body, ev.NotificationSent) and told.body.delivered == ["drill-desk"]
    # a real incident may tell anyone
    await store.record_notification(real.id, 1, "decision_proposed", "words", actor="Luis", delivered=["care"])

    inject = ev.encode(ev.DrillInject(minute=5, text="A journalist asks for a statement."))
    with pytest.raises(InvalidInput, match="belongs to a drill"):
        await store.alert(real.id, *inject, actor="Luis")
    written = await store.alert(drill.id, *inject, actor="Luis")
    assert written.body == ev.DrillInject(minute=5, text="A journalist asks for a statement.")
    # every drill kind reads back as its own type, the same on every transport
    mine: list[ev.EventBody] = [ev.DrillStarted(scenario="data-leak", name="Customer data leak", speed=10, lang="en",
                            first_response_minutes=10, holding_statement_minutes=30, duration_minutes=60),
            ev.DrillEnded(reason="the script ran out")]
    for body in mine:
        await store.alert(drill.id, *ev.encode(body), actor="Luis")
    got = [e.body for e in await store.events_after(drill.id, 0, 100) if isinstance(e.body, ev.Drill)]
    assert got == [written.body, *mine]


async def test_every_drill_kind_encodes_back_to_the_bytes_the_chain_hashed(tmp_path: Path, book: Playbook) -> None:
    async with await SqliteStore.open(tmp_path / "drill.db", playbook=book) as store:
        inc = (await store.create_incident("Drill", actor="Luis", drill=True)).id
        drills: list[ev.EventBody] = [ev.DrillStarted(scenario="s"), ev.DrillInject(minute=1.5, text="x"),
                                      ev.DrillEnded()]
        for one in drills:
            await store.alert(inc, *ev.encode(one), actor="Luis")
        rows = await store.raw_events(inc)
    seen = set()
    for row in rows:
        body = ev.decode_stored(str(row[4]), row[5])
        assert encode_payload(ev.encode(body)[1]) == row[5]
        seen.add(type(body))
    assert seen >= set(ev.Drill)
