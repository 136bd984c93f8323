"""The shipped tone rules agree with a community manager's labels on 40+ drafts.

tests/data/tone_drafts.toml holds real-looking replies in English, Spanish and
Italian to comments from the demo crisis, each labelled rule by rule. No
language is given to the checker: it must also guess each draft's language.
"""

from __future__ import annotations

import tomllib
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from crisis_tui import playbook as playbook_mod
from crisis_tui.tone import ToneChecker, ToneContext

TABLE = tomllib.loads((Path(__file__).parent / "data" / "tone_drafts.toml").read_text(encoding="utf-8"))
DRAFTS: list[dict[str, Any]] = TABLE["draft"]
BY_ID = {d["id"]: d for d in DRAFTS}
NOW = 1_800_000_000.0
CHECKER = ToneChecker(playbook_mod.load(playbook_mod.shipped_path()))


def context(row: dict[str, Any]) -> ToneContext:
    waited = row.get("waited")
    return ToneContext(
        kind=row.get("kind", "reply"),
        comment_text=TABLE["comments"][row["comment"]] if "comment" in row else "",
        platform=row.get("platform", ""),
        our_fault=row.get("our_fault", False),
        severity=row.get("severity", ""),
        comment_received_at=None if waited is None else NOW - waited * 60,
        now=NOW,
        earlier_replies=tuple(BY_ID[e]["text"] for e in row.get("earlier", [])),
        approved_by_decision_power=row.get("approved", False),
        ticked={rule: True for rule in row.get("ticked", [])},
    )


def test_the_table_is_big_enough_and_covers_every_rule_both_ways() -> None:
    assert len(DRAFTS) >= 40
    assert {d["lang"] for d in DRAFTS} == {"en", "es", "it"}
    assert min(Counter(d["lang"] for d in DRAFTS).values()) >= 13
    rule_ids = [r.id for r in CHECKER.enabled]
    for row in DRAFTS:
        assert set(row["expect"]) == set(rule_ids), row["id"]
    states = {rule: {row["expect"][rule] for row in DRAFTS} for rule in rule_ids}
    for rule in ("calm", "focus", "apology", "next_step", "personal", "no_threat", "length", "sla"):
        assert {"pass", "fail"} <= states[rule], rule
    assert {"pass", "pending"} <= states["real_user"]
    assert {"pass", "pending", "n/a"} <= states["authority"]


@pytest.mark.parametrize("row", DRAFTS, ids=[d["id"] for d in DRAFTS])
def test_each_rule_gives_the_labelled_verdict(row: dict[str, Any]) -> None:
    verdicts = CHECKER.check(row["text"], context(row))
    got = {v.rule: v.state for v in verdicts}
    wrong = {rule: f"expected {want}, got {got[rule]}: {next(v.reason for v in verdicts if v.rule == rule)}"
             for rule, want in row["expect"].items() if got[rule] != want}
    assert not wrong, wrong
    for v in verdicts:
        assert v.reason.strip(), f"{v.rule} gives no reason"


@pytest.mark.parametrize("row", DRAFTS, ids=[d["id"] for d in DRAFTS])
def test_the_language_is_guessed_from_the_text(row: dict[str, Any]) -> None:
    assert CHECKER.read(row["text"]).lexicon.lang == row["lang"]


def test_failing_names_exactly_the_automatic_rules_that_fail() -> None:
    row = BY_ID["en-threat"]
    verdicts = CHECKER.check(row["text"], context(row))
    assert CHECKER.failing(verdicts) == ["focus", "next_step", "no_threat"]
    good = BY_ID["en-good"]
    assert CHECKER.failing(CHECKER.check(good["text"], context(good))) == []
