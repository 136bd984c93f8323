"""The room's screens: the room itself and its small modal dialogs."""
