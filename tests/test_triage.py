"""Triage reads the stream the way a community manager would: the worst and most viral first,
questions answered, praise thanked, sarcasm not mistaken for praise, bots set aside with reasons."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import msgspec
import pytest

from crisis_tui import playbook as playbook_mod
from crisis_tui.comment_shape import parse_comment
from crisis_tui.errors import PlaybookError
from crisis_tui.intake.pipeline import Pipeline
from crisis_tui.language import LanguageGuesser, normalise_tag
from crisis_tui.model import NewComment
from crisis_tui.playbook import Playbook, SpikeRules
from crisis_tui.tone.text import fold
from crisis_tui.triage.spikes import SpikeDetector
from crisis_tui.triage.words import fast_fold

DATA = Path(__file__).parent / "data"

#: Required label accuracy on tests/data/triage_labelled.jsonl (90 comments, 30 each in es/it/en:
#: complaint, question, praise, sarcasm, bot copy-paste). The word lists were tuned on this set.
REQUIRED_ON_LABELLED = 0.90
#: Required label accuracy on tests/data/triage_heldout.jsonl (60 comments of another crisis,
#: written after the word lists were frozen and never used to tune them). Measured: 0.70.
REQUIRED_ON_HELDOUT = 0.65


def load(name: str) -> tuple[list[dict[str, str]], list[NewComment]]:
    rows = [json.loads(line) for line in (DATA / name).read_text(encoding="utf-8").splitlines()]
    return rows, [parse_comment(r["comment"]) for r in rows]


def assess(book: Playbook, comments: list[NewComment]):  # type: ignore[no-untyped-def]
    now = max(c.posted_at or 0 for c in comments) + 60
    return Pipeline(book, clock=lambda: now).assess(comments)


@pytest.mark.parametrize(("name", "required"), [("triage_labelled.jsonl", REQUIRED_ON_LABELLED),
                                                 ("triage_heldout.jsonl", REQUIRED_ON_HELDOUT)])
def test_labels_on_a_labelled_set(book: Playbook, name: str, required: float) -> None:
    rows, comments = load(name)
    assert len(rows) >= 60
    assert Counter(r["lang"] for r in rows) == {"es": len(rows) // 3, "it": len(rows) // 3, "en": len(rows) // 3}
    assert set(Counter(r["label"] for r in rows)) == {"complaint", "question", "praise", "sarcasm", "bot"}
    results = assess(book, comments)
    right = sum(r["label"] == a.label for r, a in zip(rows, results, strict=True))
    misses = [(r["label"], a.label, c.text[:50])
              for r, a, c in zip(rows, results, comments, strict=True) if r["label"] != a.label]
    assert right / len(rows) >= required, misses
    # the detected language (none of these comments carries a lang field)
    assert sum(r["lang"] == c.lang for r, c in zip(rows, comments, strict=True)) / len(rows) >= 0.95


def test_bots_are_explained_not_just_scored(book: Playbook) -> None:
    rows, comments = load("triage_labelled.jsonl")
    results = assess(book, comments)
    for row, comment, result in zip(rows, comments, results, strict=True):
        if row["label"] == "bot":
            assert result.bot_reasons, comment.author
        if row["label"] in ("complaint", "question", "praise"):
            assert result.bot_score < book.triage.bot.threshold, (comment.author, result.bot_reasons)
    fourth = next(r for row, r, c in zip(rows, results, comments, strict=True) if c.author == "@pedro9918273")
    assert fourth.bot_reasons == (
        "account 1 day old",
        "follows 780, followed by 1",
        "handle looks generated",
        "same text as 2 other comments from 3 accounts",
    )
    campaign = {r.cluster for row, r in zip(rows, results, strict=True) if row["label"] == "bot" and row["lang"] == "es"}
    assert len(campaign) == 1  # the pasted line and its variants ("!!!", lower case, another hashtag) are one cluster


def test_priority_puts_the_worst_and_most_viral_first(book: Playbook) -> None:
    base = {"source": "x", "posted_at": "2026-03-10T14:00:00Z", "author_created_at": "2014-01-01T00:00:00Z",
            "author_following": 300}
    texts = {
        "viral": ("Llevo TRES semanas esperando el reembolso y nadie contesta. Vergüenza.", 48_000, 5_000, 1_900),
        "angry": ("Llevo tres semanas esperando el reembolso y nadie contesta. Vergüenza.", 120, 2, 0),
        "question": ("¿Alguien sabe cómo reclamar el reembolso?", 120, 2, 0),
        "praise": ("Ya tengo el reembolso, muchas gracias por la atención.", 120, 2, 0),
    }
    comments = [parse_comment({**base, "id": key, "author": f"@{key}_fan", "text": text, "author_followers": f,
                               "likes": likes, "shares": shares}) for key, (text, f, likes, shares) in texts.items()]
    bot = parse_comment({**base, "id": "bot", "author": "@user84721093", "text": texts["angry"][0] + " #boicot",
                         "author_followers": 0, "author_following": 900, "author_created_at": "2026-03-09T00:00:00Z"})
    results = dict(zip([*texts, "bot"], assess(book, [*comments, bot]), strict=True))
    order = sorted(results, key=lambda k: -results[k].priority)
    # a bot's angry copy is discounted below a real question (it still outranks praise: it is a complaint)
    assert order == ["viral", "angry", "question", "bot", "praise"]
    assert results["bot"].priority < results["angry"].priority
    assert all(0 <= r.priority <= 100 for r in results.values())


def test_spikes_against_a_rolling_baseline() -> None:
    rules = SpikeRules(factor=3.0, min_per_minute=20, baseline_minutes=15, min_baseline=2.0, cooldown_minutes=5)
    now = 1_800_000_000.0
    spikes = SpikeDetector(rules, started_at=now - 3600)
    for minute in range(16, 1, -1):  # a steady 5 a minute for 15 minutes
        for i in range(5):
            spikes.observe(now - minute * 60 + i * 10, now, "x")
    assert spikes.check(now) is None
    for i in range(60):  # then 60 in the last minute
        spikes.observe(now - 59 + i, now, "instagram" if i % 3 else "x")
    spike = spikes.check(now)
    assert spike is not None
    assert spike.payload(15) == {"per_minute": 60, "baseline": 5.0, "factor": 12.0, "baseline_minutes": 15,
                                 "sources": {"instagram": 40, "x": 20}}
    assert spikes.check(now + 30) is None  # cooling down
    for i in range(90):
        spikes.observe(now + 30 - 59 + i * 0.6, now + 30, "x")
    assert spikes.check(now + 30) is not None  # but the rate doubled again

    history = SpikeDetector(rules, started_at=now)
    for i in range(500):  # a backlog from yesterday cannot alert about today
        history.observe(now - 86_400 + i, now, "x")
    assert history.check(now) is None


def test_the_playbook_configures_triage(tmp_path: Path) -> None:
    shipped = playbook_mod.shipped_path().read_text(encoding="utf-8")
    custom = shipped.replace('negative = ["angry", ', 'negative = ["pineapple", "angry", ', 1)
    path = tmp_path / "book.toml"
    path.write_text(custom, encoding="utf-8")
    book = playbook_mod.load(path)
    comment = parse_comment({"source": "x", "id": "1", "author": "@a", "text": "pineapple pineapple pineapple", "lang": "en"})
    plain = parse_comment({"source": "x", "id": "1", "author": "@a", "text": "pineapple pineapple pineapple", "lang": "en"})
    assert Pipeline(book).assess([comment])[0].negativity > 0.5
    assert Pipeline(playbook_mod.load(playbook_mod.shipped_path())).assess([plain])[0].negativity == 0

    broken = shipped.replace("handle_patterns = [\n", "handle_patterns = [\n  '([unclosed',\n", 1)
    path.write_text(broken, encoding="utf-8")
    with pytest.raises(PlaybookError, match=r"triage\.bot\.handle_patterns\[0\]: not a valid regular expression"):
        playbook_mod.load(path)
    path.write_text(shipped.replace("[triage.spike]\n", "[triage.spike]\nfactr = 2\n", 1), encoding="utf-8")
    with pytest.raises(PlaybookError, match=r"triage\.spike\.factr: unknown key"):
        playbook_mod.load(path)


def test_language_tags_and_folding() -> None:
    assert [normalise_tag(t) for t in ("es-ES", "EN", "it_IT", "spa", "", "x-klingon")] == ["es", "en", "it", "spa", "", ""]
    guess = LanguageGuesser()
    assert guess.detect("Nadie responde en el chat") == "es"
    assert guess.detect("Servizio clienti irraggiungibile") == "it"  # no function word: the model decides
    assert guess.detect("Support line just hangs up") == "en"
    assert guess.detect("👍👍 !!!") == ""
    for text in ("Qué maravilla´s ÉLITE", "L’app non funziona `ok`", "ﬁ Ｆｕｌｌ", "Straße", "plain"):
        assert fast_fold(text) == fold(text)


def test_clusters_are_stable_names_for_the_same_campaign(book: Playbook) -> None:
    def comment(i: int, text: str) -> NewComment:
        return parse_comment({"source": "x", "id": str(i), "author": f"@a{i}", "text": text})

    first = Pipeline(book).assess([comment(1, "Worst brand ever!!! Boycott @Lumo now #LumoScam"),
                                   comment(2, "worst brand EVER boycott @lumo now #LumoScam 🤬 #refund"),
                                   comment(3, "Got my refund today, thanks")])
    second = Pipeline(book).assess([comment(4, "Worst brand ever!!! Boycott @Lumo now #LumoScam")])
    assert first[0].cluster == first[1].cluster == second[0].cluster
    assert first[2].cluster != first[0].cluster
    assert msgspec.json.encode(first[0].cluster).startswith(b'"c')
