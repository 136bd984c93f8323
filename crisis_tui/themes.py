"""The room's own themes, registered with Textual next to its built-in ones.

`crisis-high-contrast` is for wallboards and low-vision operators: pure black and
white with saturated signal colours. Colour never carries meaning alone in the
room (every state also has a symbol and a word), so NO_COLOR and monochrome
terminals lose nothing.
"""

from __future__ import annotations

from textual.theme import BUILTIN_THEMES, Theme

from crisis_tui.errors import InvalidInput

HIGH_CONTRAST = Theme(
    name="crisis-high-contrast",
    primary="#FFFF00",
    secondary="#00FFFF",
    accent="#FFFF00",
    foreground="#FFFFFF",
    background="#000000",
    surface="#000000",
    panel="#1A1A1A",
    success="#00FF00",
    warning="#FFB000",
    error="#FF4040",
    dark=True,
    variables={
        "border": "#FFFFFF",
        "border-blurred": "#C0C0C0",
        "text-muted": "#D0D0D0",
        "block-cursor-background": "#FFFF00",
        "block-cursor-foreground": "#000000",
        "block-cursor-blurred-background": "#404040",
        "footer-key-foreground": "#FFFF00",
    },
)

CALM_LIGHT = Theme(
    name="crisis-light",
    primary="#1F5FAF",
    secondary="#6A4C93",
    accent="#B34700",
    foreground="#1A1A1A",
    background="#FAFAF7",
    surface="#FFFFFF",
    panel="#E8E8E2",
    success="#1B7F3B",
    warning="#9A6700",
    error="#B00020",
    dark=False,
)

THEMES: tuple[Theme, ...] = (HIGH_CONTRAST, CALM_LIGHT)


def theme_names() -> list[str]:
    """Every theme a room can take: the room's own and Textual's built-in ones."""
    return sorted({*BUILTIN_THEMES, *(theme.name for theme in THEMES)})


def check_theme(name: str) -> str:
    """`name` when it is a theme; else one line that names them all (a typo is not silently ignored)."""
    names = theme_names()
    if name not in names:
        raise InvalidInput("--theme", f"no theme {name!r}; the themes are {', '.join(names)}")
    return name
