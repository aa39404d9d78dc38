"""Asynchronous jobs: fmgr operations, persistent processing (fops) and their notifications.

Modules: :mod:`~.runner` (the queue, item status and notifications: :class:`JobManager`),
:mod:`~.fmgr` (the fmgr operations; :mod:`~.fetch` downloads origins within a deadline and a size
cap), :mod:`~.fops` (persistent processing: decompression), :mod:`~.params` (how an operation reads
its parameters and fails), :mod:`~.outputs` (how it stores what it makes).
"""

from wcs.emulator.jobs.fmgr import FMGR_OPS, m3u8_segments
from wcs.emulator.jobs.runner import JobManager, new_persistent_id

__all__ = ["JobManager", "FMGR_OPS", "m3u8_segments", "new_persistent_id"]
