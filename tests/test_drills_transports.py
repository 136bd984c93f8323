"""A drill's rules hold on every transport (SQLite, HTTP, PostgreSQL, HTTP over PostgreSQL):
the flag is kept, a drill's notices are recorded only to drill targets, and a real incident's
log never takes a drill's events, whichever client writes them."""

from __future__ import annotations

import msgspec
import pytest

from crisis_tui import events as ev
from crisis_tui import playbook as playbook_mod
from crisis_tui.errors import Forbidden, InvalidInput
from crisis_tui.playbook import NotifyTarget, Playbook
from crisis_tui.store.protocol import IncidentStore

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
