"""ToneChecker: every enabled rule of the playbook, on one draft, fast.

Built once per playbook (word lists compiled, snippets counted), then called
on every keystroke of the room's editor, by `crisis-tui lint-reply` and by the
approval flow, so all three judge a draft the same way.
"""

from __future__ import annotations

from collections.abc import Sequence

from crisis_tui.errors import PlaybookError
from crisis_tui.playbook import Playbook, ToneWords
from crisis_tui.tone.rules import Lexicon, Reading, Rules
from crisis_tui.tone.text import Terms, fold, tokens
from crisis_tui.tone.verdict import ToneContext, Verdict, failing_rules


def _lexicon(lang: str, words: ToneWords) -> Lexicon:
    return Lexicon(
        lang=lang,
        insults=Terms(words.insults),
        sarcasm=Terms(words.sarcasm),
        apology=Terms(words.apology),
        next_step=Terms(words.next_step),
        threats=Terms(words.threats),
        stopwords=frozenset(fold(w) for w in words.stopwords),
    )


def validate(book: Playbook) -> None:
    """Refuse an automatic rule nobody can evaluate (a typo in an id, most likely)."""
    known = Rules.known()
    for index, rule in enumerate(book.tone.rules):
        if rule.kind == "auto" and rule.id not in known:
            raise PlaybookError(
                book.source or "playbook",
                f"tone.rules[{index}].id",
                f"no automatic check named {rule.id!r} (known: {', '.join(sorted(known))}); "
                'use one of those or make it kind = "manual"',
            )
    if book.tone.max_exclamations < 0:
        raise PlaybookError(book.source or "playbook", "tone.max_exclamations", "must be 0 or more")


class ToneChecker:
    """The playbook's tone checklist, compiled."""

    def __init__(self, playbook: Playbook) -> None:
        validate(playbook)
        self.playbook = playbook
        self.lexicons = {lang: _lexicon(lang, words) for lang, words in playbook.tone.words.items()}
        fallback = playbook.default_language if playbook.default_language in self.lexicons else ""
        self.default_lang = fallback or next(iter(self.lexicons), playbook.default_language)
        if self.default_lang not in self.lexicons:
            self.lexicons[self.default_lang] = _lexicon(self.default_lang, ToneWords())
        all_stopwords = frozenset().union(*(lex.stopwords for lex in self.lexicons.values()))
        self.rules = Rules(playbook, all_stopwords)
        self.enabled = [r for r in playbook.tone.rules if r.enabled]

    @property
    def languages(self) -> list[str]:
        return list(self.lexicons)

    def guess_language(self, words: Sequence[str]) -> str:
        """The language whose function words the text uses most (ties: the playbook's default)."""
        best, best_score = self.default_lang, 0
        for lang, lex in self.lexicons.items():
            score = sum(1 for w in words if w in lex.stopwords)
            if score > best_score:
                best, best_score = lang, score
        return best

    def read(self, text: str, lang: str = "") -> Reading:
        folded = fold(text)
        words = tuple(tokens(folded))
        chosen = lang if lang in self.lexicons else self.guess_language(words)
        return Reading(text=text, folded=folded, lexicon=self.lexicons[chosen], tokens=words)

    def check(self, text: str, ctx: ToneContext) -> list[Verdict]:
        """All enabled rules, in the playbook's order."""
        reading = self.read(text, ctx.lang)
        out: list[Verdict] = []
        for rule in self.enabled:
            evaluate = self.rules.table.get(rule.id, self.rules.manual)
            out.append(evaluate(reading, ctx, rule))
        return out

    def failing(self, verdicts: Sequence[Verdict]) -> list[str]:
        """Rule ids that block approval: automatic rules that fail."""
        return failing_rules(verdicts)
