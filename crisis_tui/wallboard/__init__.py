"""The read-only wallboard: a standalone Textual app for the room's big screen (see app.py)."""
