"""A count of what a tree run goes through, made beside the run, so that its progress has a total.

The run itself streams its plan (:mod:`.plan`) and only looks as far ahead as its transfers allow,
so it never knows how much is left. :class:`Census` walks the source a second time in a thread of
its own, through the same pieces and filters as the plan (the local walk, or a listing of the
prefix), and tells the observer's ``on_total(files, bytes)`` once it has seen everything: the
source files that take part (filters applied; for downloads, keys that will be refused count too,
as the plan reports them). It only reads; a failure leaves the total unknown (logged), never the
run failed.
"""

import logging
import threading
from typing import Any, Callable, Iterable, Optional, Tuple

from wcs.services.tree.filters import FilterRules
from wcs.services.tree.localtree import LocalTree
from wcs.services.tree.plan import UPLOAD, local_entries, remote_entries

log = logging.getLogger(__name__)


class _Stopped(Exception):
    pass


def count(entries: Iterable[Tuple[str, Any]], filters: Optional[FilterRules],
          stop: Optional[threading.Event] = None) -> Tuple[int, int]:
    """``(files, bytes)`` of the ``(rel, item)`` entries the filters let through."""
    files = size = 0
    for rel, item in entries:
        if stop is not None and stop.is_set():
            raise _Stopped()
        if filters is None or filters.included(rel):
            files += 1
            size += item.size
    return files, size


class Census:
    """Counts the source of a run in a daemon thread and reports ``(files, bytes)`` to ``report``.

    Args:
        direction: :data:`~.plan.UPLOAD` (the source is ``root``) or a download (the source is the
            listing ``list_source()`` returns, of keys starting with ``prefix``).
        report: called once with the counts, from the census thread.
        delay: seconds before counting starts: a run over by then is not walked twice (a no-op sync
            of 10,000 files takes less than a second, and nobody reads its total).
    """

    def __init__(self, direction: str, root: str, list_source: Callable[[], Iterable[Any]], prefix: str,
                 filters: Optional[FilterRules], follow_symlinks: bool, report: Callable[[int, int], None],
                 delay: float = 0.0) -> None:
        self._delay = delay
        self._direction = direction
        self._root = root
        self._list_source = list_source
        self._prefix = prefix
        self._filters = filters
        self._follow = follow_symlinks
        self._report = report
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="wcs-census", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        if self._stop.wait(self._delay):
            return
        listing: Any = None
        try:
            if self._direction == UPLOAD:
                entries: Iterable[Tuple[str, Any]] = local_entries(LocalTree(self._root, follow_symlinks=self._follow))
            else:
                listing = self._list_source()
                entries = remote_entries(listing, self._prefix)
            files, size = count(entries, self._filters, self._stop)
        except _Stopped:
            return
        except Exception as exc:  # only the total is lost: the run reports its own failures
            log.debug("counting the source failed: %s", exc)
            return
        finally:
            close = getattr(listing, "close", None)
            if close is not None:
                close()
        if not self._stop.is_set():
            self._report(files, size)

    def stop(self) -> None:
        """Stop counting (the run is over): the thread notices within one entry (or one listing page,
        which it is not waited for)."""
        self._stop.set()
        self._thread.join(timeout=1.0)
