"""Stories of the approver in the room, over both transports: `a` approves the draft open in
the Reply pane and nothing else, the confirmation always shows the text, its version and who
saved it, and a draft saved by someone else while the approver reads it is refused."""

from __future__ import annotations

from textual.containers import VerticalScroll

from crisis_tui.app import CrisisApp
from crisis_tui.model import Draft
from crisis_tui.playbook import Playbook
from crisis_tui.screens.approval_dialog import ConfirmApproval
from crisis_tui.store.protocol import IncidentStore
from crisis_tui.widgets.editor import ResponseEditor
from tests.room_support import comments, loaded, make_app, screen_text, wait_for

TO_DAN = "Hi Dan, we are sorry about the wait for your refund. We will check your case today and write to you by email."
TO_MARTA = "Hola Marta, sentimos mucho la espera del reembolso. Hoy revisamos su caso y le escribimos por correo."
STATEMENT = "\n".join(
    ["We are sorry for the refund delays [red]and[/red] the wait."]
    + [f"{i}. Refunds from week {i} will be paid by Friday." for i in range(1, 30)]
    + ["We will post an update here tomorrow. [@click=app.quit]end[/]"]
)


def toasts(app: CrisisApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def in_review(store: IncidentStore, incident: str, author: str, text: str, comment_id: int | None) -> Draft:
    """`author` writes a reply to `comment_id` (holding the comment), or a statement, and submits it."""
    if comment_id is not None:
        await store.claim(incident, comment_id, actor=author)
    draft = await store.save_draft(incident, text, actor=author, comment_id=comment_id,
                                   kind="reply" if comment_id is not None else "statement")
    return await store.set_draft_status(incident, draft.id, "in_review", actor=author)


async def setup(store: IncidentStore, incident: str) -> tuple[Draft, Draft]:
    """Dan (comment 3, first in the stream) and Marta (comment 1, second) each have a reply in review."""
    await store.ingest(incident, comments(priorities=[0.6, 0.3, 0.9]))
    to_dan = await in_review(store, incident, "Ana", TO_DAN, 3)
    to_marta = await in_review(store, incident, "Carla", TO_MARTA, 1)
    return to_dan, to_marta


async def test_approving_shows_the_text_version_and_author_even_when_every_rule_passes(
    store: IncidentStore, incident: str, book: Playbook
) -> None:
    to_dan, _ = await setup(store, incident)
    app = make_app(store, incident, book, me="Luis", role="gm")
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        await pilot.press("r")  # Dan's comment is Ana's: her reply opens read-only in the Reply pane
        editor = app.room.query_one(ResponseEditor)
        await wait_for(pilot, lambda: editor.target is not None and editor.target.draft_id == to_dan.id)
        await pilot.press("escape", "a")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmApproval))
        await pilot.pause()
        shown = screen_text(app)
        assert f"Approve draft {to_dan.id} v1?" in shown
        assert "Reply to @dan_reviews" in shown and "saved by Ana" in shown
        assert "We will check your case today" in shown
        assert "✓ every automatic rule passes" in shown
        assert (await store.get_draft(incident, to_dan.id)).status == "in_review"  # nothing approved unseen
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.room.state.drafts[to_dan.id].status == "approved")
        stored = await store.get_draft(incident, to_dan.id)
        assert stored.approvals == ["Luis"] and stored.version == 1
        await wait_for(pilot, lambda: f"draft {to_dan.id} v1 approved" in toasts(app))


async def test_a_approves_the_open_reply_never_the_comment_under_the_cursor(
    store: IncidentStore, incident: str, book: Playbook
) -> None:
    to_dan, to_marta = await setup(store, incident)
    app = make_app(store, incident, book, me="Luis", role="gm")
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        await pilot.press("r")
        editor = app.room.query_one(ResponseEditor)
        await wait_for(pilot, lambda: editor.target is not None and editor.target.draft_id == to_dan.id)
        await pilot.press("escape", "down")  # the cursor moves on to Marta; the Reply pane still shows Dan's
        assert app.room.stream.cursor_row is not None and app.room.stream.cursor_row.id == 1
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmApproval))
        assert isinstance(app.screen, ConfirmApproval) and app.screen.draft.id == to_dan.id
        await pilot.pause()
        assert "We will check your case today" in screen_text(app) and "Hola Marta" not in screen_text(app)
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.room.state.drafts[to_dan.id].status == "approved")
        assert (await store.get_draft(incident, to_marta.id)).status == "in_review"


async def test_with_nothing_open_a_approves_nothing_and_says_what_to_do(
    store: IncidentStore, incident: str, book: Playbook
) -> None:
    _, to_marta = await setup(store, incident)
    statement = await in_review(store, incident, "Ana", STATEMENT, None)
    app = make_app(store, incident, book, me="Luis", role="gm")
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        await pilot.press("down")  # Marta's reply is in review under the cursor, a statement too
        await pilot.press("a")
        await wait_for(pilot, lambda: any("nothing open to approve" in t for t in toasts(app)))
        await pilot.pause(0.3)
        assert not isinstance(app.screen, ConfirmApproval)
        assert (await store.get_draft(incident, to_marta.id)).status == "in_review"
        assert (await store.get_draft(incident, statement.id)).status == "in_review"


async def test_a_long_statement_is_shown_literally_and_scrolls(store: IncidentStore, incident: str,
                                                               book: Playbook) -> None:
    statement = await in_review(store, incident, "Ana", STATEMENT, None)
    app = make_app(store, incident, book, me="Luis", role="gm")
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        await pilot.press("w")  # opens the statement in review
        editor = app.room.query_one(ResponseEditor)
        await wait_for(pilot, lambda: editor.target is not None and editor.target.draft_id == statement.id)
        await pilot.press("escape", "a")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmApproval))
        await pilot.pause()
        box = app.screen.query_one("#approve-text-box", VerticalScroll)
        shown = screen_text(app)
        assert "Public statement" in shown and "saved by Ana" in shown
        assert "[red]and[/red]" in shown  # markup is text here, never styling
        assert box.max_scroll_y > 0 and "[@click=app.quit]" not in shown  # the end is below the fold
        await pilot.press("end")
        await wait_for(pilot, lambda: "[@click=app.quit]end[/]" in screen_text(app))
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.room.state.drafts[statement.id].status == "approved")
        assert app.is_running


async def test_a_draft_saved_by_someone_else_while_the_approver_reads_it_is_refused(
    store: IncidentStore, incident: str, book: Playbook
) -> None:
    to_dan, _ = await setup(store, incident)
    app = make_app(store, incident, book, me="Luis", role="gm")
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        await pilot.press("r")
        editor = app.room.query_one(ResponseEditor)
        await wait_for(pilot, lambda: editor.target is not None and editor.target.draft_id == to_dan.id)
        await pilot.press("escape", "a")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmApproval))
        changed = TO_DAN + " Call us at 555 0100."  # Ana edits and submits again while Luis reads v1
        await store.save_draft(incident, changed, actor="Ana", base_version=1, draft_id=to_dan.id)
        await store.set_draft_status(incident, to_dan.id, "in_review", actor="Ana")
        await wait_for(pilot, lambda: app.room.state.drafts[to_dan.id].version == 2
                       and app.room.state.drafts[to_dan.id].status == "in_review")
        await pilot.press("enter")  # approving what was read: v1
        await wait_for(pilot, lambda: any("Draft changed" == n.title for n in app._notifications))
        (note,) = [t for t in toasts(app) if t.startswith("not approved")]
        assert f"draft {to_dan.id} changed to v2 (saved by Ana) while you read v1" in note
        stored = await store.get_draft(incident, to_dan.id)
        assert stored.status == "in_review" and stored.approvals == [] and stored.body == changed
        await pilot.press("a")  # again: now the new text is shown, and approving it approves v2
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmApproval))
        assert isinstance(app.screen, ConfirmApproval) and app.screen.draft.version == 2
        await pilot.pause()
        assert "Call us at 555 0100." in screen_text(app)
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.room.state.drafts[to_dan.id].status == "approved")
        assert (await store.get_draft(incident, to_dan.id)).version == 2


async def test_over_failing_rules_the_confirmation_asks_for_the_reason_it_records(
    store: IncidentStore, incident: str, book: Playbook
) -> None:
    await store.ingest(incident, comments(priorities=[0.6, 0.3, 0.9]))
    short = await in_review(store, incident, "Ana", "ok", 3)
    app = make_app(store, incident, book, me="Luis", role="gm")
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        await pilot.press("r")
        editor = app.room.query_one(ResponseEditor)
        await wait_for(pilot, lambda: editor.target is not None and editor.target.draft_id == short.id)
        await pilot.press("escape", "a")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmApproval))
        await pilot.pause()
        shown = screen_text(app)
        assert "✗ failing rules:" in shown and "Approve with reason" in shown and "saved by Ana" in shown
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmApproval)  # an empty reason is refused in place
        assert "a written reason is required to override" in screen_text(app)
        await pilot.press(*"known customer, answered by phone", "enter")
        await wait_for(pilot, lambda: app.room.state.drafts[short.id].status == "approved")
        stored = await store.get_draft(incident, short.id)
        assert stored.override_reason == "known customer, answered by phone" and stored.approvals == ["Luis"]
