"""Live-recording file list (``/wslive/list``): the files a live channel recorded into a bucket."""

import logging
from typing import Any, Optional

from wcs.commons.http import Result
from wcs.services.base import Service

log = logging.getLogger(__name__)


class WsLiveService(Service):
    """Lists recorded files (the response format is not documented; the JSON is returned as is)."""

    def wslive_list(self, channelname: str, startTime: Any, endTime: Any, bucket: str,
                    start: Optional[int] = None, limit: Optional[int] = None) -> Result:
        """Files of ``channelname`` recorded between two ``yyyyMMddHHmmss`` times; ``start`` is 1-based."""
        query = [("channelname", channelname), ("startTime", startTime), ("endTime", endTime),
                 ("bucket", bucket), ("start", start), ("limit", limit)]
        return self.mgr_get("/wslive/list", query)
