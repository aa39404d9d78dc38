"""``mv -r`` from a bucket prefix to a local folder: the objects downloaded, deleted at the end.

Each download is verified by the engine as any download is; the objects are deleted only after the
transfers, in batches (:class:`~.deletes.RemoteDeleter`), and only those that still are the version
downloaded: the prefix is listed once more and an object whose etag changed since (replaced while
the run went on) is kept and reported. The downloads are spooled in the order they were planned,
which is key order, so that check is a merge with the listing (:func:`~.copies.check_listed`);
failed ones are remembered (only failures are kept in memory).
"""

import threading
from typing import Callable, Optional, Set, Tuple

from wcs.services.bucket import BucketManager
from wcs.services.jobs import FmgrService
from wcs.services.listing import ListFunction
from wcs.services.scheduler import Scheduler
from wcs.services.tree.copies import MISSING, CopySpool, check_listed
from wcs.services.tree.deletes import DeleteSpool, RemoteDeleter
from wcs.services.tree.model import Remote, TreeOptions
from wcs.services.tree.plan import DELETE, Action

Done = Callable[[Action, Optional[str]], None]


class DownloadedSources:
    """The objects an ``mv -r`` downloads; :meth:`delete` removes those downloaded and unchanged."""

    def __init__(self) -> None:
        self.spool = CopySpool()
        self.failed: Set[str] = set()
        self._lock = threading.Lock()

    def planned(self, action: Action) -> None:
        """A download about to start (called in key order)."""
        info = action.remote
        self.spool.add(action.rel, info.hash if info is not None else "", info.size if info is not None else 0)

    def fail(self, rel: str) -> None:
        with self._lock:
            self.failed.add(rel)

    def delete(self, remote: Remote, *, objects: BucketManager, jobs: FmgrService, listing: ListFunction,
               scheduler: Scheduler, options: TreeOptions, on_done: Done) -> Tuple[int, int]:
        """Delete the downloaded objects still unchanged; ``(deleted, failed)`` (the changed count as failed).

        Raises:
            ServiceError, NetworkError: a listing failed (nothing, or not everything, is deleted).
        """
        if not self.spool.count:
            return 0, 0
        unchanged = DeleteSpool()
        changed = 0
        try:
            for rel, _size, _replaces, problem in check_listed(listing, remote, self.spool, self.failed):
                if problem is None:
                    unchanged.add(rel)
                elif problem != MISSING:  # gone already: nothing to delete, nothing lost
                    changed += 1
                    on_done(Action(DELETE, rel, "moved"), "replaced since it was downloaded: the object is kept")
            if not unchanged.count:
                return 0, changed
            deleter = RemoteDeleter(objects, jobs, remote.bucket, remote.key_prefix, batch=options.delete_batch,
                                    timeout=options.job_timeout, on_done=on_done, listing=listing)
            with scheduler.group() as group:
                deleted, failed = deleter.run(unchanged, group, options.transfers)
            return deleted, failed + changed
        finally:
            unchanged.close()

    def close(self) -> None:
        self.spool.close()

