"""The official ``wcs.services.fmgr.Fmgr(auth, url)``: fmgr jobs whose methods take the whole request body.

An adapter at the edge, over :class:`~wcs.services.jobs.FmgrService`; nothing in the engine imports it.
"""

from wcs.commons.http import Result
from wcs.services.jobs import FmgrService
from wcs.services.mgrbase import MgrBase


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
