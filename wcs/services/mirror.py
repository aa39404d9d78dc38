"""Mirror prefetch, ``POST /prefetch/<param>`` (reference 6.10): the service pulls keys from the bucket's
mirror origin and stores them, replacing what they held.

``param`` is ``urlsafe_b64("<bucket>:" + urlsafe_b64(key1) + "|" + urlsafe_b64(key2) ...)``, as the
reference and the vendor's Java and PHP SDKs build it (the Go and C# SDKs send the keys as they are). The
answer lists each key with the origin's status as ``code``
(:class:`~wcs.commons.answers.PrefetchItem`); the request itself succeeds whatever its items say.
"""

from typing import Iterable, List

from wcs.commons.errors import InvalidArgument
from wcs.commons.http import Result
from wcs.commons.util import urlsafe_base64_encode
from wcs.services.base import Service

b64 = urlsafe_base64_encode


def prefetch_param(bucket: str, keys: Iterable[str]) -> str:
    """The ``<param>`` of ``/prefetch`` for ``keys`` of ``bucket``.

    Raises:
        InvalidArgument: no key, or an empty one.
    """
    names: List[str] = [keys] if isinstance(keys, str) else list(keys)
    if not names or any(not isinstance(name, str) or not name for name in names):
        raise InvalidArgument("prefetch needs one or more non-empty keys, got %r" % (names[:3],))
    return b64("%s:%s" % (bucket, "|".join(b64(name) for name in names)))


class MirrorService(Service):
    """``prefetch``."""

    def prefetch(self, bucket: str, keys: Iterable[str]) -> Result:
        """Have ``keys`` of ``bucket`` fetched from its mirror origin (one request for all of them)."""
        return self.mgr_post("/prefetch/" + prefetch_param(bucket, keys))
