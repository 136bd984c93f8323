"""No module outside the vocabulary reads events by kind string or payload key (issue 10, item 1).

Matching on crisis_tui.events' types is the only way to read an event; this test
scans the package's code (docstrings and comments are prose and may name kinds).
"""

from __future__ import annotations

import ast
from pathlib import Path

from crisis_tui import events

PACKAGE = Path(events.__file__).resolve().parent
#: The vocabulary is the one module that names kinds and reads payloads.
NOT_YET = {
    "events.py": "the vocabulary itself",
}
KINDS = frozenset(events.kind_of(cls) for cls in events.KNOWN)


def _excluded(path: Path) -> bool:
    relative = path.relative_to(PACKAGE).as_posix()
    return any(relative == skip or relative.startswith(skip + "/") for skip in NOT_YET)


def _docstrings(tree: ast.AST) -> set[int]:
    """ids of the string constants that are docstrings or bare string statements."""
    out: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list):
            for statement in body:
                if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant):
                    out.add(id(statement.value))
    return out


def _is_payload(node: ast.AST) -> bool:
    return (isinstance(node, ast.Name) and node.id == "payload") or (
        isinstance(node, ast.Attribute) and node.attr == "payload"
    )


def offences(source: str, name: str) -> list[str]:
    """Each kind literal (or the 'alert.' prefix), payload[...], payload.get(...) and `p = x.payload`."""
    tree = ast.parse(source, name)
    prose = _docstrings(tree)
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in prose:
            if node.value in KINDS or node.value == events.ALERT_PREFIX:
                found.append(f"{name}:{node.lineno}: event kind {node.value!r}")
        elif isinstance(node, ast.Subscript) and _is_payload(node.value):
            found.append(f"{name}:{node.lineno}: payload[...]")
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get"
              and _is_payload(node.func.value)):
            found.append(f"{name}:{node.lineno}: payload.get(...)")
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Attribute) and node.value.attr == "payload":
            found.append(f"{name}:{node.lineno}: payload alias")  # p = e.payload, then p[...]
    return found


def test_no_module_reads_events_by_kind_string_or_payload_key() -> None:
    found: list[str] = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if not _excluded(path):
            found += offences(path.read_text(encoding="utf-8"), path.relative_to(PACKAGE).as_posix())
    assert not found, "read events through crisis_tui.events instead:\n" + "\n".join(found)


def test_the_scan_sees_what_it_forbids() -> None:
    caught = offences('''
def f(e):
    """Docstrings may say comment.claimed."""
    if e.kind == "comment.claimed":
        return e.payload["holder"], e.payload.get("author"), payload["x"]
    p = e.payload
    return e.kind.startswith("alert.")
''', "sample.py")
    assert sorted(c.split(": ", 1)[1] for c in caught) == sorted([
        "event kind 'comment.claimed'", "payload[...]", "payload.get(...)", "payload[...]", "payload alias",
        "event kind 'alert.'",
    ])


def test_the_exclusions_still_exist() -> None:
    for relative in NOT_YET:
        assert (PACKAGE / relative).exists(), f"{relative} is gone: drop it from NOT_YET"
