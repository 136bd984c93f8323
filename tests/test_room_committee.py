"""Stories of the committee in the room, over both transports: the incident's controls and the
hand-over keys are for decision power (the room says so before sending anything), the holder
of a comment taken over is told, the approval inbox lists what I may approve and opens it, the
author hears of the verdict, a decision needs its rationale and the vote dialog shows it."""

from __future__ import annotations

from textual.widgets import Input, OptionList, SelectionList, Static

from crisis_tui.app import CrisisApp
from crisis_tui.playbook import Playbook
from crisis_tui.screens.approval_dialog import ConfirmApproval
from crisis_tui.screens.approval_inbox import ApprovalInbox
from crisis_tui.screens.committee_forms import HandOverForm, IncidentControls
from crisis_tui.screens.forms import ProposeDecision, VoteDecision
from crisis_tui.screens.pickers import FilterStream
from crisis_tui.store.protocol import IncidentStore
from crisis_tui.widgets.editor import ResponseEditor
from tests.room_support import comments, loaded, make_app, screen_text, wait_for

TO_MARTA = "Hola Marta, sentimos mucho la espera del reembolso. Hoy revisamos su caso y le escribimos por correo."


def toasts(app: CrisisApp, title: str | None = None) -> list[str]:
    return [str(n.message) for n in app._notifications if title is None or n.title == title]


def timeline(app: CrisisApp) -> list[str]:
    return [entry.text for entry in app.room.state.timeline]


async def three_comments(store: IncidentStore, incident: str) -> None:
    """Dan (#3) first in the stream, then Marta (#1), then Giorgia (#2)."""
    await store.ingest(incident, comments(priorities=[0.6, 0.3, 0.9]))


async def test_a_manager_changes_the_incident_from_the_room_with_a_reason(
    store: IncidentStore, incident: str, book: Playbook
) -> None:
    app = make_app(store, incident, book, me="Luis", role="gm")
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        assert {"room.incident", "room.take_over", "room.reassign"} <= {b.id for b in app.room.command_bindings()}
        await pilot.press("I")
        await wait_for(pilot, lambda: isinstance(app.screen, IncidentControls))
        form = app.screen
        form.query_one("#incident-severity").value = "sev1"  # type: ignore[attr-defined]
        form.query_one("#incident-fault").value = True  # type: ignore[attr-defined]
        form.query_one("#incident-why", Input).focus()
        await pilot.press(*"the app update broke refunds", "enter")
        await wait_for(pilot, lambda: app.room.state.severity == "sev1")
        changed = await store.get_incident(incident)
        assert (changed.severity, changed.our_fault) == ("sev1", True)
        await wait_for(pilot, lambda: "Luis (gm) marked the error as ours, set severity to sev1: the app update "
                                      "broke refunds" in timeline(app))


async def test_without_decision_power_the_room_refuses_before_sending_anything(
    store: IncidentStore, incident: str, book: Playbook
) -> None:
    await three_comments(store, incident)
    await store.heartbeat(incident, actor="Giulia", role="care")
    await store.claim(incident, 3, actor="Giulia")
    app = make_app(store, incident, book, me="Ana", role="cm")
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await loaded(pilot)
        offered = {b.id for b in app.room.command_bindings()}
        assert "room.inbox" in offered and not offered & {"room.incident", "room.take_over", "room.reassign"}
        before = len(await store.events_after(incident))
        await pilot.press("I")
        await pilot.pause()
        await pilot.press("T")
        await pilot.pause()
        assert not isinstance(app.screen, (IncidentControls, HandOverForm))
        assert toasts(app) == [
            "only a member with decision power (gm, marketing, client) can change the incident; Ana is cm",
            "only a member with decision power (gm, marketing, client) can take over or reassign a comment; Ana is cm",
        ]
        events = await store.events_after(incident)
        assert [e.kind for e in events[before:] if e.kind != "operator.focus"] == []


async def test_a_manager_takes_over_and_reassigns_a_held_comment(
    store: IncidentStore, incident: str, book: Playbook
) -> None:
    await three_comments(store, incident)
    await store.heartbeat(incident, actor="Ana", role="cm")
    await store.heartbeat(incident, actor="Giulia", role="care")
    await store.claim(incident, 3, actor="Ana")
    await store.save_draft(incident, "Hi Dan, we are", actor="Ana", comment_id=3)
    app = make_app(store, incident, book, me="Luis", role="gm")
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await loaded(pilot)
        await pilot.press("T")
        await wait_for(pilot, lambda: isinstance(app.screen, HandOverForm))
        await pilot.press(*"Ana went home", "enter")
        await wait_for(pilot, lambda: app.room.state.rows[3].holder == "Luis")
        assert (await store.get_comment(incident, 3)).holder == "Luis"
        await pilot.press("R")
        await wait_for(pilot, lambda: isinstance(app.screen, HandOverForm))
        options = app.screen.query_one(OptionList)
        assert [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)] == ["Ana", "Giulia"]
        await pilot.press("down", "enter", *"care has the refund", "enter")
        await wait_for(pilot, lambda: app.room.state.rows[3].holder == "Giulia")
        await wait_for(pilot, lambda: "Luis handed @dan_reviews (#3) from Luis to Giulia: care has the refund"
                       in timeline(app))
        assert [d.body for d in await store.drafts(incident, comment_id=3)] == ["Hi Dan, we are"]


async def test_the_holder_is_told_when_their_comment_is_taken_over(
    store: IncidentStore, incident: str, book: Playbook
) -> None:
    await three_comments(store, incident)
    await store.heartbeat(incident, actor="Luis", role="gm")
    app = make_app(store, incident, book, me="Ana", role="cm")
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await loaded(pilot)
        await store.claim(incident, 3, actor="Ana")
        await wait_for(pilot, lambda: app.room.state.rows[3].holder == "Ana")
        await store.take_over(incident, 3, actor="Luis", reason="the client asked me")
        await wait_for(pilot, lambda: bool(toasts(app, "Comment taken over")))
        assert toasts(app, "Comment taken over") == [
            "Luis gave @dan_reviews (#3) to themselves: the client asked me; your draft stays with the comment"]


async def test_the_inbox_lists_what_i_may_approve_and_the_author_hears_the_verdict(
    store: IncidentStore, incident: str, book: Playbook
) -> None:
    await three_comments(store, incident)
    await store.heartbeat(incident, actor="Ana", role="cm")
    app = make_app(store, incident, book, me="Luis", role="gm")
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await loaded(pilot)
        await store.claim(incident, 1, actor="Ana")
        draft = await store.save_draft(incident, TO_MARTA, actor="Ana", comment_id=1)
        await store.set_draft_status(incident, draft.id, "in_review", actor="Ana")
        await wait_for(pilot, lambda: bool(toasts(app, "Needs your approval")))
        assert toasts(app, "Needs your approval") == [
            f"Ana submitted the reply to @marta_viaja (draft {draft.id}): x lists what waits for you"]
        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(app.screen, ApprovalInbox))
        assert "Needs my approval (1)" in screen_text(app)
        assert "reply to @marta_viaja · draft 1 v1 by Ana" in screen_text(app)
        await pilot.press("enter")
        editor = app.room.query_one(ResponseEditor)
        await wait_for(pilot, lambda: editor.target is not None and editor.target.draft_id == draft.id)
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmApproval))

    author = make_app(store, incident, book, me="Ana", role="cm")
    async with author.run_test(size=(120, 40), notifications=True) as pilot:
        await loaded(pilot)
        await store.heartbeat(incident, actor="Luis", role="gm")
        await store.set_draft_status(incident, draft.id, "approved", actor="Luis")
        await wait_for(pilot, lambda: bool(toasts(author, "Approved")))
        await store.save_draft(incident, TO_MARTA + " Gracias.", actor="Ana", draft_id=draft.id, base_version=1)
        # an edit after approval puts it back in review by itself
        await store.set_draft_status(incident, draft.id, "draft", actor="Luis")
        await wait_for(pilot, lambda: bool(toasts(author, "Sent back")))
        assert toasts(author, "Approved") == [f"Luis approved the reply to @marta_viaja (draft {draft.id}): it can be sent"]
        assert toasts(author, "Sent back") == [f"Luis sent the reply to @marta_viaja (draft {draft.id}) back to draft"]
        assert toasts(author, "Needs your approval") == []  # her own submission


async def test_the_filter_shows_the_comments_whose_reply_is_in_review(
    store: IncidentStore, incident: str, book: Playbook
) -> None:
    await three_comments(store, incident)
    app = make_app(store, incident, book, me="Luis", role="gm")
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        await pilot.press("slash")
        await wait_for(pilot, lambda: isinstance(app.screen, FilterStream))
        statuses = app.screen.query_one("#filter-status", SelectionList)
        statuses.select("in_review")
        app.screen.submit()  # type: ignore[attr-defined]
        await wait_for(pilot, lambda: app.room.state.filter.active)
        assert len(app.room.state) == 0
        await store.claim(incident, 2, actor="Ana")
        draft = await store.save_draft(incident, "Ciao Giorgia, ci scusiamo", actor="Ana", comment_id=2)
        await store.set_draft_status(incident, draft.id, "in_review", actor="Ana")
        await wait_for(pilot, lambda: [r.id for r in app.room.state.visible] == [2])
        await store.set_draft_status(incident, draft.id, "draft", actor="Ana")
        await wait_for(pilot, lambda: len(app.room.state) == 0)


async def test_a_decision_needs_its_rationale_and_the_vote_shows_it(
    store: IncidentStore, incident: str, book: Playbook
) -> None:
    app = make_app(store, incident, book, me="Ana", role="cm")
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, ProposeDecision))
        await pilot.press(*"Pause the ads", "enter", "enter")
        await pilot.pause()
        assert isinstance(app.screen, ProposeDecision)
        assert "the decision needs its rationale" in str(app.screen.query_one("#form-error", Static).content)
        assert app.screen.focused is app.screen.query_one("#decision-rationale", Input)
        await pilot.press(*"the campaign is tone-deaf while refunds wait", "enter")
        await wait_for(pilot, lambda: bool(app.room.state.decisions))
        (decision,) = await store.decisions(incident)
        assert (decision.title, decision.rationale) == ("Pause the ads", "the campaign is tone-deaf while refunds wait")
        await pilot.press("v")
        await wait_for(pilot, lambda: isinstance(app.screen, VoteDecision))
        await pilot.pause()
        assert "the campaign is tone-deaf while refunds wait" in screen_text(app)
