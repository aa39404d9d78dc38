"""Asynchronous jobs on the management domain: fmgr resource jobs (``/fmgr/<op>``) and persistent
processing (``/fops``), and their status.

An fmgr body is ``fops=<op;op;...>&notifyURL=<b64>&force=<0|1>&separate=<0|1>`` (protocol reference
7.1): the op list goes out as given (each parameter inside an op is already Base64 where the
service wants it). A processing body is ``bucket=<b64>&key=<b64>&fops=<b64 of the whole op
list>&notifyURL=<b64>&force=1&separate=1`` (7.5). In both, ``force`` and ``separate`` are only sent
when set, as the official SDK does. Every submission answers ``{"persistentId": ...}``; a status
needs no signature.

:func:`follow_job` is the one loop that follows a job to its end (``--wait`` of the job commands, the
deletions of ``sync --delete``).
"""

import logging
import time
from typing import Any, Callable, List, Mapping, Optional, Tuple

from wcs.commons.answers import JobStatus
from wcs.commons.http import Result, is_transient_failure
from wcs.commons.util import entry, urlsafe_base64_encode
from wcs.services.base import Service, form_body

log = logging.getLogger(__name__)


def job_options(notifyurl: Optional[str], force: Any, separate: Any) -> List[Tuple[str, Any]]:
    """The optional ``notifyURL``/``force``/``separate`` pairs shared by fmgr and fops bodies."""
    pairs: List[Tuple[str, Any]] = []
    if notifyurl:
        pairs.append(("notifyURL", urlsafe_base64_encode(notifyurl)))
    if force and int(force):
        pairs.append(("force", 1))
    if separate and int(separate):
        pairs.append(("separate", 1))
    return pairs


def fmgr_body(fops: str, notifyurl: Optional[str] = None, force: Any = 0, separate: Any = 0) -> str:
    """The body of an fmgr job (see the module docstring)."""
    return form_body([("fops", fops)] + job_options(notifyurl, force, separate))


def fops_body(fops: str, bucket: str, key: str, notifyurl: Optional[str] = None, force: Any = 0,
              separate: Any = 0) -> str:
    """The body of a processing job on ``bucket:key`` (see the module docstring)."""
    pairs = [("bucket", urlsafe_base64_encode(bucket)), ("key", urlsafe_base64_encode(key)),
             ("fops", urlsafe_base64_encode(fops))]
    return form_body(pairs + job_options(notifyurl, force, separate))


def build_op(cmd: str, first_arg: Optional[str] = None, params: Optional[Mapping[str, Any]] = None,
             save_bucket: Optional[str] = None, save_key: Optional[str] = None) -> str:
    """``cmd[/first_arg][/k/v...][|saveas/<b64 bucket:key>]``, e.g. ``avthumb/mp4/vb/1.25m|saveas/...``."""
    parts = [cmd]
    if first_arg is not None:
        parts.append(str(first_arg))
    for name, value in (params or {}).items():
        parts.append("%s/%s" % (name, value))
    op = "/".join(parts)
    if save_bucket is not None:
        op += "|saveas/" + entry(save_bucket, save_key)
    return op


class FmgrService(Service):
    """Submits fmgr jobs (move, copy, fetch, delete, deletePrefix, deletem3u8, compress) and reads their status."""

    def submit(self, operation: str, fops: str, notifyurl: Optional[str] = None, force: Any = 0,
               separate: Any = 0) -> Result:
        """POST ``/fmgr/<operation>`` with ``fops`` and the notification options."""
        return self.submit_body(operation, fmgr_body(fops, notifyurl, force, separate))

    def submit_body(self, operation: str, body: str) -> Result:
        """POST ``/fmgr/<operation>`` with a whole ``fops=...&...`` body, sent as given."""
        return self.mgr_post("/fmgr/" + operation, body)

    def status(self, persistent_id: str) -> Result:
        """State of a job (no signature needed)."""
        return self.mgr_get("/fmgr/status", [("persistentId", persistent_id)], signed=False)


class FopsService(Service):
    """Submits persistent processing jobs and reads their status."""

    def execute(self, fops: str, bucket: str, key: str, force: Any = 0, separate: Any = 0,
                notifyurl: Optional[str] = None) -> Result:
        """Run ``fops`` (ops joined with ``;``) on ``bucket:key``; answers ``{"persistentId": ...}``."""
        return self.mgr_post("/fops", fops_body(fops, bucket, key, notifyurl, force, separate))

    def status(self, persistent_id: str) -> Result:
        """State of a processing job (no signature needed)."""
        return self.mgr_get("/status/get/prefop", [("persistentId", persistent_id)], signed=False)


def follow_job(status: Callable[[str], Result], persistent_id: str, *, timeout: float,
               sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic,
               on_status: Optional[Callable[[JobStatus], None]] = None) -> JobStatus:
    """Read a job's status until it finished, or ``timeout`` seconds passed; the last status read.

    The first read is at once, then after 0.05 s, doubling up to 2 s between reads. A read that fails
    for a reason that may pass (no answer, a 5xx) is tried again at the next turn; one the service
    refuses (an unknown id: 4xx) ends the wait at once. Either way the status returned has no ``code``
    and its ``result`` says why.

    Args:
        status: reads the status of a job id (``FmgrService.status``, ``FopsService.status``).
        on_status: told of every status read (e.g. to show progress).
        sleep, clock: injected for tests.
    """
    deadline = clock() + max(float(timeout), 0.0)
    delay = 0.05
    while True:
        result = status(persistent_id)
        current = JobStatus.from_result(persistent_id, result)
        if on_status is not None:
            on_status(current)
        if current.finished or (current.code is None and not is_transient_failure(result)):
            return current
        if clock() >= deadline:
            return current
        sleep(min(delay, max(deadline - clock(), 0.0)))
        delay = min(delay * 2, 2.0)
