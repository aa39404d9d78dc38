"""Media information from the download domain: ``GET <object URL>?op=avinfo`` (also ``avinfo2``,
``imageInfo``, ``exif``), no signature (reference 7.5, last line; the vendor's Go, C# and PHP SDKs).

The object's URL is the bucket's download domain (``download_url`` / ``download_domains``), as for a
download. The answer's shape is the service's (unknown to the reference; the emulator's is in its
docs): the Result carries the decoded JSON.
"""

from wcs.commons.errors import InvalidArgument
from wcs.commons.http import Result
from wcs.services.base import Service

OPS = ("avinfo", "avinfo2", "imageInfo", "exif")


class MediaService(Service):
    """``?op=`` information about an object, from its download URL."""

    def info(self, bucket: str, key: str, op: str) -> Result:
        """``GET <download URL of bucket/key>?op=<op>``.

        Raises:
            ConfigError: no download domain for ``bucket``.
            InvalidArgument: an op other than :data:`OPS`.
        """
        if op not in OPS:
            raise InvalidArgument("unknown media op %r: one of %s" % (op, ", ".join(OPS)))
        return self.http.request("GET", "%s?op=%s" % (self.endpoints.object_url(bucket, key), op))
