"""A playbook whose every shown string is hostile: what an edited or pasted playbook file can hold.

Role names and short labels, severity names and descriptions, tone rule labels
and descriptions, snippet titles, texts and languages, the review questions, the
playbook's name and a key of its keymap each carry an OSC 52 clipboard write, a clear-screen
sequence, Textual markup with an action, a bidi override or C1 controls. Ids stay
as shipped, so the rules still find their roles and severities.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec

from crisis_tui import playbook as playbook_mod
from crisis_tui.playbook import Playbook

OSC52 = "\x1b]52;c;ZXZpbA==\x07"
#: The same clipboard write ended by ST: Rich drops a BEL from what it draws, but not an ESC.
OSC52_ST = "\x1b]52;c;ZXZpbA==\x1b\\"
CLEAR = "\x1b[2J\x1b[H"
SNIPPET_TEXT = f"Refunds: {OSC52}{OSC52_ST}https://example.com/r{CLEAR} [@click=app.quit]now[/] \u202eok\x9b2J"
SNIPPET_TITLE = f"A refund {OSC52}page{CLEAR}"  # "A": first among its language's snippets


def _hostile(word: str) -> str:
    return f"{word}{OSC52}[@click=app.quit]\u202e{CLEAR}\x9d0;t\x9c"


def hostile_playbook(snippet_lang: str = "\x1b[5m") -> Playbook:
    """`snippet_lang` = a comment's language puts the hostile snippet first in its picker."""
    book = playbook_mod.load(playbook_mod.shipped_path())
    data: dict[str, Any] = msgspec.to_builtins(book)
    data["name"] = _hostile("Playbook")
    for role in data["roles"]:
        role["name"] = _hostile(role["name"])
        role["short"] = "\x1b[2J"  # a short label is 5 characters: all of it an escape
    for severity in data["severities"]:
        severity["name"] = _hostile(severity["name"])
        severity["description"] = _hostile(severity.get("description", ""))
    for rule in data["tone"]["rules"]:
        rule["label"] = _hostile(rule["label"])
        rule["description"] = _hostile(rule.get("description", ""))
    data["snippets"].insert(0, {"id": "hostile", "title": SNIPPET_TITLE, "text": SNIPPET_TEXT, "lang": snippet_lang})
    data["review"]["questions"] = [_hostile("What failed?")]
    data["keys"] = {"room.note": f"{OSC52_ST}{CLEAR}"}  # shown in the footer as the note key
    return msgspec.convert(data, Playbook)


def write_hostile_playbook(path: Path, snippet_lang: str = "\x1b[5m") -> Path:
    """The hostile playbook as a TOML file (TOML escapes the controls; loading brings them back)."""
    path.write_text(playbook_mod.to_toml(hostile_playbook(snippet_lang)), encoding="utf-8")
    loaded = playbook_mod.load(path)
    assert loaded.snippets[0].text == SNIPPET_TEXT
    return path
