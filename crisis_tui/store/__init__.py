"""Storage: the IncidentStore protocol and its transports (no Textual here)."""

from crisis_tui.store.protocol import IncidentStore
from crisis_tui.store.sqlite import SqliteStore

__all__ = ["IncidentStore", "SqliteStore"]
