"""``python -m wcs.emulator``: the same as the ``wcs-emulator`` command."""

import sys

from wcs.emulator.cli import main

sys.exit(main())
