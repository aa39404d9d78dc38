"""The official ``wcs.services.filemanager.BucketManager(auth, mgr_url)``, over :mod:`wcs.services.bucket`.

Same methods, arguments and answers as the official class: ``bucketlist`` sends ``limit`` when it is
set (a ``ValueError`` outside 0..1000), ``mode`` only when it is 0 or 1, ``prefix``, ``marker`` and
the times when they are non-empty.
"""

from typing import Any, Optional

from wcs.commons.errors import InvalidArgument
from wcs.commons.http import Result
from wcs.services import bucket
from wcs.services.mgrbase import MgrBase


class BucketManager(MgrBase):
    """Object and bucket management (the official class); see :class:`wcs.services.bucket.BucketManager`."""

    def _service(self) -> bucket.BucketManager:
        return self.client.bucket_manager()

    def delete(self, bucket: str, key: str) -> Result:
        return self._service().delete(bucket, key)

    def stat(self, bucket: str, key: str) -> Result:
        return self._service().stat(bucket, key)

    def bucketlist(self, bucket: str, prefix: Optional[str] = None, marker: Optional[str] = None,
                   limit: Any = None, mode: Any = None, starttime: Any = None, endtime: Any = None) -> Result:
        """One page of ``/list``.

        Raises:
            InvalidArgument: ``limit`` set and not an integer from 0 to 1000 (a ValueError).
        """
        if limit and (isinstance(limit, bool) or not isinstance(limit, int) or not 0 <= limit <= 1000):
            raise InvalidArgument("invalid limit %r: an integer from 0 to 1000" % (limit,))
        return self._service().list_page(bucket, prefix=prefix or None, marker=marker or None, limit=limit or None,
                                         mode=mode if mode in (0, 1) and not isinstance(mode, bool) else None,
                                         starttime=starttime or None, endtime=endtime or None)

    def move(self, srcbucket: str, srckey: str, dstbucket: str, dstkey: str) -> Result:
        return self._service().move(srcbucket, srckey, dstbucket, dstkey)

    def copy(self, srcbucket: str, srckey: str, dstbucket: str, dstkey: str) -> Result:
        return self._service().copy(srcbucket, srckey, dstbucket, dstkey)

    def setdeadline(self, bucket: str, key: str, deadline: Any) -> Result:
        return self._service().setdeadline(bucket, key, deadline)

    def bucket_list(self) -> Result:
        """The account's buckets (``/bucket/list``)."""
        return self._service().list_buckets()

    def bucket_stat(self, name: str, startdate: str, enddate: str, isListDetails: str = "false",
                    storageType: Optional[str] = None) -> Result:
        return self._service().bucket_stat(name, startdate, enddate, isListDetails, storageType)

    def bucket_statistics(self, name: str, stype: str, startdate: str, enddate: str,
                          isListDetails: str = "false") -> Result:
        # As the official class: isListDetails is accepted and not sent.
        return self._service().bucket_statistics(name, stype, startdate, enddate)

    def image_detect(self, image: str, dtype: str, bucket: str) -> Result:
        return self._service().image_detect(image, dtype, bucket)
