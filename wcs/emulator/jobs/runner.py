"""The job queue: accepts fmgr / fops jobs, runs their items on a small pool, keeps and sends their status.

A job is accepted with a ``persistentId`` at once and run on a small thread pool; fetch jobs, which wait
on their origins, run on threads of their own (``Settings.fetch_workers``), so that no other job ever
waits behind them. Its status document (reference 7.3 / 7.6) lives in sqlite, so ``/fmgr/status`` and
``/status/get/prefop`` keep answering after a restart. A stop cuts every fetch and notification in flight
and ends running jobs after their current item (the items left fail); a job that had not started yet
is marked failed at the next start rather than silently re-run.

Codes: top-level 0 pending, 1 processing, 3 done, then with a ``notifyURL`` 4 notifying, 5 notify failed,
6 notify succeeded (a poller should wait while the code is 0, 1 or 4). Item codes: 0 pending,
1 processing, 2 failed, 3 succeeded. [INFERRED] descriptions: ``fileOperateSucceed`` /
``fileOperateFailed`` at the top level when every / not every item succeeded; a failed item's ``desc`` and
``error`` both carry the reason (e.g. ``avthumb is not supported by the emulator (no ffmpeg)``).

[INFERRED] Notifications POST the URL-safe Base64 of the status JSON (top-level code 3) with
``Authorization: AK:sign(notifyURL + "\\n" + body)``; ``separate=1`` sends one notification per op whose
``items`` holds just that op.
"""

import functools
import json
import logging
import os
import queue
import sqlite3
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Dict, List, Optional, Tuple

from wcs.commons.auth import callback_signature
from wcs.commons.util import urlsafe_base64_encode
from wcs.emulator import outbound
from wcs.emulator.errors import ApiError, ServiceUnavailable
from wcs.emulator.jobs.fetch import Fetcher
from wcs.emulator.jobs.fmgr import FmgrOps
from wcs.emulator.jobs.fops import Fops
from wcs.emulator.jobs.outputs import Outputs
from wcs.emulator.jobs.params import OpFailed
from wcs.emulator.settings import Settings
from wcs.emulator.state import ObjectInfo, Store

logger = logging.getLogger(__name__)

Run = Callable[[], Dict[str, Any]]
"""Does one item of a job; returns the fields of its succeeded status item."""
NOTIFY_DEADLINE_S = 30.0
"""The whole of one notification, attempts and backoff included."""
_STOPPED = "interrupted by an emulator stop"
_JOIN_FETCHES_S = 2.0


def new_persistent_id() -> str:
    # Same look as the service's ids: 36 hex characters.
    return uuid.uuid4().hex + os.urandom(2).hex()


def _summary(status: Dict[str, Any]) -> str:
    ok = all(item["code"] == 3 for item in status["items"])
    return "fileOperateSucceed" if ok else "fileOperateFailed"


def _new_item(cmd: str) -> Dict[str, Any]:
    return {"cmd": cmd, "code": 0, "desc": "waiting", "error": None, "hash": "", "fsize": 0, "key": "", "url": ""}


class _DaemonLane:
    """Runs submitted calls on ``workers`` daemon threads: the interpreter's exit never waits on them
    (a ThreadPoolExecutor's threads are joined at exit)."""

    def __init__(self, workers: int, name: str) -> None:
        self._queue: queue.Queue[Optional[Tuple[Callable[..., None], tuple]]] = queue.Queue()
        self._threads = [threading.Thread(target=self._work, name="%s-%d" % (name, n), daemon=True)
                         for n in range(workers)]
        for thread in self._threads:
            thread.start()

    def submit(self, call: Callable[..., None], *args: Any) -> None:
        self._queue.put((call, args))

    def _work(self) -> None:
        while True:
            task = self._queue.get()
            if task is None:
                return
            call, args = task
            try:
                call(*args)
            except Exception:  # a job's own failures are in its status; this is a bug, keep it visible
                logger.exception("job thread: %r failed", call)

    def shutdown(self, timeout: float) -> None:
        """Drop the calls not started, let the running ones end within ``timeout`` seconds."""
        try:
            while True:
                self._queue.get_nowait()
        except queue.Empty:
            pass
        for _ in self._threads:
            self._queue.put(None)
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))


class JobManager:
    """Runs fmgr / fops jobs on a thread pool (fetches on their own) and keeps their status in the store.

    ``settings`` (default: :meth:`Settings.from_env`) bounds fetches: deadline, size, threads.
    """

    def __init__(self, store: Store, access_key: str, secret_key: str, base_url: Callable[[], str],
                 workers: int = 2, settings: Optional[Settings] = None) -> None:
        self.store = store
        self.access_key = access_key
        self.secret_key = secret_key
        self.settings = settings or Settings.from_env()
        outputs = Outputs(store, base_url)
        self._fetcher = Fetcher(self.settings)
        self._notifications = outbound.Watches()
        self._fmgr = FmgrOps(outputs, self._fetcher)
        self._fops = Fops(outputs)
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="wcs-emulator-job")
        self._fetches = _DaemonLane(self.settings.fetch_workers, "wcs-emulator-fetch")
        self._closed = False
        self._lock = threading.Lock()
        self._fail_interrupted()

    @property
    def fetcher(self) -> Fetcher:
        """The bounded origin fetcher, for fetches made in a request (``/prefetch``); cut by :meth:`shutdown`."""
        return self._fetcher

    def shutdown(self) -> None:
        """Cut fetches and notifications in flight, end running jobs after their current item."""
        with self._lock:
            self._closed = True
        self._fetcher.stop()
        self._notifications.stop()
        self._fetches.shutdown(_JOIN_FETCHES_S)
        try:
            self._executor.shutdown(wait=True, cancel_futures=True)
        except TypeError:  # Python 3.8: no cancel_futures; queued jobs then fail at the next start
            self._executor.shutdown(wait=True)

    # -- status -------------------------------------------------------------------------------------

    def _fail_interrupted(self) -> None:
        for job_id, (kind, text) in self.store.all_jobs().items():
            status = json.loads(text)
            if status.get("code") not in (0, 1, 4):
                continue
            for item in status["items"]:
                if item["code"] in (0, 1):
                    item.update(code=2, desc="interrupted by an emulator restart",
                                error="interrupted by an emulator restart")
            status["code"] = 5 if status["code"] == 4 else 3
            status["desc"] = _summary(status)
            self.store.save_job(job_id, kind, json.dumps(status))

    def status(self, job_id: str) -> Optional[Dict[str, Any]]:
        row = self.store.load_job(job_id)
        return json.loads(row[1]) if row else None

    def _save(self, kind: str, status: Dict[str, Any]) -> None:
        try:
            self.store.save_job(status["id"], kind, json.dumps(status))
        except sqlite3.ProgrammingError:  # the store closed under a fetch that outlived the stop
            if not self._closed:
                raise
            logger.info("job %s: status not saved, the emulator stopped", status["id"])

    # -- submission ---------------------------------------------------------------------------------

    def submit_fmgr(self, op: str, ops: List[str], notify_url: Optional[str], force: bool,
                    separate: bool) -> str:
        """Queue ``ops`` of fmgr operation ``op``; returns the persistentId."""
        job_id = new_persistent_id()
        status = {"id": job_id, "code": 0, "desc": "waiting", "separate": int(separate),
                  "items": [_new_item(cmd) for cmd in ops]}
        self._save("fmgr", status)
        runs: List[Run] = [functools.partial(self._fmgr.run, op, cmd, force) for cmd in ops]
        self._start("fmgr", status, runs, notify_url, separate, on_own_threads=op == "fetch")
        return job_id

    def submit_fops(self, source: ObjectInfo, ops: List[str], notify_url: Optional[str], force: bool,
                    separate: bool) -> str:
        """Queue persistent-processing ``ops`` on object ``source``; returns the persistentId."""
        job_id = new_persistent_id()
        status = {"id": job_id, "code": 0, "desc": "waiting", "separate": int(separate),
                  "inputkey": source.key, "inputbucket": source.bucket, "inputfsize": source.fsize,
                  "items": [_new_item(cmd) for cmd in ops]}
        self._save("fops", status)
        runs: List[Run] = [functools.partial(self._fops.run, cmd, source.bucket, source.key, force) for cmd in ops]
        self._start("fops", status, runs, notify_url, separate)
        return job_id

    def _start(self, kind: str, status: Dict[str, Any], runs: List[Run], notify_url: Optional[str],
               separate: bool, on_own_threads: bool = False) -> None:
        with self._lock:
            if self._closed:
                raise ServiceUnavailable("emulator is stopping")
            submit = self._fetches.submit if on_own_threads else self._executor.submit
            submit(self._run, kind, status, runs, notify_url, separate)

    # -- running ------------------------------------------------------------------------------------

    def _run(self, kind: str, status: Dict[str, Any], runs: List[Run], notify_url: Optional[str],
             separate: bool) -> None:
        status["code"] = 1
        status["desc"] = "processing"
        self._save(kind, status)
        for item, run in zip(status["items"], runs):
            if self._closed:
                item.update(code=2, desc=_STOPPED, error=_STOPPED)
                continue
            item.update(code=1, desc="processing")
            self._save(kind, status)
            started = time.monotonic()
            try:
                result = run()
                item.update(code=3, desc="fileOperateSucceed", error=None, **result)
            except OpFailed as exc:
                item.update(code=2, desc=str(exc), error=str(exc))
            except ApiError as exc:
                item.update(code=2, desc=exc.message, error=exc.message)
            except Exception as exc:  # a bug or an I/O error must still end the item, visibly
                logger.exception("job %s: %s failed", status["id"], item["cmd"])
                message = "emulator error: %s: %s" % (type(exc).__name__, exc)
                item.update(code=2, desc=message, error=message)
            if kind == "fops":
                item["costTime"] = int((time.monotonic() - started) * 1000)
            self._save(kind, status)
            if notify_url and separate:
                single = dict(status, code=3, desc=_summary({"items": [item]}), items=[item])
                self._notify(notify_url, single)
        status["code"] = 3
        status["desc"] = _summary(status)
        if notify_url and not separate:
            status["code"] = 4
            self._save(kind, status)
            ok = self._notify(notify_url, dict(status, code=3))
            status["code"] = 6 if ok else 5
        elif notify_url:
            status["code"] = 6
        self._save(kind, status)

    def _notify(self, url: str, status: Dict[str, Any]) -> bool:
        body = urlsafe_base64_encode(json.dumps(status)).encode("ascii")
        headers = {"Content-Type": "text/plain; charset=UTF-8",
                   "Authorization": callback_signature(self.access_key, self.secret_key, url, body)}
        try:
            with self._notifications.watch(NOTIFY_DEADLINE_S) as watch:
                outbound.post(url, body, headers, watch=watch)
            return True
        except outbound.OutboundError as exc:
            logger.warning("notification to %s failed: %s", url, exc)
            return False
