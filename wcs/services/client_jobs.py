"""The :class:`~wcs.services.client.Client` methods of asynchronous jobs (fmgr, fops) and live recordings.

One of the facade's method groups (see :mod:`wcs.services.client_base`), so that the facade stays
one class (``wcs.services.client.Client``) while its module stays small. Job options left out of a
call come from the config (``notifyurl``, ``separate``, ``force``), as in the official SDK; a bad
value of one of them in the file fails these calls only.
"""

from typing import Any, Optional

from wcs.commons.config import JOB_KEYS
from wcs.commons.errors import InvalidArgument
from wcs.commons.http import Result
from wcs.commons.util import urlsafe_base64_encode
from wcs.services.client_base import ClientBase
from wcs.services.liverecordings import WsLiveService


class JobMethods(ClientBase):
    """fmgr jobs, persistent processing and live-recording listings of a Client."""

    # -- fmgr jobs ------------------------------------------------------------------------

    def _fmgr(self, operation: str, fops: str, notifyurl: Optional[str], separate: Any, force: Any) -> Result:
        jobs = self.cfg.require(*JOB_KEYS).jobs
        return self.fmgr_service().submit(
            operation, fops,
            notifyurl=jobs.notifyurl if notifyurl is None else notifyurl,
            force=jobs.force if force is None else force,
            separate=jobs.separate if separate is None else separate)

    def fmgr_move(self, fops: str, *, notifyurl: Optional[str] = None, separate: Any = None,
                  force: Any = None) -> Result:
        """Asynchronous move job (``resource/<b64 entry>/bucket/<b64>[/key/<b64>]``, ``;``-separated)."""
        return self._fmgr("move", fops, notifyurl, separate, force)

    def fmgr_copy(self, fops: str, *, notifyurl: Optional[str] = None, separate: Any = None,
                  force: Any = None) -> Result:
        """Asynchronous copy job (same op syntax as :meth:`fmgr_move`)."""
        return self._fmgr("copy", fops, notifyurl, separate, force)

    def fmgr_fetch(self, fops: str, *, notifyurl: Optional[str] = None, separate: Any = None,
                   force: Any = None) -> Result:
        """Fetch URLs into a bucket (``fetchURL/<b64 url>/bucket/<b64>[/key/<b64>]``)."""
        return self._fmgr("fetch", fops, notifyurl, separate, force)

    def fmgr_delete(self, fops: str, *, notifyurl: Optional[str] = None, separate: Any = None,
                    force: Any = None) -> Result:
        """Asynchronous delete job (``bucket/<b64>/key/<b64>``)."""
        return self._fmgr("delete", fops, notifyurl, separate, force)

    def prefix_delete(self, fops: str, *, notifyurl: Optional[str] = None, separate: Any = None,
                      force: Any = None) -> Result:
        """Delete a "directory" (``bucket/<b64>/prefix/<b64>``)."""
        return self._fmgr("deletePrefix", fops, notifyurl, separate, force)

    def delete_prefix(self, bucket: str, prefix: str, *, output: Optional[str] = None,
                      notifyurl: Optional[str] = None, separate: Any = None, force: Any = None) -> Result:
        """Delete every object under the "directory" ``prefix`` (an fmgr job; ``output``: ``bucket:key``
        of a result file).

        Raises:
            InvalidArgument: ``prefix`` is empty (that would delete the whole bucket).
        """
        if not prefix:
            raise InvalidArgument("the prefix must not be empty (it would delete the whole bucket)")
        fops = "bucket/%s/prefix/%s" % (urlsafe_base64_encode(bucket), urlsafe_base64_encode(prefix))
        if output:
            fops += "/output/%s" % urlsafe_base64_encode(output)
        return self.prefix_delete(fops, notifyurl=notifyurl, separate=separate, force=force)

    def m3u8_delete(self, fops: str, *, notifyurl: Optional[str] = None, separate: Any = None,
                    force: Any = None) -> Result:
        """Delete an m3u8 playlist and its ts segments (``bucket/<b64>/key/<b64>[/deletets/1]``)."""
        return self._fmgr("deletem3u8", fops, notifyurl, separate, force)

    def fmgr_compress(self, fops: str, *, notifyurl: Optional[str] = None, separate: Any = None,
                      force: Any = None) -> Result:
        """Zip objects into a new one (``bucket/<b64>/keys/<b64>|<b64>/saveas/<b64 entry>``)."""
        return self._fmgr("compress", fops, notifyurl, separate, force)

    def fmgr_status(self, persistentId: str) -> Result:
        """State of an fmgr job (unsigned)."""
        return self.fmgr_service(signed=False).status(persistentId)

    # -- persistent processing ------------------------------------------------------------

    def ops_execute(self, fops: str, bucket: str, key: str, *, notifyurl: Optional[str] = None,
                    separate: Any = None, force: Any = None) -> Result:
        """Run processing ops (``;``-separated) on ``bucket:key``; answers ``{"persistentId": ...}``."""
        jobs = self.cfg.require(*JOB_KEYS).jobs
        return self.fops_service().execute(
            fops, bucket, key,
            force=jobs.force if force is None else force,
            separate=jobs.separate if separate is None else separate,
            notifyurl=jobs.notifyurl if notifyurl is None else notifyurl)

    def ops_status(self, persistentId: str) -> Result:
        """State of a processing job (unsigned)."""
        return self.fops_service(signed=False).status(persistentId)

    # -- live recording -------------------------------------------------------------------

    def wslive_list(self, channelname: str, startTime: Any, endTime: Any, bucket: str,
                    start: Optional[int] = None, limit: Optional[int] = None) -> Result:
        """Files a live channel recorded between two ``yyyyMMddHHmmss`` times."""
        return WsLiveService(self.http, self.auth, self.cfg.endpoints).wslive_list(channelname, startTime, endTime,
                                                                                    bucket, start, limit)
