"""Byte ranges of an object, fetched from its bucket's download domain, and the read cache of its files.

One ranged GET through :meth:`~wcs.commons.http.HttpClient.get_body` (retries, and a body cut off in
the middle continued with ``Range``/``If-Range``). Every answer's ``ETag`` is compared with the
etag the reader expects (the one seen when the file was opened): an object replaced under a reader
raises :class:`~wcs.fs.errors.FileExpired` instead of handing out bytes of another version.
A whole object read at once is also hashed and checked against its ``ETag``.

:class:`GrowingReadAhead` is the default cache of a ``wcs://`` file opened for reading: it fetches
what is asked, and reads ahead only while the reads are sequential, doubling the read-ahead from the
size of the read up to the file's block size. fsspec's ``readahead`` cache adds a whole block to
every miss: a Parquet reader picking one column's chunks out of a file pulled 4 MiB after each,
81 % of a 4-column file to read one column; a sequential reader gets the same read-ahead after a
few reads.
"""

from typing import Any, Callable, Mapping, Optional

from fsspec.caching import BaseCache  # type: ignore[import-untyped, import-not-found]

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


class GrowingReadAhead(BaseCache):  # type: ignore[misc]
    """An fsspec cache: the bytes asked for, plus a read-ahead that grows while reads are sequential.

    A read that starts where the previous one ended is sequential: on a miss its read-ahead is
    twice the last one, at least the read's own size, at most ``blocksize``; any other read resets
    it to nothing, so scattered reads (column chunks, footers) fetch exactly what they ask. One
    buffer is kept (the last fetch), so a read that starts inside it fetches only what it lacks.
    """

    name = "wcs-growing"

    def __init__(self, blocksize: int, fetcher: Callable[[int, int], bytes], size: int, **_: Any) -> None:
        super().__init__(blocksize, fetcher, size)
        self.cache = b""
        self.start = 0
        self.end = 0
        self.ahead = 0
        self._next = -1  # where a sequential read would start

    def _fetch(self, start: Optional[int], end: Optional[int]) -> bytes:
        start = 0 if start is None else start
        end = self.size if end is None or end > self.size else end
        if start >= self.size or start >= end:
            return b""
        sequential, self._next = start == self._next, end
        if self.start <= start and end <= self.end:
            self.hit_count += 1
            return self.cache[start - self.start:end - self.start]
        self.miss_count += 1
        self.ahead = min(self.blocksize, max(2 * self.ahead, end - start)) if sequential else 0
        head = b""
        if self.start <= start < self.end:  # the first bytes are here: fetch only the rest
            head, start = self.cache[start - self.start:], self.end
        stop = min(self.size, end + self.ahead)
        data = self.fetcher(start, stop)
        self.total_requested_bytes += stop - start
        self.cache, self.start, self.end = data, start, start + len(data)
        return head + data[:end - start]
