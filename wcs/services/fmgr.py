"""Advanced (asynchronous) resource management: ``/fmgr/<op>`` jobs and their status.

A job body is ``fops=<op;op;...>&notifyURL=<b64>&force=<0|1>&separate=<0|1>`` (protocol reference
7.1): the op list goes out as given (each parameter inside an op is already Base64 where the
service wants it), unlike ``/fops`` where the whole list is Base64. As in the official SDK,
``force`` and ``separate`` are only sent when set.

:class:`FmgrService` is this package's service; :class:`Fmgr` is the official class of this module
(``Fmgr(auth, url)``, whose methods take the whole request body) as a thin view of it.
"""

import logging
from typing import Any, Optional

from wcs.commons.http import Result
from wcs.commons.util import urlsafe_base64_encode
from wcs.services.base import Service, form_body
from wcs.services.mgrbase import MgrBase

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


class FmgrService(Service):
    """Submits fmgr jobs; each answers ``{"persistentId": ...}``."""

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


class Fmgr(MgrBase):
    """The official ``Fmgr(auth, url)``: each method posts a whole ``fops=...[&notifyURL=...]`` body."""

    def _service(self, signed: bool = True) -> FmgrService:
        return FmgrService(self.client.http, self.auth if signed else None, self.client.cfg.endpoints)

    def _fmgr_commons(self, reqdata: str, method: str) -> Result:
        return self._service().submit_body(method, reqdata)

    def fmgr_move(self, reqdata: str) -> Result:
        return self._fmgr_commons(reqdata, "move")

    def fmgr_copy(self, reqdata: str) -> Result:
        return self._fmgr_commons(reqdata, "copy")

    def fmgr_fetch(self, reqdata: str) -> Result:
        return self._fmgr_commons(reqdata, "fetch")

    def fmgr_delete(self, reqdata: str) -> Result:
        return self._fmgr_commons(reqdata, "delete")

    def prefix_delete(self, reqdata: str) -> Result:
        return self._fmgr_commons(reqdata, "deletePrefix")

    def m3u8_delete(self, reqdata: str) -> Result:
        return self._fmgr_commons(reqdata, "deletem3u8")

    def fmgr_compress(self, reqdata: str) -> Result:
        return self._fmgr_commons(reqdata, "compress")

    def status(self, persistentId: str) -> Result:
        """State of a job (unsigned)."""
        return self._service(signed=False).status(persistentId)
