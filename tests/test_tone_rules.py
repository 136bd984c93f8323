"""Each tone rule's edges, as a community manager would meet them while typing."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from crisis_tui import playbook as playbook_mod
from crisis_tui.errors import PlaybookError
from crisis_tui.playbook import Playbook
from crisis_tui.tone import ToneChecker, ToneContext, Verdict, summary

BOOK = playbook_mod.load(playbook_mod.shipped_path())
CHECKER = ToneChecker(BOOK)
NOW = 1_800_000_000.0


def verdict(text: str, rule: str, checker: ToneChecker = CHECKER, **ctx: Any) -> Verdict:
    return next(v for v in checker.check(text, ToneContext(**ctx)) if v.rule == rule)


def edited(change: Any) -> Playbook:
    """The shipped playbook with one edit, validated like a file would be."""
    data = msgspec.to_builtins(BOOK)
    data.pop("source")
    change(data)
    return playbook_mod.parse(data, "edited.toml")


# ------------------------------------------------------------------ calm
def test_acronyms_are_not_shouting_but_capital_words_are() -> None:
    assert verdict("Send us your DNI and IBAN by DM, please.", "calm").passed is True
    shout = verdict("We will NEVER do that again, sorry.", "calm")
    assert shout.passed is False
    assert shout.reason == "shouting: NEVER"


def test_one_exclamation_mark_is_fine_two_are_not_and_the_limit_is_the_playbooks() -> None:
    assert verdict("¡Hola Luis! Te escribimos por privado.", "calm").passed is True
    assert verdict("Thanks Ana! We'll call you today!", "calm").reason == "2 '!' (max 1)"

    def allow_two(data: dict[str, Any]) -> None:
        data["tone"]["max_exclamations"] = 2

    assert verdict("Thanks Ana! We'll call you today!", "calm", ToneChecker(edited(allow_two))).passed is True


def test_insults_match_without_accents_and_in_any_case() -> None:
    assert verdict("No seas RIDICULA", "calm", lang="es").reason.startswith("insult: RIDICULA")
    assert verdict("Sei proprio un'incompetente", "calm", lang="it").reason == "insult: incompetente"


def test_insult_entries_match_whole_words_only() -> None:
    # "sue" is a threat entry; "Suez" and "issue" must not trip it.
    assert verdict("Your issue with the Suez shipment: we'll call you today.", "no_threat").passed is True


# ------------------------------------------------------------------ focus
def test_focus_is_pending_until_there_is_a_comment_and_a_tick_settles_it() -> None:
    assert verdict("We will call you today.", "focus").state == "n/a"
    missed = verdict("We will call you today.", "focus", comment_text="My invoice was charged twice")
    assert missed.passed is False
    assert missed.reason == "misses invoice, charged, twice"
    assert missed.ticked is False
    ticked = verdict("We will call you today.", "focus", comment_text="My invoice was charged twice",
                     ticked={"focus": True})
    assert (ticked.passed, ticked.reason, ticked.ticked) == (True, "ticked by a person", True)


def test_focus_matches_other_forms_of_the_same_word() -> None:
    ok = verdict("Los reembolsos salen hoy.", "focus", comment_text="¿Dónde está mi reembolso?")
    assert ok.passed is True
    assert ok.reason == "mentions reembolso"  # the comment's word: what it is about


def test_mentions_and_links_in_the_comment_are_not_its_focus() -> None:
    v = verdict("Thanks @LumoTelecom fans", "focus", comment_text="@LumoTelecom https://lumo.example/x billing broken")
    assert v.passed is False
    assert "billing" in v.reason and "lumotelecom" not in v.reason


# --------------------------------------------------------------- apology
def test_apology_only_applies_when_the_fault_is_ours() -> None:
    assert verdict("We will call you today.", "apology").state == "n/a"
    assert verdict("We will call you today.", "apology", our_fault=True).reason == "no apology; the fault is ours"
    assert verdict("Ci dispiace, ti chiamiamo oggi.", "apology", our_fault=True).reason == "says “Ci dispiace”"


# ------------------------------------------------------------- next step
@pytest.mark.parametrize("text", [
    "Write to care@lumo.example and we'll sort it.",
    "Call +34 900 123 456.",
    "It will be fixed in 48h.",
    "Expect news by 18:30.",
    "More at https://status.lumo.example",
])
def test_channels_and_time_frames_need_no_word_list(text: str) -> None:
    assert verdict(text, "next_step", lang="en").passed is True


def test_a_vague_promise_is_no_next_step() -> None:
    v = verdict("We hear you and we care about this.", "next_step")
    assert (v.passed, v.reason) == (False, "no channel, time or action")


# ------------------------------------------------------ length and SLA
def test_length_uses_the_platform_limit_and_shows_the_count() -> None:
    text = "Sorry Dan, we'll DM you today. " * 10
    on_x = verdict(text, "length", platform="x")
    assert on_x.passed is False
    assert on_x.reason == f"{len(text.strip())}/280 on x, {len(text.strip()) - 280} over"
    assert verdict(text, "length", platform="facebook").reason == f"{len(text.strip())}/8000 on facebook"
    assert verdict(text, "length").reason.endswith("/2000")


def test_sla_shows_the_time_left_and_the_overrun() -> None:
    left = verdict("x", "sla", severity="sev1", comment_received_at=NOW - 13 * 60, now=NOW)
    assert (left.passed, left.reason) == (True, "2 min left of 15 min")
    close = verdict("x", "sla", severity="sev1", comment_received_at=NOW - 14 * 60 - 30, now=NOW)
    assert close.reason == "<1 min left of 15 min"
    late = verdict("x", "sla", severity="sev2", comment_received_at=NOW - 42 * 60, now=NOW)
    assert (late.passed, late.reason) == (False, "12 min over the 30 min SLA")
    default = verdict("x", "sla", comment_received_at=NOW, now=NOW)
    assert default.reason == "30 min left of 30 min"  # the playbook's default severity


# ----------------------------------------------------- real user, authority
def test_real_user_waits_for_a_person_and_shows_the_bot_suspicion() -> None:
    v = verdict("Hi", "real_user", bot_reasons=("account 2 days old", "same text as 40 others", "no avatar"))
    assert (v.kind, v.passed, v.state, v.ticked) == ("manual", None, "pending", False)
    assert v.reason == "not checked yet (bot? account 2 days old, same text as 40 others)"
    assert verdict("Hi", "real_user", ticked={"real_user": True}).state == "pass"


def test_a_statement_needs_decision_power_and_a_reply_does_not() -> None:
    assert verdict("We apologise.", "authority").state == "n/a"
    pending = verdict("We apologise.", "authority", kind="statement")
    assert (pending.state, pending.reason) == ("pending", "needs approval by gm/marketing/client")
    assert verdict("We apologise.", "authority", kind="statement", approved_by_decision_power=True).state == "pass"


# ------------------------------------------------------------- the whole
def test_an_empty_draft_waits_rather_than_failing() -> None:
    verdicts = CHECKER.check("   ", ToneContext(comment_text="refund?", our_fault=True))
    assert CHECKER.failing(verdicts) == []
    states = {v.rule: v.state for v in verdicts}
    assert states["calm"] == states["next_step"] == states["personal"] == "pending"


def test_rules_come_in_playbook_order_and_disabled_ones_are_left_out() -> None:
    def reorder(data: dict[str, Any]) -> None:
        rules = data["tone"]["rules"]
        rules.reverse()
        for rule in rules:
            if rule["id"] == "sla":
                rule["enabled"] = False

    checker = ToneChecker(edited(reorder))
    ids = [v.rule for v in checker.check("Hi", ToneContext())]
    assert ids == [r.id for r in reversed(BOOK.tone.rules) if r.id != "sla"]


def test_a_playbook_can_add_its_own_manual_rule() -> None:
    def add(data: dict[str, Any]) -> None:
        data["tone"]["rules"].append({"id": "legal_ok", "label": "legal", "kind": "manual"})

    checker = ToneChecker(edited(add))
    v = checker.check("Hi", ToneContext())[-1]
    assert (v.rule, v.label, v.state, v.ticked) == ("legal_ok", "legal", "pending", False)
    assert checker.check("Hi", ToneContext(ticked={"legal_ok": True}))[-1].state == "pass"


def test_an_automatic_rule_nobody_can_check_is_a_playbook_error() -> None:
    def typo(data: dict[str, Any]) -> None:
        data["tone"]["rules"][0]["id"] = "clam"

    with pytest.raises(PlaybookError) as err:
        ToneChecker(edited(typo))
    assert str(err.value).startswith("edited.toml: tone.rules[0].id: no automatic check named 'clam'")


def test_a_given_language_wins_over_the_guess() -> None:
    text = "Scusa, idiota"  # Italian words, checked with the Spanish lists: "idiota" is in both
    assert CHECKER.read(text, "es").lexicon.lang == "es"
    assert verdict(text, "apology", lang="es", our_fault=True).passed is False
    assert verdict(text, "apology", lang="it", our_fault=True).passed is True


def test_the_summary_line_has_a_symbol_and_a_word_for_each_rule() -> None:
    verdicts = CHECKER.check("Sorry, we'll DM you today.", ToneContext(our_fault=True, kind="statement"))
    line = summary(verdicts)
    assert line.startswith("✓ calm – focus ✓ apology ✓ next step")
    assert "? real user" in line and "? authority" in line


def test_the_tone_backend_imports_no_textual() -> None:
    import subprocess
    import sys

    code = ("import sys, crisis_tui.tone, crisis_tui.approval, crisis_tui.playbook_watch, crisis_tui.commands.lint; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'textual'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "[]"
