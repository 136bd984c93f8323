"""The room's compact reads, on every transport: a page of columns, and whole comments by id."""

from __future__ import annotations

import pytest

from crisis_tui.comment_shape import parse_comment
from crisis_tui.errors import InvalidInput
from crisis_tui.model import BY_ID_MAX, KEY_TEXT, NewComment
from crisis_tui.store.protocol import IncidentStore


def comment(n: int, **extra: object) -> NewComment:
    raw: dict[str, object] = {"source": "x" if n % 2 else "instagram", "id": f"c{n}", "author": f"@user{n}",
                              "text": f"Where is my refund? ({n})"}
    raw.update(extra)
    return parse_comment(raw)


async def test_a_page_of_keys_says_what_the_rooms_index_keeps(store: IncidentStore, incident: str) -> None:
    ids = (await store.ingest(incident, [comment(n) for n in range(1, 8)]
                              + [comment(8, text="é" * (KEY_TEXT + 50), posted_at=1.0)])).ids
    await store.claim(incident, ids[2], actor="Ana")
    await store.tag(incident, ids[3], ["refund", "vip"], actor="Ana")
    keys = await store.comment_keys(incident)
    assert list(keys.ids) == ids
    assert keys.status[2] == "claimed" and keys.holders == {ids[2]: "Ana"}
    assert keys.tags == {ids[3]: ["refund", "vip"]}
    assert list(keys.source[:2]) == ["x", "instagram"] and keys.author[0] == "@user1"
    assert keys.text[-1] == "é" * KEY_TEXT  # cut by characters, not bytes
    whole = await store.comments(incident)
    assert list(keys.since) == [c.since for c in whole] and list(keys.priority) == [c.priority for c in whole]
    assert list(keys.external_id) == [c.external_id for c in whole]

    page = await store.comment_keys(incident, after_id=ids[1], limit=3)
    assert list(page.ids) == ids[2:5] and page.holders == {ids[2]: "Ana"} and len(page.text) == 3
    assert not (await store.comment_keys(incident, after_id=ids[-1])).ids


async def test_comments_by_id_are_whole_and_in_id_order(store: IncidentStore, incident: str) -> None:
    ids = (await store.ingest(incident, [comment(n) for n in range(1, 6)])).ids
    got = await store.comments_by_id(incident, [ids[4], ids[0], ids[4], 999_999])
    assert [c.id for c in got] == [ids[0], ids[4]]
    assert got[1].text == "Where is my refund? (5)" and got[1].external_id == "c5"
    assert await store.comments_by_id(incident, []) == []
    with pytest.raises(InvalidInput, match="at most"):
        await store.comments_by_id(incident, range(1, BY_ID_MAX + 2))
