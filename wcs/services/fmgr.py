"""Advanced (asynchronous) resource management: ``/fmgr/<op>`` jobs and their status.

A job body is ``fops=<op;op;...>&notifyURL=<b64>&force=<0|1>&separate=<0|1>`` (protocol reference
7.1): the op list goes out as given (each parameter inside an op is already Base64 where the
service wants it), unlike ``/fops`` where the whole list is Base64. As in the official SDK,
``force`` and ``separate`` are only sent when set.
"""

import logging
from typing import Any, Optional

from wcs.commons.http import Result
from wcs.commons.util import urlsafe_base64_encode
from wcs.services.base import Service, form_body

log = logging.getLogger(__name__)

def job_options(notifyurl: Optional[str], force: Any, separate: Any) -> list:
    """The optional ``notifyURL``/``force``/``separate`` pairs shared by fmgr and fops bodies.

    ``force`` and ``separate`` are sent only when set, as the official SDK does.
    """
    pairs: list = []
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


class Fmgr(Service):
    """Submits fmgr jobs; each answers ``{"persistentId": ...}``."""

    def submit(self, operation: str, fops: str, notifyurl: Optional[str] = None, force: Any = 0,
               separate: Any = 0) -> Result:
        """POST ``/fmgr/<operation>`` with ``fops`` and the notification options."""
        return self.mgr_post("/fmgr/" + operation, fmgr_body(fops, notifyurl, force, separate))

    def status(self, persistent_id: str) -> Result:
        """State of a job (no signature needed)."""
        return self.mgr_get("/fmgr/status", [("persistentId", persistent_id)], signed=False)
