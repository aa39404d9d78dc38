"""The vocabulary of tree transfers: what a run is asked (:class:`TreeOptions`), who hears about it
(:class:`TreeObserver`, called through :class:`Hooks`) and what it did (:class:`TreeSummary`)."""

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, NamedTuple, Optional

from wcs.commons.errors import InvalidArgument
from wcs.commons.settings import DEFAULT_TRANSFERS
from wcs.services.tree.filters import FilterRules
from wcs.services.tree.plan import Action

MiB = 1024 * 1024


class Remote(NamedTuple):
    """A place in a bucket: ``prefix`` ``""`` is the whole bucket; ``photos`` means ``photos/...``."""

    bucket: str
    prefix: str = ""

    @property
    def key_prefix(self) -> str:
        """The prefix keys start with: ``photos`` -> ``photos/`` (a folder, never ``photos2``)."""
        prefix = self.prefix.lstrip("/")
        return prefix if not prefix or prefix.endswith("/") else prefix + "/"

    def __str__(self) -> str:
        return "wcs://%s/%s" % (self.bucket, self.key_prefix)


@dataclass(frozen=True)
class TreeOptions:
    """How a tree is transferred.

    Attributes:
        sync: decide by content (``sync``); False copies every file (``put -r`` / ``get -r``).
        skip_existing: skip files the destination has, whatever their content.
        size_only: files of equal size are taken as equal (no etag compared).
        delete: delete destination files the source lacks (``sync`` only), after a run without errors.
        max_delete: refuse to delete more than this many files (nothing is deleted then).
        dry_run: decide and report, change nothing.
        transfers: files transferred at once (the pool grows to at least this size).
        filters: include/exclude rules (:mod:`wcs.services.tree.filters`).
        follow_symlinks: walk into symlinked folders and send what symlinks point to.
        fail_fast: stop starting transfers after the first failure.
        hash_cache: the etag cache file; ``""``: the default (``~/.cache/wcs/etags.sqlite``);
            None: none kept between runs.
        multipart_threshold: files of at least this size are uploaded in blocks (resumable).
        delete_batch: deletions per fmgr delete job.
        copy_batch: copies per fmgr copy job (between two bucket prefixes).
        job_timeout: seconds to wait for one delete or copy job to finish.
        file_retries: extra attempts for a file whose transfer failed in a way a retry may fix.
        move: remove each source file or object once its copy is verified (``mv -r``; copies every
            file, so ``sync`` and ``delete`` must be False).
    """

    sync: bool = True
    skip_existing: bool = False
    size_only: bool = False
    delete: bool = False
    max_delete: Optional[int] = None
    dry_run: bool = False
    transfers: int = DEFAULT_TRANSFERS
    filters: Optional[FilterRules] = None
    follow_symlinks: bool = False
    fail_fast: bool = False
    hash_cache: Optional[str] = ""
    multipart_threshold: int = 8 * MiB
    delete_batch: int = 100
    copy_batch: int = 100
    job_timeout: float = 600.0
    file_retries: int = 1
    move: bool = False

    def check(self) -> "TreeOptions":
        """Self, if the combination makes sense.

        Raises:
            InvalidArgument: naming the problem.
        """
        if isinstance(self.transfers, bool) or not isinstance(self.transfers, int) or self.transfers < 1:
            raise InvalidArgument("transfers must be a positive integer, got %r" % (self.transfers,))
        if self.max_delete is not None and (not isinstance(self.max_delete, int) or self.max_delete < 0):
            raise InvalidArgument("max_delete must be a non-negative integer, got %r" % (self.max_delete,))
        if self.delete and not self.sync:
            raise InvalidArgument("delete needs a sync (put -r / get -r only copy)")
        if self.move and (self.sync or self.delete):
            raise InvalidArgument("move copies every file: it goes with neither sync nor delete")
        if self.multipart_threshold < 1 or self.delete_batch < 1 or self.copy_batch < 1 or self.file_retries < 0:
            raise InvalidArgument("multipart_threshold, delete_batch and copy_batch must be positive, "
                                  "file_retries >= 0")
        return self


class TreeObserver:
    """What a tree run tells as it goes; override what you need. Calls never overlap (one lock).

    ``on_action``: a decision, once final (a compared file is reported as skipped or transferred
    once its etag is known); in a dry run, the plan. ``on_done``: a transfer or deletion finished
    (``error`` None) or failed (the reason). ``on_note``: something of the local tree left out
    (symlink, FIFO...). ``on_error``: a failure, naming the file or folder.

    An observer that also defines ``on_total(files, bytes)`` gets, once, the count of the source
    files the run goes through (filters applied), made beside the run (:mod:`.census`): a progress
    display's total. Not defined here, so that observers that do not want it cost no second walk.
    """

    def on_action(self, action: Action) -> None:
        pass

    def on_done(self, action: Action, error: Optional[str]) -> None:
        pass

    def on_note(self, where: str, message: str) -> None:
        pass

    def on_error(self, where: str, message: str) -> None:
        pass


class Hooks:
    """Calls the methods of a run's observer (``hooks("on_done", action, None)``) one at a time, from any
    thread. A method the observer lacks is skipped (a duck-typed observer may implement only some); one
    that raises is logged on ``log`` as the ``name``'s, and the run goes on: an observer's bug must not
    turn into a failed transfer."""

    def __init__(self, observer: Any, log: logging.Logger, name: str) -> None:
        self.observer = observer
        self._log = log
        self._name = name
        self._lock = threading.Lock()

    def __call__(self, method: str, *args: Any) -> None:
        call = getattr(self.observer, method, None)
        if call is None:
            return
        with self._lock:
            try:
                call(*args)
            except Exception:
                self._log.exception("%s %s failed", self._name, method)


@dataclass
class TreeSummary:
    """What a run did. ``ok`` is True when no file failed and nothing went wrong around them.

    ``replaced``: between two bucket prefixes, how many copies replaced an existing object (None
    where the run does not know). ``sources_deleted``: for a move, the source files or objects
    removed after their copy was verified (None for other runs).
    """

    direction: str
    source: str
    destination: str
    dry_run: bool = False
    transferred_files: int = 0
    transferred_bytes: int = 0
    skipped: Dict[str, int] = field(default_factory=dict)
    failed: int = 0
    deleted: int = 0
    delete_status: str = "not requested"
    errors: List[str] = field(default_factory=list)
    planned_files: int = 0
    planned_bytes: int = 0
    planned_deletes: int = 0
    hashed_bytes: int = 0
    hashed_files: int = 0
    replaced: Optional[int] = None
    sources_deleted: Optional[int] = None
    started: float = field(default_factory=time.monotonic)
    elapsed: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failed and not self.errors

    @property
    def rate(self) -> float:
        """Bytes transferred per second of the run."""
        return self.transferred_bytes / self.elapsed if self.elapsed > 0 else 0.0

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1

    def finish(self) -> "TreeSummary":
        self.elapsed = time.monotonic() - self.started
        return self

    def to_json(self) -> Dict[str, Any]:
        """The summary document (``wcscmd sync`` prints it)."""
        doc: Dict[str, Any] = {
            "direction": self.direction, "source": self.source, "destination": self.destination,
            "dry_run": self.dry_run,
            "transferred": {"files": self.transferred_files, "bytes": self.transferred_bytes},
            "skipped": dict(sorted(self.skipped.items())),
            "deleted": self.deleted, "delete": self.delete_status,
            "failed": self.failed, "errors": list(self.errors),
            "hashed": {"files": self.hashed_files, "bytes": self.hashed_bytes},
            "elapsed": round(self.elapsed, 3), "rate": round(self.rate, 1),
        }
        if self.replaced is not None:
            doc["replaced"] = self.replaced
        if self.sources_deleted is not None:
            doc["sources_deleted"] = self.sources_deleted
        if self.dry_run:
            doc["planned"] = {"files": self.planned_files, "bytes": self.planned_bytes,
                              "deletes": self.planned_deletes}
        return doc
