"""``python -m tests.bench [--quick] [--cases ...]``: see :mod:`tests.bench.harness`."""

import sys

from tests.bench.harness import main

sys.exit(main())
