"""Persistent processing (``/fops``): run media/archive operations on a stored object.

The body is ``bucket=<b64>&key=<b64>&fops=<b64 of the whole op list>&notifyURL=<b64>&force=1
&separate=1`` (protocol reference 7.5); ``force`` and ``separate`` are only sent when set, as the
official SDK does.
"""

import logging
from typing import Any, Mapping, Optional

from wcs.commons.http import Result
from wcs.commons.util import entry, urlsafe_base64_encode
from wcs.services.base import Service, form_body
from wcs.services.fmgr import job_options

log = logging.getLogger(__name__)


def fops_body(fops: str, bucket: str, key: str, notifyurl: Optional[str] = None, force: Any = 0,
              separate: Any = 0) -> str:
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


class PersistentFop(Service):
    """Submits processing jobs and reads their status."""

    def execute(self, fops: str, bucket: str, key: str, force: Any = 0, separate: Any = 0,
                notifyurl: Optional[str] = None) -> Result:
        """Run ``fops`` (ops joined with ``;``) on ``bucket:key``; answers ``{"persistentId": ...}``."""
        return self.mgr_post("/fops", fops_body(fops, bucket, key, notifyurl, force, separate))

    def status(self, persistent_id: str) -> Result:
        """State of a processing job (no signature needed)."""
        return self.mgr_get("/status/get/prefop", [("persistentId", persistent_id)], signed=False)
