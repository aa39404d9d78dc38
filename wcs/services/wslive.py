"""The official ``wcs.services.wslive.WsLive(auth, url)``: live-recording file lists.

An adapter at the edge, over :class:`~wcs.services.liverecordings.WsLiveService`; nothing in the
engine imports it.
"""

from typing import Any, Optional

from wcs.commons.http import Result
from wcs.services.liverecordings import WsLiveService
from wcs.services.mgrbase import MgrBase


class WsLive(MgrBase):
    """The official ``WsLive(auth, url)``."""

    def wslive_list(self, channelname: str, startTime: Any, endTime: Any, bucket: str,
                    start: Optional[int] = None, limit: Optional[int] = None) -> Result:
        """Files of ``channelname`` recorded between two ``yyyyMMddHHmmss`` times; ``start`` is 1-based."""
        return WsLiveService(self.client.http, self.auth, self.client.cfg.endpoints).wslive_list(
            channelname, startTime, endTime, bucket, start, limit)
