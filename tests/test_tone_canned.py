"""The canned-reply detector: copies (names swapped, sentences shuffled, handles
changed) are caught; paraphrases that say the same in other words are not; a
snippet of facts pasted as the whole reply is caught, one used inside a personal
reply is not; the threshold comes from the playbook."""

from __future__ import annotations

import msgspec
import pytest

from crisis_tui import playbook as playbook_mod
from crisis_tui.playbook import Playbook
from crisis_tui.tone import ToneChecker, ToneContext
from crisis_tui.tone.canned import Bag, similarity

BOOK = playbook_mod.load(playbook_mod.shipped_path())
CHECKER = ToneChecker(BOOK)

ORIGINALS = {
    "en": "Hi Dan, we're sorry: since Tuesday's app update some refunds are stuck in 'processing'. "
          "Please send us your order number by DM and we'll check yours today.",
    "es": "Hola Marta, lo sentimos mucho: tres semanas esperando el reembolso es demasiado. "
          "Escríbenos por mensaje directo con tu número de pedido y hoy mismo lo revisamos.",
    "it": "Ciao Giorgia, ci scusiamo: 20 giorni senza rimborso dopo un ordine annullato non sono accettabili. "
          "Scrivici in privato il numero d'ordine e ti aggiorniamo entro oggi.",
}

COPIES = {
    "en": [
        "Hi Sarah, we're sorry: since Tuesday's app update some refunds are stuck in 'processing'. "
        "Please send us your order number by DM and we'll check yours today.",
        "@sarah_k Hi Sarah, we're sorry: since Tuesday's app update some refunds are stuck in 'processing'. "
        "Please send us your order number by DM and we'll check yours today.",
        "Please send us your order number by DM and we'll check yours today. Hi Sarah, we're sorry: "
        "since Tuesday's app update some refunds are stuck in 'processing'.",
        "hi dan we are sorry since tuesdays app update some refunds are stuck in processing "
        "please send us your order number by dm and we will check yours today",
    ],
    "es": [
        "Hola Pablo, lo sentimos mucho: tres semanas esperando el reembolso es demasiado. "
        "Escríbenos por mensaje directo con tu número de pedido y hoy mismo lo revisamos.",
        "Hola Pablo, lo sentimos mucho: tres semanas esperando el reembolso es demasiado. "
        "Escribenos por mensaje directo con tu numero de pedido y hoy lo revisamos.",
    ],
    "it": [
        "Ciao Sara, ci scusiamo: 20 giorni senza rimborso dopo un ordine annullato non sono accettabili. "
        "Scrivici in privato il numero d'ordine e ti aggiorniamo entro oggi.",
        "@sara.b Ciao Sara, ci scusiamo: 30 giorni senza rimborso dopo un ordine annullato non sono accettabili. "
        "Scrivici in privato il numero d'ordine e ti aggiorniamo entro oggi.",
    ],
}

PARAPHRASES = {
    "en": [
        "Sarah, apologies for the wait. The last update broke the refund tracker for some customers; our care "
        "team can confirm where your money is if you message us privately with the order reference.",
        "That's on us, Sarah: the new version of the app froze a batch of refunds. DM the order reference and "
        "someone from care will look it up this afternoon.",
    ],
    "es": [
        "Pablo, perdona la espera: sabemos que el reembolso lleva demasiado tiempo. Si nos mandas el número de "
        "pedido por privado, el equipo de atención lo comprueba esta tarde.",
        "Tienes toda la razón, Pablo, tres semanas sin tu dinero no es aceptable. Pásanos el pedido por DM y "
        "una compañera de pagos te confirma hoy cuándo llega.",
    ],
    "it": [
        "Sara, ci dispiace davvero per il rimborso che non arriva. Mandaci un messaggio privato con i dati "
        "dell'ordine: un collega del servizio clienti controlla la pratica oggi stesso.",
        "Hai ragione Sara, un mese di attesa per un ordine annullato è troppo. Ci mandi in DM il codice? "
        "Il reparto pagamenti ti risponde in giornata.",
    ],
}


def personal(text: str, earlier: tuple[str, ...] = (), checker: ToneChecker = CHECKER) -> tuple[bool | None, str]:
    verdict = next(v for v in checker.check(text, ToneContext(earlier_replies=earlier)) if v.rule == "personal")
    return verdict.passed, verdict.reason


@pytest.mark.parametrize(("lang", "copy"), [(lang, c) for lang, cs in COPIES.items() for c in cs])
def test_a_copy_of_an_earlier_reply_is_canned(lang: str, copy: str) -> None:
    passed, reason = personal(copy, (ORIGINALS[lang],))
    assert passed is False
    assert "like an earlier reply" in reason


@pytest.mark.parametrize(("lang", "text"), [(lang, p) for lang, ps in PARAPHRASES.items() for p in ps])
def test_a_paraphrase_in_its_own_words_is_personal(lang: str, text: str) -> None:
    assert personal(text, (ORIGINALS[lang],)) == (True, "own words")


def test_copies_score_far_above_paraphrases() -> None:
    for lang, original in ORIGINALS.items():
        base = Bag.of(original)
        lowest_copy = min(similarity(base, Bag.of(c)) for c in COPIES[lang])
        highest_paraphrase = max(similarity(base, Bag.of(p)) for p in PARAPHRASES[lang])
        assert lowest_copy >= 0.85 > 0.6 > highest_paraphrase, (lang, lowest_copy, highest_paraphrase)


def test_similarity_is_symmetric_and_bounded() -> None:
    a, b = Bag.of(ORIGINALS["en"]), Bag.of(PARAPHRASES["en"][0])
    assert similarity(a, b) == similarity(b, a)
    assert similarity(a, a) == 1.0
    assert similarity(Bag.of(""), a) == 0.0


def test_the_copy_is_found_among_many_earlier_replies() -> None:
    others = tuple(PARAPHRASES["en"] + PARAPHRASES["es"] + PARAPHRASES["it"]) + (ORIGINALS["en"],)
    passed, reason = personal(COPIES["en"][0], others)
    assert passed is False
    assert "Hi Dan" in reason


def test_a_snippet_pasted_as_the_whole_reply_is_canned() -> None:
    snippet = next(s for s in BOOK.snippets if s.id == "care-hours-es").text
    assert personal(snippet) == (False, "only snippet 'care-hours-es' (100%)")
    passed, reason = personal("Hola Luis: " + snippet)
    assert passed is False and "care-hours-es" in reason


def test_a_snippet_inside_a_personal_reply_is_fine() -> None:
    snippet = next(s for s in BOOK.snippets if s.id == "refund-status").text
    text = (f"Dan, sorry the refund page still said 'processing' after the update. {snippet} "
            "If it looks stuck tomorrow, DM us and we will chase it for you.")
    assert personal(text) == (True, "own words")


def _with_threshold(value: float) -> Playbook:
    data = msgspec.to_builtins(BOOK)
    data.pop("source")
    data["tone"]["canned_threshold"] = value
    return playbook_mod.parse(data, "test playbook")


def test_the_threshold_comes_from_the_playbook() -> None:
    near = ("Hi Sarah, we are sorry about the refund stuck in processing since the update. "
            "Send us your order number by DM and we'll check yours today.")
    strict, lax = ToneChecker(_with_threshold(0.6)), ToneChecker(_with_threshold(0.99))
    score = similarity(Bag.of(near), Bag.of(ORIGINALS["en"]))
    assert 0.6 <= score < 0.99
    assert personal(near, (ORIGINALS["en"],), strict)[0] is False
    assert personal(near, (ORIGINALS["en"],), lax)[0] is True


def test_blank_earlier_replies_are_ignored() -> None:
    assert personal(ORIGINALS["it"], ("", "   ")) == (True, "own words")


def test_the_index_finds_exactly_what_comparing_with_every_reply_finds() -> None:
    import random

    from crisis_tui.tone.canned import Corpus, closest

    rng = random.Random(11)
    sentences = [s for texts in (ORIGINALS, {k: " ".join(v) for k, v in PARAPHRASES.items()}) for t in texts.values()
                 for s in t.split(". ")]
    words = " ".join(sentences).split()

    def text() -> str:
        if rng.random() < 0.5:
            return " ".join(rng.sample(sentences, rng.randint(1, 4)))
        return " ".join(rng.choice(words) for _ in range(rng.randint(3, 60)))

    earlier = [Bag.of(text()) for _ in range(300)]
    corpus = Corpus(earlier)
    found = 0
    for _ in range(300):
        draft = Bag.of(text())
        for threshold in (0.5, 0.85, 0.95):
            fast, slow = corpus.closest(draft, threshold), closest(draft, earlier, threshold)
            assert (fast is None) == (slow is None)
            if fast is not None:
                assert fast.score >= threshold
                assert fast.score == similarity(draft, earlier[fast.index])
                # the oldest copy: nothing before it reaches the threshold
                assert all(similarity(draft, e) < threshold for e in earlier[: fast.index])
                found += 1
    assert found > 50  # the check above compared real hits, not only misses
