"""The stream's text filter (crisis_tui.comment_texts): a search finds exactly the comments whose
folded author and text hold the needle, whatever the texts hold (NULs, accents, emoji, the needle
several times in one comment or across the end of one and the start of the next)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from crisis_tui.comment_texts import FoldedTexts, fold, needle_of

ALPHABET = st.sampled_from(list("ab \x00\nÁé😀!") + ["boy", "cott", "BOY"])
TEXT = st.lists(ALPHABET, max_size=12).map("".join)


@settings(max_examples=300, deadline=None)
@given(
    pages=st.lists(st.lists(st.tuples(TEXT, TEXT), min_size=1, max_size=8), max_size=4),
    loose=st.lists(st.tuples(TEXT, TEXT), max_size=6),
    typed=st.sampled_from(["b", "boy", "boycott", "a b", "é", "Á", "😀", "!", "b\nb", "y\x00b", "ab"]),
    gap=st.integers(min_value=0, max_value=3),
)
def test_search_finds_exactly_the_comments_holding_the_needle(
    pages: list[list[tuple[str, str]]], loose: list[tuple[str, str]], typed: str, gap: int,
) -> None:
    texts = FoldedTexts()
    folded: dict[int, bytes] = {}
    cid = 0
    for page in pages:  # a page of a load: a run of ids, or ids with holes (`gap`)
        ids = [cid + n * (gap + 1) for n in range(len(page))]
        texts.add_page(ids, [a for a, _ in page], [t for _, t in page])
        for i, (author, text) in zip(ids, page, strict=True):
            folded[i] = fold(author, text)
        cid = ids[-1] + 1
    for author, text in loose:  # arriving one by one
        texts.add(cid, author, text)
        folded[cid] = fold(author, text)
        cid += 1
    needle = needle_of(typed)
    mask = texts.search(needle, cid + 1)
    assert [i for i in range(cid + 1) if mask[i]] == sorted(i for i, f in folded.items() if needle in f)
    for i, f in folded.items():
        assert texts.get(i) == f


def test_a_common_word_in_a_big_page_marks_every_comment_once() -> None:
    texts = FoldedTexts()
    ids = list(range(10, 10 + 6000))
    texts.add_page(ids, ["@a"] * len(ids), ["Boycott boycott now" if i % 6 == 0 else "refund" for i in ids])
    mask = texts.search(needle_of("BOYCOTT"), 7000)
    assert [i for i in range(7000) if mask[i]] == [i for i in ids if i % 6 == 0]
