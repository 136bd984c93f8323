"""Drills: the committee rehearses the worst scenarios before they happen.

`scenario` reads a scenario file, `play` turns it into a drill incident's
comments and injects over time, `report` scores the committee against the
scenario's targets. Headless: the command line, the room and the tests play
the very same drill through the IncidentStore protocol.
"""
