"""`crisis-tui update` as a newcomer runs it: a real process on a real file and on a real server."""

from __future__ import annotations

from pathlib import Path

from crisis_tui import events as ev
from crisis_tui.store.sqlite import SqliteStore
from crisis_tui.timeline_text import describe
from tests.test_cli_core import cli
from tests.test_server_support import ServeFactory, serve  # noqa: F401 - the fixture


def new_incident(db: Path) -> str:
    made = cli("new", str(db), "--title", "Refund delays", "--as", "Luis")
    assert made.returncode == 0, made.stderr
    return made.stdout.strip().splitlines()[-1]


async def timeline(db: Path, incident_id: str) -> list[str]:
    store = await SqliteStore.open(db)
    try:
        return [describe(e) for e in await store.events_after(incident_id) if isinstance(e.body, ev.IncidentUpdated)]
    finally:
        await store.close()


async def test_update_changes_severity_fault_and_status_on_the_record(tmp_path: Path) -> None:
    db = tmp_path / "room.db"
    inc = new_incident(db)
    target = f"{db}#{inc}"
    changed = cli("update", target, "--severity", "sev1", "--our-fault", "--why", "the app update broke refunds",
                  "--as", "Luis", "--role", "gm")
    assert changed.returncode == 0, changed.stderr
    assert changed.stdout.strip() == f"updated {inc}: 'Refund delays' · sev1 · our fault · open"
    closed = cli("update", target, "--close", "--why", "quiet for an hour", "--as", "Marta", "--role", "marketing")
    assert closed.returncode == 0, closed.stderr
    assert "· closed" in closed.stdout
    again = cli("update", target, "--close", "--as", "Marta", "--role", "marketing")
    assert again.returncode == 0 and again.stdout.startswith("nothing changed:")
    reopened = cli("update", target, "--reopen", "--not-our-fault", "--title", "Refund delays (app 4.2)",
                   "--as", "Luis", "--role", "gm", "--why", "it flared up; the bank's error after all")
    assert reopened.returncode == 0, reopened.stderr
    assert await timeline(db, inc) == [
        "Luis (gm) marked the error as ours, set severity to sev1: the app update broke refunds",
        "Marta (marketing) closed the incident: quiet for an hour",
        "Luis (gm) marked the error as not ours, reopened the incident, set title to Refund delays (app 4.2): "
        "it flared up; the bank's error after all",
    ]


async def test_update_refuses_without_decision_power_or_anything_to_change_in_one_clear_line(tmp_path: Path) -> None:
    db = tmp_path / "room.db"
    inc = new_incident(db)
    refused = cli("update", f"{db}#{inc}", "--severity", "sev1", "--as", "Ana", "--role", "cm")
    assert refused.returncode == 2
    assert refused.stderr.strip() == (
        "crisis-tui: only a member with decision power (gm, marketing, client) can change the incident; Ana is cm")
    unknown = cli("update", f"{db}#{inc}", "--severity", "sev9", "--as", "Luis", "--role", "gm")
    assert unknown.returncode == 2 and "sev9" in unknown.stderr and "Traceback" not in unknown.stderr
    nothing = cli("update", f"{db}#{inc}", "--as", "Luis")
    assert nothing.returncode == 2 and "nothing to change" in nothing.stderr
    assert await timeline(db, inc) == []


async def test_update_over_a_server_needs_a_lead_token_whose_seats_have_decision_power(serve: ServeFactory) -> None:
    served = await serve()
    lead = await served.store("Luis", "lead")
    inc = (await lead.create_incident("Refund delays", actor="Luis")).id
    target = f"{served.url}#{inc}"
    operator = cli("update", target, "--severity", "sev1", "--role", "gm",
                   "--token", await served.token("Ana", "operator"))
    assert operator.returncode == 2 and "lead token" in operator.stderr and "Traceback" not in operator.stderr
    care_only = cli("update", target, "--severity", "sev1", "--role", "gm",
                    "--token", await served.token("Sam", "lead", seats=["care"]))
    assert care_only.returncode == 2 and "may sit only as care" in care_only.stderr
    changed = cli("update", target, "--severity", "sev1", "--role", "gm", "--why", "press picked it up",
                  "--token", await served.token("Luis", "lead"))
    assert changed.returncode == 0, changed.stderr
    assert (await lead.get_incident(inc)).severity == "sev1"
    assert [describe(e) for e in await lead.events_after(inc) if isinstance(e.body, ev.IncidentUpdated)] == [
        "Luis (gm) set severity to sev1: press picked it up"]
