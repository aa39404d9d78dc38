"""Test-only crash injection: ``WCS_EMULATOR_CRASH_AT=<point>`` makes the emulator process die on the spot
(``os._exit``, no cleanup, like ``kill -9``) when it reaches that point, so recovery can be tested
against a real crash. Not for anything but tests; unset (the default), it costs one dict lookup.

Points:

* ``after-rename``: an object's file has been moved into ``objects/`` (for an mkfile written in place,
  its upload's batch file) but its metadata is not committed yet.
"""

import os

ENVIRONMENT = "WCS_EMULATOR_CRASH_AT"
EXIT_STATUS = 70
"""What the process exits with when a crash point fires."""


def crash_point(name: str) -> None:
    """Die here if the environment asks for a crash at ``name`` (test-only)."""
    if os.environ.get(ENVIRONMENT) == name:
        os._exit(EXIT_STATUS)
