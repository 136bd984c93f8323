"""`crisis-tui lint-reply`: the tone checklist on a draft, from the command line.

For scripts (exit code 1 when an automatic rule fails, `--json`) and for
training new community managers: the same ToneChecker the room runs on every
keystroke, with the situation given by options instead of read from a store.
"""

from __future__ import annotations

import json
import sys
import time

import click

from crisis_tui.commands.context import settings
from crisis_tui.safe_text import one_line
from crisis_tui.tone import ToneChecker, ToneContext


@click.command("lint-reply")
@click.argument("text")
@click.option("--lang", default="", metavar="LANG", help="Language of the word lists (default: guessed from TEXT).")
@click.option("--comment", default="", metavar="TEXT", help="The comment being answered (checks the focus).")
@click.option("--platform", default="", metavar="NAME", help="Where it will be posted (checks the length limit).")
@click.option("--our-fault", is_flag=True, help="The error is ours: the reply must apologise.")
@click.option("--statement", is_flag=True, help="A public statement rather than a reply.")
@click.option("--severity", default="", metavar="ID", help="Severity id, for the SLA (with --waited).")
@click.option("--waited", type=click.FloatRange(min=0), default=None, metavar="MINUTES",
              help="How long the comment has waited, for the SLA.")
@click.option("--earlier", multiple=True, metavar="TEXT", help="An earlier reply (repeatable; checks it is no copy).")
@click.option("--tick", multiple=True, metavar="RULE", help="A manual rule a person has checked (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print the verdicts as one JSON object.")
def lint_reply(
    text: str,
    lang: str,
    comment: str,
    platform: str,
    our_fault: bool,
    statement: bool,
    severity: str,
    waited: float | None,
    earlier: tuple[str, ...],
    tick: tuple[str, ...],
    as_json: bool,
) -> None:
    """Check TEXT (or "-" for standard input) against the playbook's tone rules.

    Prints each rule's verdict (✓ passes, ✗ fails, ? waits for a person,
    – does not apply); exits 1 when an automatic rule fails.
    """
    book = settings().playbook
    checker = ToneChecker(book)
    if text == "-":
        text = sys.stdin.read()
    if not text.strip():
        raise click.BadParameter("the draft is empty: there is nothing to check", param_hint="TEXT")
    if lang and lang not in checker.languages:
        raise click.BadParameter(f"no word lists for {lang!r} (the playbook has {', '.join(checker.languages)})",
                                 param_hint="--lang")
    if platform and platform not in book.platforms:
        raise click.BadParameter(f"{platform!r} is not in the playbook's platforms ({', '.join(book.platforms)})",
                                 param_hint="--platform")
    if severity and book.severity(severity) is None:
        raise click.BadParameter(f"{severity!r} is not a severity ({', '.join(s.id for s in book.severities)})",
                                 param_hint="--severity")
    known = {r.id for r in book.tone.rules}
    for rule in tick:
        if rule not in known:
            raise click.BadParameter(f"{rule!r} is not a rule of the playbook ({', '.join(sorted(known))})",
                                     param_hint="--tick")
    now = time.time()
    ctx = ToneContext(
        lang=lang,
        kind="statement" if statement else "reply",
        comment_text=comment,
        platform=platform,
        our_fault=our_fault,
        severity=severity,
        comment_received_at=None if waited is None else now - waited * 60,
        now=now,
        earlier_replies=earlier,
        ticked={rule: True for rule in tick},
    )
    used = checker.read(text, lang).lexicon.lang
    verdicts = checker.check(text, ctx)
    failing = checker.failing(verdicts)
    if as_json:
        click.echo(json.dumps({
            "lang": used,
            "failing": failing,
            "verdicts": [
                {"rule": v.rule, "label": v.label, "kind": v.kind, "passed": v.passed, "state": v.state,
                 "reason": v.reason}
                for v in verdicts
            ],
        }, ensure_ascii=False))
    else:
        width = max((len(v.label) for v in verdicts), default=0)
        click.echo(f"language: {used}{'' if lang else ' (guessed)'}")
        for v in verdicts:
            manual = " (manual)" if v.kind == "manual" else ""
            click.echo(f"{v.symbol} {v.label:<{width}}  {one_line(v.reason, 200)}{manual}")
        if failing:
            click.echo(f"{len(failing)} automatic rule{'s' if len(failing) != 1 else ''} fail: {', '.join(failing)}")
        else:
            click.echo("no automatic rule fails")
    if failing:
        sys.exit(1)


def register(group: click.Group) -> None:
    group.add_command(lint_reply)
