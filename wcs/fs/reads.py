"""Byte ranges of an object, fetched from its bucket's download domain.

One ranged GET through :meth:`~wcs.commons.http.HttpClient.get_body` (retries, and a body cut off in
the middle continued with ``Range``/``If-Range``). Every answer's ``ETag`` is compared with the
etag the reader expects (the one seen when the file was opened): an object replaced under a reader
raises :class:`~wcs.fs.errors.FileExpired` instead of handing out bytes of another version.
A whole object read at once is also hashed and checked against its ``ETag``.
"""

from typing import Mapping, Optional

from wcs.commons.errors import IntegrityError
from wcs.commons.util import EtagHasher
from wcs.fs.errors import FileExpired, check
from wcs.services.client import Client
from wcs.services.download import header_etag

_RANGE_NOT_SATISFIABLE = 416


def fetch_range(client: Client, bucket: str, key: str, start: int = 0, end: Optional[int] = None, *,
                etag: Optional[str] = None, name: str = "") -> bytes:
    """Bytes ``start``..``end`` (exclusive; None: to the end) of ``bucket``/``key``.

    A range starting at or past the end of the object is empty, as slicing is.

    Raises:
        FileNotFoundError: no such object (or bucket).
        FileExpired: the object's etag is no longer ``etag``.
        IntegrityError: the whole object was read and does not hash to its ``ETag``.
        ConfigError: no download domain is configured for the bucket.
        OSError: any other failure (``NetworkError`` when no answer came).
    """
    name = name or "%s/%s" % (bucket, key)
    if start < 0 or (end is not None and end <= start):
        return b""
    whole = start == 0 and end is None
    received = bytearray()
    hasher = EtagHasher() if whole else None

    def sink(data: bytes) -> None:
        received.extend(data)
        if hasher is not None:
            hasher.update(data)

    def restart() -> None:
        # The server sent the object from its start again (If-Range did not hold): begin anew.
        nonlocal hasher
        del received[:]
        hasher = EtagHasher() if whole else None

    def same_object(status: int, headers: Mapping[str, str]) -> None:
        served = header_etag(headers.get("ETag"))
        if etag and served and served != etag:
            raise FileExpired(name, etag)

    url = client.download_url(bucket, key)
    result = client.http.get_body(url, sink, headers=client.cfg.transfer.traffic_headers(), start=start,
                                  end=None if end is None else end - 1, restart=restart, check=same_object)
    if result.code == _RANGE_NOT_SATISFIABLE:
        return b""
    check(result, name, "GET")
    if hasher is not None:
        wanted = header_etag(result.headers.get("ETag"))
        if wanted and hasher.etag() != wanted:
            raise IntegrityError("read of %s: the bytes received hash to %s, the ETag header is %s"
                                 % (name, hasher.etag(), wanted))
    return bytes(received)
