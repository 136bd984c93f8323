"""How a command that may talk to a server is given its token, without showing it in `ps`.

A command line is readable by every local user (`ps`, /proc/PID/cmdline), so the
token is best given as a file (`--token-file`, first line) or in
$CRISIS_TUI_TOKEN; `--token` still works, with a one-line warning.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from crisis_tui.locator import TOKEN_VAR

F = TypeVar("F", bound=Callable[..., Any])

PS_WARNING = (f"crisis-tui: warning: --token shows the token to every local user in ps; "
              f"give it with --token-file FILE or ${TOKEN_VAR} instead")


def token_options(command: F) -> F:
    """Add --token and --token-file to `command`, which receives one `token` (or None)."""

    @functools.wraps(command)
    def resolved(*args: Any, token: str | None, token_file: Path | None, **kwargs: Any) -> Any:
        return command(*args, token=resolve(token, token_file), **kwargs)

    resolved = click.option(
        "--token-file", "token_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
        help=f"File whose first line is the server token (for a server URL); else ${TOKEN_VAR}.")(resolved)
    resolved = click.option(
        "--token", default=None,
        help="Server token; other local users see it in ps: prefer --token-file or "
             f"${TOKEN_VAR}.")(resolved)
    return resolved  # type: ignore[return-value]


def resolve(token: str | None, token_file: Path | None) -> str | None:
    """The token from --token (warned about), --token-file or the environment, in that order."""
    if token is not None and token_file is not None:
        raise click.UsageError("give the token once: --token or --token-file, not both")
    if token is not None:
        click.echo(PS_WARNING, err=True)
        return token
    if token_file is not None:
        return _read(token_file)
    return os.environ.get(TOKEN_VAR) or None


def _read(path: Path) -> str:
    try:
        text = path.expanduser().read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise click.BadParameter(f"cannot read {path}: {detail}", param_hint="--token-file") from None
    lines = text.strip().splitlines()
    if not lines or not lines[0].strip():
        raise click.BadParameter(f"{path} is empty: its first line should be the token", param_hint="--token-file")
    return lines[0].strip()
