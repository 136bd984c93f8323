"""`crisis-tui lint-reply`: a trainee checks a draft from the shell."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from crisis_tui.cli import main

COMMENT = "Llevo TRES semanas esperando el reembolso y nadie contesta."
GOOD = "Hola Marta, lamentamos la espera con tu reembolso. Te escribimos por privado hoy."


def lint(*args: str, input: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["lint-reply", *args], input=input)
    return result.exit_code, result.output


def test_a_good_reply_passes_and_prints_every_rule() -> None:
    code, out = lint("--comment", COMMENT, "--platform", "x", "--our-fault", GOOD)
    assert code == 0, out
    lines = out.splitlines()
    assert lines[0] == "language: es (guessed)"
    assert "✓ calm" in lines[1]
    assert any(line.startswith("✓ apology") and "lamentamos" in line for line in lines)
    assert any(line.startswith("✓ length") and f"{len(GOOD)}/280 on x" in line for line in lines)
    assert any(line.startswith("? real user") and line.endswith("(manual)") for line in lines)
    assert lines[-1] == "no automatic rule fails"
    assert len(lines) == 1 + 10 + 1


def test_a_failing_automatic_rule_exits_1_and_names_it() -> None:
    code, out = lint("--comment", COMMENT, "--our-fault", "NUNCA dijimos eso, te bloquearemos.")
    assert code == 1
    assert "✗ calm" in out and "shouting: NUNCA" in out
    assert "✗ no threat" in out
    assert out.splitlines()[-1] == "5 automatic rules fail: calm, focus, apology, next_step, no_threat"


def test_a_pending_manual_rule_alone_does_not_fail() -> None:
    code, _ = lint("--lang", "en", "Sorry Dan, we'll DM you today.")
    assert code == 0


def test_json_output_for_scripts() -> None:
    code, out = lint("--json", "--lang", "it", "--statement", "Ci scusiamo: rimborsi entro 48 ore.")
    assert code == 0
    data = json.loads(out)
    assert data["lang"] == "it" and data["failing"] == []
    by_rule = {v["rule"]: v for v in data["verdicts"]}
    assert by_rule["authority"]["state"] == "pending"
    assert by_rule["apology"]["state"] == "n/a"


def test_sla_earlier_replies_and_ticks_from_options() -> None:
    code, out = lint("--severity", "sev1", "--waited", "20", "--earlier", GOOD, "--tick", "real_user",
                     "--comment", COMMENT, GOOD)
    assert code == 1
    assert "5 min over the 15 min SLA" in out
    assert "like an earlier reply" in out
    assert "✓ real user" in out


def test_text_from_standard_input() -> None:
    code, out = lint("--lang", "en", "-", input="You are WRONG and we will block you!!\n")
    assert code == 1
    assert "block you" in out


def test_bad_options_get_one_precise_line() -> None:
    code, out = lint("--lang", "fr", "Bonjour")
    assert code == 2 and "no word lists for 'fr' (the playbook has en, es, it)" in out
    code, out = lint("--platform", "myspace", "Hi")
    assert code == 2 and "'myspace' is not in the playbook's platforms" in out
    code, out = lint("--tick", "realuser", "Hi")
    assert code == 2 and "'realuser' is not a rule of the playbook" in out


def test_a_broken_playbook_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "playbook.toml"
    bad.write_text((Path(__file__).parent.parent / "config" / "default.toml").read_text(encoding="utf-8")
                   .replace('id = "calm"', 'id = "clam"'), encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "crisis_tui", "--playbook", str(bad), "lint-reply", "Hi"],
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith(f"crisis-tui: {bad}: tone.rules[0].id: no automatic check named 'clam'")
    assert "Traceback" not in proc.stderr


def test_an_empty_draft_is_refused_not_passed() -> None:
    for text, stdin in (("", None), ("   ", None), ("-", "\n")):
        code, out = lint(text, input=stdin)
        assert code == 2
        assert "the draft is empty: there is nothing to check" in out
