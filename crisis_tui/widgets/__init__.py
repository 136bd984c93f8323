"""The room's panes, one module each; they render state and post messages."""
