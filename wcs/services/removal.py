"""Deleting many objects of a bucket (``wcscmd rm``): named keys, glob patterns and whole prefixes.

Each target is turned into the keys it names, spooled to a temporary file (memory stays flat):

* a key is ``stat``-ed first: a key that does not exist is a failure ("no such object"), as ``rm``
  of a missing file is;
* a pattern (any ``*``, ``?`` or ``[``; ``\\`` escapes one) is matched client-side against a
  listing of its literal prefix, the part before the first wildcard: ``www/*.html`` lists
  ``www/`` and keeps the keys the whole pattern matches. ``*`` and ``?`` stop at ``/``; ``**``
  crosses it (the glob syntax of the tree filters, :mod:`wcs.services.tree.filters`, anchored at
  the start of the key);
* a prefix (``rm -r``) is a directory: ``www`` means every key under ``www/`` (never ``www2``);
  an empty prefix (the whole bucket) is refused.

The keys are then deleted by the tree delete phase (:class:`~wcs.services.tree.deletes.RemoteDeleter`):
batched fmgr delete jobs, followed to their end, and checked by listing the prefix again (by
``stat`` for keys named one by one). A dry run lists what would go and deletes nothing. Targets are
done one after the other, in the order given.
"""

import re
import threading
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Pattern, Tuple

from wcs.commons.errors import InvalidArgument, WcsError
from wcs.services.bucket import BucketManager
from wcs.services.jobs import FmgrService
from wcs.services.listing import ListFunction
from wcs.services.scheduler import Scheduler
from wcs.services.tree.deletes import DeleteSpool, RemoteDeleter
from wcs.services.tree.filters import glob_to_regex
from wcs.services.tree.model import Remote, TreeObserver
from wcs.services.tree.plan import DELETE, Action

WILDCARDS = "*?["
KEY, PATTERN, PREFIX = "key", "pattern", "prefix"
_JOB_MIN = 4  # fewer keys than this are deleted one request each: a job costs a submission and a poll


def is_pattern(text: str) -> bool:
    """True when ``text`` holds a glob wildcard (``*``, ``?``, ``[``), escaped or not."""
    return any(char in text for char in WILDCARDS)


def literal_prefix(pattern: str) -> str:
    """The part of ``pattern`` before its first wildcard, escapes undone (what the listing starts from)."""
    out: List[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            out.append(pattern[i + 1])
            i += 2
            continue
        if char in WILDCARDS:
            break
        out.append(char)
        i += 1
    return "".join(out)


def compile_pattern(pattern: str) -> Pattern[str]:
    """The regex that ``fullmatch``-es the keys ``pattern`` names (anchored at the start of the key).

    Raises:
        InvalidArgument: an empty pattern or an unclosed ``[``.
    """
    return re.compile(glob_to_regex("/" + pattern.lstrip("/")) if pattern.strip("/") else glob_to_regex(pattern))


class Target:
    """One thing to delete: ``Target(KEY, "a/b.txt")``, ``Target(PATTERN, "www/*.html")``,
    ``Target(PREFIX, "www")``.

    Raises:
        InvalidArgument: an empty key, pattern or prefix (a prefix naming the whole bucket).
    """

    def __init__(self, kind: str, text: str) -> None:
        if kind not in (KEY, PATTERN, PREFIX):
            raise InvalidArgument("unknown target kind %r" % (kind,))
        if kind == PREFIX and not text.strip("/"):
            raise InvalidArgument("an empty prefix names the whole bucket: refused (give a prefix)")
        if not text:
            raise InvalidArgument("an empty %s" % kind)
        self.kind = kind
        self.text = text
        self.regex = compile_pattern(text) if kind == PATTERN else None

    @property
    def base(self) -> str:
        """The prefix the target's keys are listed under (and checked by)."""
        if self.kind == PREFIX:
            return Remote("", self.text).key_prefix
        if self.kind == PATTERN:
            return literal_prefix(self.text)
        return ""

    def __repr__(self) -> str:
        return "Target(%r, %r)" % (self.kind, self.text)


@dataclass
class RemoveSummary:
    """What a removal did: ``deleted`` / ``failed`` keys (``planned`` in a dry run) and each failure."""

    bucket: str
    dry_run: bool = False
    deleted: int = 0
    failed: int = 0
    planned: int = 0
    errors: List[Tuple[str, str]] = field(default_factory=list)  # (key, why), failures only

    @property
    def ok(self) -> bool:
        return not self.failed and not self.errors

    def to_json(self) -> Dict[str, Any]:
        doc: Dict[str, Any] = {"bucket": self.bucket, "dry_run": self.dry_run, "deleted": self.deleted,
                               "failed": self.failed,
                               "errors": [{"key": key, "error": error} for key, error in self.errors]}
        if self.dry_run:
            doc["planned"] = self.planned
        return doc


class Removal:
    """Deletes the keys of ``targets`` in ``bucket`` (see the module docstring); use once.

    Args:
        objects: ``stat`` and single deletions. jobs: fmgr delete jobs.
        listing: the facade's listing. scheduler: where the batches run, ``parallel`` at once.
        observer: ``on_action`` (a key planned), ``on_done`` (a key deleted or failed), ``on_error``.
    """

    def __init__(self, bucket: str, targets: Iterable[Target], *, objects: BucketManager, jobs: FmgrService,
                 listing: ListFunction, scheduler: Scheduler, dry_run: bool = False, batch: int = 100,
                 parallel: int = 4, job_timeout: float = 600.0, observer: Optional[TreeObserver] = None) -> None:
        self.bucket = bucket
        self.targets = list(targets)
        self.objects = objects
        self.jobs = jobs
        self.listing = listing
        self.scheduler = scheduler
        self.batch = batch
        self.parallel = max(1, parallel)
        self.job_timeout = job_timeout
        self.observer = observer or TreeObserver()
        self.summary = RemoveSummary(bucket, dry_run)
        self._lock = threading.Lock()

    def _tell(self, method: str, *args: Any) -> None:
        call = getattr(self.observer, method, None)
        if call is not None:
            with self._lock:
                call(*args)

    def _fail(self, key: str, error: str) -> None:
        self.summary.failed += 1
        self.summary.errors.append((key, error))
        self._tell("on_error", key, error)

    def _groups(self) -> Iterable[List[Target]]:
        """The targets in order, consecutive keys together (one spool, deleted in batches)."""
        keys: List[Target] = []
        for target in self.targets:
            if target.kind == KEY:
                keys.append(target)
                continue
            if keys:
                yield keys
                keys = []
            yield [target]
        if keys:
            yield keys

    def run(self) -> RemoveSummary:
        """Delete (or plan) every target's keys; failures are in the summary, not raised."""
        for group in self._groups():
            spool = DeleteSpool()
            try:
                try:
                    self._expand(group, spool)
                except WcsError as exc:  # a listing failed: nothing of this target is deleted
                    self._fail(group[0].text, "listing failed: %s" % exc)
                    continue
                if self.summary.dry_run:
                    self.summary.planned += spool.count
                elif spool.count:
                    self._delete(group[0], spool)
            finally:
                spool.close()
        return self.summary

    def _expand(self, group: List[Target], spool: DeleteSpool) -> None:
        """Spool the keys the targets name, relative to their base; each told as a planned deletion."""
        target = group[0]
        base = target.base
        if target.kind == KEY:
            for key in group:
                result = self.objects.stat(self.bucket, key.text)
                if result.ok:
                    self._plan(spool, base, key.text)
                elif result.code == 404:
                    self._fail(key.text, "no such object")
                else:  # this key is not deleted; the others are
                    self._fail(key.text, "stat failed: HTTP %d: %s" % (result.code, result.message))
            return
        listing = self.listing(self.bucket, base)
        try:
            for info in listing:
                if not info.key.startswith(base):
                    raise WcsError("the listing of %r returned %r, outside the prefix" % (base, info.key))
                if target.regex is None or target.regex.fullmatch(info.key):
                    self._plan(spool, base, info.key[len(base):])
        finally:
            listing.close()

    def _plan(self, spool: DeleteSpool, base: str, rel: str) -> None:
        spool.add(rel)
        self._tell("on_action", Action(DELETE, base + rel, "dry-run" if self.summary.dry_run else "rm"))

    def _delete(self, target: Target, spool: DeleteSpool) -> None:
        base = target.base

        def done(action: Action, error: Optional[str]) -> None:
            key = base + action.rel
            self._tell("on_done", Action(DELETE, key, "rm"), error)
            if error is not None:
                with self._lock:
                    self.summary.errors.append((key, error))
                self._tell("on_error", key, error)

        deleter = RemoteDeleter(self.objects, self.jobs, self.bucket, base, batch=self.batch,
                                timeout=self.job_timeout, on_done=done, listing=self.listing,
                                verify_by="stat" if target.kind == KEY else "listing", job_min=_JOB_MIN)
        try:
            with self.scheduler.group() as group:
                deleted, failed = deleter.run(spool, group, self.parallel)
        except WcsError as exc:
            self._fail(target.text, "could not check the deletions: %s" % exc)
            return
        self.summary.deleted += deleted
        self.summary.failed += failed
