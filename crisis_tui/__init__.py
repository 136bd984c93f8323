"""crisis-tui: a terminal room for a brand's social-media crisis committee."""

__version__ = "0.1.0"
