"""The room's compact index on its own: a large load in pages, filters, orders, rows built on demand."""

from __future__ import annotations

import random

import msgspec

from crisis_tui.comment_index import DETAILS_CACHED
from crisis_tui.comment_rows import PENDING_TEXT
from crisis_tui.model import Comment, CommentKeys
from crisis_tui.room_state import Filter, RoomState

WORDS = ["refund", "late", "Boycott", "thanks", "Straße", "ÉCLAIR"]


def comment(cid: int, rng: random.Random) -> Comment:
    return Comment(id=cid, incident_id="inc", source=rng.choice(["x", "instagram", "tiktok"]), external_id=f"e{cid}",
                   author=f"@user{cid % 7}", text=f"{rng.choice(WORDS)} number {cid}", received_at=1000.0 + cid,
                   posted_at=1000.0 + rng.randint(0, 5000), priority=rng.choice([0.0, 0.5, rng.random()]),
                   status=rng.choice(["new", "new", "answered", "claimed"]), holder=None,
                   cluster=f"c{cid % 11}" if cid % 3 else "")


def keys_of(comments: list[Comment]) -> CommentKeys:
    return CommentKeys(
        ids=[c.id for c in comments], priority=[c.priority for c in comments], since=[c.since for c in comments],
        status=[c.status for c in comments], source=[c.source for c in comments],
        author=[c.author for c in comments], text=[c.text for c in comments],
        external_id=[c.external_id for c in comments], in_reply_to=[c.in_reply_to for c in comments],
        cluster=[c.cluster for c in comments], holders={c.id: "Ana" for c in comments if c.status == "claimed"})


def loaded_in_pages(comments: list[Comment], page: int) -> RoomState:
    """The sync worker's way: the newest page whole, then older pages as columns, newest first."""
    state = RoomState("inc")
    state.load_comments(comments[-page:])
    state.oldest_unanswered()  # the header asks after every page: each page is then compared alone
    rest = comments[:-page]
    for end in range(len(rest), 0, -page):
        state.load_keys(keys_of(rest[max(0, end - page):end]))
        state.oldest_unanswered()
    return state


def test_pages_merged_in_give_the_order_a_sort_of_everything_gives() -> None:
    rng = random.Random(5)
    comments = [comment(cid, rng) for cid in range(1, 3001)]
    state = loaded_in_pages(comments, 400)
    assert state.total == 3000 and state.counts["new"] == sum(c.status == "new" for c in comments)
    worst_first = sorted(comments, key=lambda c: (-c.priority, -c.id))  # ties: the newest first
    assert [r.id for r in state.visible[:50]] == [c.id for c in worst_first[:50]]
    assert [state.id_at(i) for i in range(3000)] == [c.id for c in worst_first]
    assert state.index_of(worst_first[1234].id) == 1234
    assert state.rank(worst_first[10].priority) == next(i for i, c in enumerate(worst_first)
                                                         if c.priority == worst_first[10].priority)
    assert state.priority_at_rank(9) == worst_first[9].priority
    state.set_order("time")
    assert [state.id_at(i) for i in range(5)] == [3000, 2999, 2998, 2997, 2996]
    waiting = min((c for c in comments if c.status in ("new", "claimed")), key=lambda c: (c.since, c.id))
    oldest = state.oldest_unanswered()
    assert oldest is not None and oldest.since == waiting.since


def test_filters_at_scale_match_what_each_row_says() -> None:
    rng = random.Random(9)
    comments = [comment(cid, rng) for cid in range(1, 2001)]
    state = loaded_in_pages(comments, 300)
    for flt in (Filter(text="BOYCOTT"), Filter(text="strasse"), Filter(text="éclair", sources=frozenset({"x"})),
                Filter(statuses=frozenset({"answered"})), Filter(text="@user3\nrefund")):
        state.set_filter(flt)
        needle = flt.text.strip().casefold()
        expected = [c.id for c in sorted(comments, key=lambda c: (-c.priority, -c.id))
                    if needle in f"{c.author}\n{c.text}".casefold()
                    and (not flt.sources or c.source in flt.sources)
                    and (not flt.statuses or c.status in flt.statuses)]
        assert [state.id_at(i) for i in range(len(state))] == expected, flt
    state.set_filter(Filter(text="boycott"))
    state.set_order("time")
    assert [state.id_at(i) for i in range(len(state))] == sorted(
        (c.id for c in comments if "boycott" in c.text.casefold()), reverse=True)
    arriving = Comment(id=2001, incident_id="inc", source="x", external_id="e2001", author="@new",
                       text="BOYCOTT them", received_at=9000.0)
    state.add_comment(arriving)
    assert state.id_at(0) == 2001
    state.set_filter(Filter())
    assert len(state) == 2001


def test_rows_not_cached_are_placeholders_until_their_details_come() -> None:
    rng = random.Random(2)
    comments = [comment(cid, rng) for cid in range(1, DETAILS_CACHED * 2 + 1)]
    state = RoomState("inc")
    state.load_keys(keys_of(comments))
    row = state.rows[7]
    assert not row.complete and row.text == PENDING_TEXT and row.author == "#7" and row.source == comments[6].source
    assert row.status == comments[6].status and state.missing([7, 8, 99_999]) == [7, 8]
    state.add_details([comments[6]])
    assert state.rows[7].complete and state.rows[7].text == comments[6].text
    assert 7 in state.rows and 99_999 not in state.rows and state.rows.get(99_999) is None
    copies = state.cluster_ids(2)
    assert copies == {c.id for c in comments if c.cluster == comments[1].cluster}
    assert state.held_by("Ana") == [c.id for c in comments if c.status == "claimed"]


def test_the_thread_comes_from_the_details_of_its_candidates() -> None:
    base = {"incident_id": "inc", "source": "x", "received_at": 1000.0}
    first = Comment(id=1, external_id="t1", author="@dan", text="where is my refund", **base)  # type: ignore[arg-type]
    reply = Comment(id=2, external_id="t2", author="@eve", text="same here", in_reply_to="t1",
                    **base)  # type: ignore[arg-type]
    again = Comment(id=3, external_id="t3", author="@dan", text="still nothing", **base)  # type: ignore[arg-type]
    other = Comment(id=4, external_id="t4", author="@zed", text="unrelated", **base)  # type: ignore[arg-type]
    state = RoomState("inc")
    state.load_keys(keys_of([first, reply, again, other]))
    assert sorted(state.thread_ids(1)) == [2, 3]
    state.add_details([first, reply, again, other])
    assert [(how, r.id) for how, r in state.thread(1)] == [("reply", 2), ("same author", 3)]
    assert [(how, r.id) for how, r in state.thread(2)] == [("answers", 1)]


def test_the_oldest_unanswered_of_a_partly_loaded_incident_is_looked_for_among_what_is_loaded() -> None:
    rng = random.Random(3)
    comments = [comment(cid, rng) for cid in range(1, 1001)]
    state = RoomState("inc")
    top = comments[-200:]  # the first screen's page: ids 801..1000, the ids below still unknown
    state.load_comments(top)

    def waiting(among: list[Comment]) -> list[Comment]:
        return sorted((c for c in among if c.status in ("new", "claimed")), key=lambda c: (c.since, c.id))

    oldest = state.oldest_unanswered()
    assert oldest is not None and (oldest.since, oldest.id) == (waiting(top)[0].since, waiting(top)[0].id)
    state.load_comments([msgspec.structs.replace(waiting(top)[0], status="answered")])  # it was answered
    oldest = state.oldest_unanswered()
    assert oldest is not None and oldest.since == waiting(top)[1].since
    state.load_keys(keys_of(comments[:-200]))
    oldest = state.oldest_unanswered()
    rest = waiting([c for c in comments if c.id != waiting(top)[0].id])
    assert oldest is not None and oldest.since == rest[0].since
