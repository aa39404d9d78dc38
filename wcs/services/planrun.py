"""Carrying out a plan (``apply``) or a batch file: each action only after its facts are checked again.

:class:`PlanRun` is an engine over the services it receives (the listing and single calls, the
uploaders, the downloader, the fmgr jobs, the pool, an opener of fsspec URLs); the facade builds
them (:mod:`wcs.services.client_migrate`). For each action of a plan (:mod:`wcs.services.plans`):

1. the facts the plan recorded are compared with the facts now (a ``stat`` of the object, an
   ``lstat`` of the file, the other store's ``info``): any difference - another size, hash, ETag or
   modification time, an object that appeared where the plan relied on its absence, one that is gone -
   and the action is **not** carried out: it is reported as ``changed``, never overwritten blindly;
2. the action is done: ``upload`` (form or resumable blocks, the tree's file mover), ``download``
   (verified, renamed into place), ``fetch`` (batched in fmgr jobs followed to their end,
   :mod:`wcs.services.migrate.fetches`; a URL the service cannot reach is copied through the
   client), ``copy``/``move`` (server-side between WCS objects, the copy's hash checked; a ``move``
   between a local file and WCS removes the source once the copy is checked), ``skip`` (counted);
3. deletions come last, and only when nothing failed before them (a plan that could not be carried
   out whole deletes nothing), each after its own check.

Failures are per action (the summary's ``failed``, the observer's ``failed``); the run goes on.
"""

import json
import logging
import os
import tempfile
import threading
import time
from concurrent.futures import Future
from typing import IO, Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple

from wcs.commons.errors import Cancelled, InvalidArgument, LocalFileError, WcsError
from wcs.commons.result import ObjectInfo
from wcs.commons.settings import TransferConfig
from wcs.services import plans
from wcs.services.bucket import BucketManager
from wcs.services.download import Downloader
from wcs.services.events import Subscriber
from wcs.services.formupload import FormUploader
from wcs.services.jobs import FmgrService
from wcs.services.migrate.fetches import Fetch, FetchJobs
from wcs.services.migrate.journal import Journal
from wcs.services.migrate.source import HTTP_PROTOCOLS, etag_of, mtime_of, plain_md5
from wcs.services.planmodel import PlanSummary, RunSettings
from wcs.services.plans import differences
from wcs.services.scheduler import Scheduler
from wcs.services.tree import safepath
from wcs.services.tree.hashcache import EtagCache
from wcs.services.tree.localtree import LocalFile
from wcs.services.tree.mover import FileMover
from wcs.services.tree.plan import TRANSFER, Action
from wcs.services.uploads import BlockUploader

log = logging.getLogger(__name__)

DONE, CHANGED, FAILED, SKIPPED = "done", "changed", "failed", "skipped"
Opener = Callable[[str], Tuple[Any, str]]
"""``url -> (fsspec filesystem, path)``."""


class _Spool:
    """Deferred actions (the deletions) on disk until the transfers are done."""

    def __init__(self) -> None:
        self._fp: Optional[IO[str]] = None
        self.count = 0

    def add(self, action: Dict[str, Any]) -> None:
        if self._fp is None:
            self._fp = tempfile.TemporaryFile("w+", encoding="utf-8", prefix="wcs-plan-")
        self._fp.write(json.dumps(action) + "\n")
        self.count += 1

    def __iter__(self) -> Any:
        if self._fp is not None:
            self._fp.flush()
            self._fp.seek(0)
            for line in self._fp:
                yield json.loads(line)

    def close(self) -> None:
        if self._fp is not None:
            self._fp.close()


class PlanRun:
    """Carries out actions (see the module docstring); use once.

    Args:
        opener: opens another store's URL (fsspec), for ``fetch`` and uploads from it.
        observer: ``on_result(action, outcome, message)`` for each action: ``done``, ``skipped``,
            ``changed`` (its facts changed since the plan; nothing done) or ``failed``.
    """

    def __init__(self, *, objects: BucketManager, uploads: FormUploader, multipart: BlockUploader,
                 downloads: Downloader, jobs: FmgrService, scheduler: Scheduler, transfer: TransferConfig,
                 opener: Opener, settings: Optional[RunSettings] = None, observer: Any = None,
                 subscribers: Iterable[Subscriber] = (), source: str = "") -> None:
        self.objects = objects
        self.uploads = uploads
        self.multipart = multipart
        self.downloads = downloads
        self.jobs = jobs
        self.scheduler = scheduler
        self.transfer = transfer
        self.opener = opener
        self.settings = settings or RunSettings()
        self.observer = observer
        self.subscribers: Sequence[Subscriber] = list(subscribers)
        self.summary = PlanSummary(source)
        self._lock = threading.Lock()
        self._journal = Journal(None, "plan")
        self._cancel = threading.Event()

    # -- outcomes ----------------------------------------------------------------------------------

    def _report(self, action: Dict[str, Any], outcome: str, message: Optional[str] = None, moved: int = 0) -> None:
        with self._lock:
            summary = self.summary
            if outcome == DONE:
                summary.done[action["op"]] = summary.done.get(action["op"], 0) + 1
                summary.bytes += moved
            elif outcome == SKIPPED:
                summary.skipped[action["reason"]] = summary.skipped.get(action["reason"], 0) + 1
            elif outcome == CHANGED:
                summary.changed += 1
            else:
                summary.failed += 1
            call = getattr(self.observer, "on_result", None)
            if call is not None:
                try:
                    call(action, outcome, message)
                except Exception:  # an observer's bug must not fail the run
                    log.exception("plan observer failed")

    # -- the run -----------------------------------------------------------------------------------

    def run(self, actions: Iterable[Dict[str, Any]]) -> PlanSummary:
        """Carry out ``actions`` (plan action dicts, in order; deletions last)."""
        deletions = _Spool()
        pending: List[Dict[str, Any]] = []
        try:
            with self.scheduler.group() as group:
                self._cancel = group.cancel_event
                in_flight: List[Future] = []

                def submit(fn: Callable[..., None], *args: Any) -> None:
                    while len(in_flight) >= self.settings.transfers:
                        finished = next(group.as_completed())
                        in_flight.remove(finished)
                        self._collect(finished)
                    in_flight.append(group.submit(fn, *args))

                try:
                    for action in actions:
                        self.summary.actions += 1
                        op = action["op"]
                        if op == "skip":
                            self._report(action, SKIPPED)
                        elif op == "delete":
                            deletions.add(action)
                        elif op == "fetch":
                            pending.append(action)
                            if len(pending) >= self.settings.batch:
                                submit(self._fetch_batch, pending)
                                pending = []
                        else:
                            submit(self._one, action)
                except WcsError as exc:  # a plan line that cannot be read: nothing is deleted after this
                    self.summary.errors.append(str(exc))
                if pending:
                    submit(self._fetch_batch, pending)
                for finished in group.as_completed():
                    self._collect(finished)
            self._deletions(deletions)
        finally:
            deletions.close()
            self._journal.close()
        self.summary.elapsed = time.monotonic() - self.summary.started
        return self.summary

    def _collect(self, future: Future) -> None:
        if future.cancelled():
            return
        exc = future.exception()
        if exc is not None and not isinstance(exc, Exception):
            raise exc
        if exc is not None:
            log.error("plan task failed", exc_info=exc)
            self.summary.errors.append("unexpected %s: %s" % (type(exc).__name__, exc))

    # -- facts now ----------------------------------------------------------------------------------

    def _wcs_now(self, facts: Dict[str, Any]) -> Dict[str, Any]:
        result = self.objects.stat(facts["bucket"], facts["key"])
        if result.code == 404:
            return plans.wcs_facts(facts["bucket"], facts["key"])
        if not result.ok or not isinstance(result.data, dict):
            raise WcsError("cannot stat %s: HTTP %d: %s" % (plans.describe(facts), result.code, result.message))
        return plans.wcs_facts(facts["bucket"], facts["key"], ObjectInfo.from_item(result.data, facts["key"]))

    def _url_now(self, facts: Dict[str, Any]) -> Tuple[Dict[str, Any], Any, str]:
        fs, path = self.opener(facts["url"])
        try:
            info = fs.info(path)
        except FileNotFoundError:
            return {"url": facts["url"], "exists": False}, fs, path
        now = {"url": facts["url"], "size": info.get("size"), "etag": etag_of(info), "mtime": mtime_of(info),
               "md5": plain_md5(info)}
        return now, fs, path

    def _now(self, facts: Optional[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
        kind = plans.kind_of(facts)
        if kind == "wcs" and facts is not None:
            return self._wcs_now(facts)
        if kind == "local" and facts is not None:
            return plans.stat_facts(facts["path"])
        if kind == "url" and facts is not None:
            return self._url_now(facts)[0]
        return None

    def _check(self, action: Dict[str, Any]) -> Optional[str]:
        """What changed since the plan, on either side (None: nothing)."""
        for side in ("src", "dst"):
            change = differences(action.get(side), self._now(action.get(side)))
            if change is not None:
                return change
        return None

    # -- one action (a task) --------------------------------------------------------------------------

    def _one(self, action: Dict[str, Any]) -> None:
        try:
            change = self._check(action)
            if change is not None:
                self._report(action, CHANGED, change)
                return
            moved = self._carry_out(action)
        except Cancelled:
            self._report(action, FAILED, "cancelled")
        except (WcsError, OSError) as exc:
            self._report(action, FAILED, str(exc) or type(exc).__name__)
        else:
            self._report(action, DONE, None, moved)

    def _carry_out(self, action: Dict[str, Any]) -> int:
        op, src, dst = action["op"], action.get("src") or {}, action.get("dst") or {}
        kinds = (plans.kind_of(src), plans.kind_of(dst))
        if kinds == ("local", "wcs") and op in ("upload", "move"):
            moved = self._upload_file(src["path"], dst["bucket"], dst["key"])
            if op == "move":
                _remove_checked(src["path"], moved)
            return moved
        if kinds == ("url", "wcs") and op in ("upload", "fetch"):
            return self._stream(src, dst)
        if kinds == ("wcs", "local") and op in ("download", "move"):
            moved = self._download(src, dst["path"])
            if op == "move":
                self._delete_object(src)
            return moved
        if kinds == ("wcs", "wcs") and op in ("copy", "move"):
            return self._server_copy(src, dst, move=op == "move")
        raise InvalidArgument("cannot %s %s to %s" % (op, plans.describe(src), plans.describe(dst)))

    def _mover(self, bucket: str, root: str) -> FileMover:
        return FileMover(bucket=bucket, prefix="", root=root, uploads=self.uploads, multipart=self.multipart,
                         downloads=self.downloads, record_folder=self.transfer.tmp_record_folder, cache=EtagCache(None),
                         subscribers=list(self.subscribers), multipart_threshold=self.settings.multipart_threshold,
                         follow_symlinks=False, cancel=self._cancel)

    def _upload_file(self, path: str, bucket: str, key: str) -> int:
        try:
            f = LocalFile.from_stat(key, path, os.stat(path))
        except OSError as exc:
            raise LocalFileError("cannot read %s: %s" % (path, exc.strerror or exc)) from None
        return self._mover(bucket, os.path.dirname(path)).upload(Action(TRANSFER, key, "plan", f))

    def _download(self, src: Dict[str, Any], path: str) -> int:
        path = os.path.abspath(path)
        root = self.settings.local_root
        if not root or os.path.commonpath([os.path.abspath(root), path]) != os.path.abspath(root):
            root = os.path.dirname(path)
        root = os.path.abspath(root)
        os.makedirs(root, exist_ok=True)
        target = safepath.local_path(root, os.path.relpath(path, root).replace(os.sep, "/"))
        safepath.prepare_parent(root, target)
        safepath.check_target(root, target)
        size, expected = src.get("size"), src.get("hash")
        if size is None:  # a batch line: the object as it is now
            now = self._wcs_now(src)
            if now.get("exists") is False:
                raise WcsError("%s does not exist" % plans.describe(src))
            size, expected = now["size"], now.get("hash")
        result = self.downloads.fetch(self.downloads.download_url(src["bucket"], src["key"]), target, size=size,
                                      expected_hash=expected or None, subscribers=self.subscribers,
                                      bucket=src["bucket"], key=src["key"])
        if not result.ok:
            raise WcsError("download failed: HTTP %d: %s" % (result.code, result.message))
        return int(size)

    def _stream(self, src: Dict[str, Any], dst: Dict[str, Any]) -> int:
        """A URL the service could not fetch (or a plan's ``upload`` from another store): through the client."""
        fs, path = self.opener(src["url"])
        with fs.open(path, "rb") as fp:
            result = self.multipart.upload_stream(fp, dst["bucket"], dst["key"], overwrite=1,
                                                  subscribers=self.subscribers)
        if not result.ok:
            raise WcsError("upload failed: HTTP %d: %s" % (result.code, result.message))
        data = result.data if isinstance(result.data, dict) else {}
        return int(data.get("fsize") or src.get("size") or 0)

    def _server_copy(self, src: Dict[str, Any], dst: Dict[str, Any], move: bool) -> int:
        before = self._wcs_now(src)
        if before.get("exists") is False:
            raise WcsError("%s does not exist" % plans.describe(src))
        call = self.objects.move if move else self.objects.copy
        result = call(src["bucket"], src["key"], dst["bucket"], dst["key"])
        if not result.ok:
            raise WcsError("%s failed: HTTP %d: %s" % ("move" if move else "copy", result.code, result.message))
        after = self._wcs_now(dst)
        if after.get("hash") != before.get("hash"):
            raise WcsError("%s holds %s after the copy, not %s" % (plans.describe(dst), after.get("hash"),
                                                                   before.get("hash")))
        return 0  # nothing crossed the client

    def _delete_object(self, facts: Dict[str, Any]) -> None:
        result = self.objects.delete(facts["bucket"], facts["key"])
        if not result.ok and result.code != 404:
            raise WcsError("delete of %s failed: HTTP %d: %s" % (plans.describe(facts), result.code, result.message))

    # -- fetches ------------------------------------------------------------------------------------

    def _fetch_batch(self, batch: List[Dict[str, Any]]) -> None:
        ready: List[Tuple[Dict[str, Any], Fetch]] = []
        for action in batch:
            src, dst = action["src"] or {}, action["dst"] or {}
            try:
                now, fs, path = self._url_now(src)
                change = differences(src, now) or differences(dst, self._now(dst))
                if change is not None:
                    self._report(action, CHANGED, change)
                    continue
                if now.get("exists") is False:
                    raise WcsError("%s is gone" % src["url"])
                url = self._signed(fs, path, src["url"])
                if url is None:
                    self._report(action, DONE, None, self._stream(src, dst))
                    continue
                ready.append((action, Fetch(action["rel"], (int(now.get("size") or 0), now.get("etag"), None),
                                            dst["key"], url, src.get("md5") or now.get("md5"))))
            except (WcsError, OSError) as exc:
                self._report(action, FAILED, str(exc) or type(exc).__name__)
        by_bucket: Dict[str, List[Tuple[Dict[str, Any], Fetch]]] = {}
        for action, fetch in ready:
            by_bucket.setdefault(action["dst"]["bucket"], []).append((action, fetch))
        for bucket, items in by_bucket.items():
            fetches = FetchJobs(self.jobs, bucket, self._journal, timeout=self.settings.job_timeout)
            for (action, _fetch), outcome in zip(items, fetches.run([f for _a, f in items])):
                if outcome.error is None:
                    self._report(action, DONE)
                else:
                    self._report(action, FAILED, outcome.error)

    def _signed(self, fs: Any, path: str, url: str) -> Optional[str]:
        protocols = fs.protocol if isinstance(fs.protocol, (tuple, list)) else (fs.protocol,)
        if any(p in HTTP_PROTOCOLS for p in protocols):
            return url
        try:
            return str(fs.sign(path, expiration=int(self.settings.url_expiry)))
        except NotImplementedError:
            return None

    # -- deletions ----------------------------------------------------------------------------------

    def _deletions(self, spool: _Spool) -> None:
        summary = self.summary
        if not spool.count:
            return
        if summary.failed or summary.errors:
            summary.delete_status = "not done: %d failure(s) before; nothing deleted" % (
                summary.failed + len(summary.errors))
            return
        with self.scheduler.group() as group:
            for action in spool:
                group.submit(self._delete, action)
            for finished in group.as_completed():
                self._collect(finished)
        deleted = summary.done.get("delete", 0)
        summary.delete_status = "done" if deleted == spool.count else "%d of %d done" % (deleted, spool.count)

    def _delete(self, action: Dict[str, Any]) -> None:
        dst = action.get("dst") or {}
        try:
            change = self._check(action)
            if change is not None:
                self._report(action, CHANGED, change)
                return
            kind = plans.kind_of(dst)
            if kind == "wcs":
                self._delete_object(dst)
            elif kind == "local":
                _remove_checked(dst["path"], dst.get("size"))
            else:
                raise InvalidArgument("cannot delete %s" % plans.describe(dst))
        except (WcsError, OSError) as exc:
            self._report(action, FAILED, str(exc) or type(exc).__name__)
        else:
            self._report(action, DONE)


def _remove_checked(path: str, size: Optional[int]) -> None:
    """Remove the regular file ``path`` (of ``size`` bytes when given); never a folder or a special file."""
    now = plans.stat_facts(path)
    if now.get("exists") is False:
        raise LocalFileError("%s is not a regular file any more; not removed" % path)
    if size is not None and now.get("size") != size:
        raise LocalFileError("%s changed since it was copied; not removed" % path)
    os.remove(path)

