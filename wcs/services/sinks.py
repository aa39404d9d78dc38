"""Where a downloaded body goes: written, hashed (WCS etag) and counted on the way, progress reported.

One :class:`HashingSink` per body: the sequential download, each part of a ranged download and a
download into a stream all hand it to :meth:`~wcs.commons.http.HttpClient.get_body` as its sink, and
its :meth:`restart` as the restart (the server sent the body again from its start).
"""

from typing import Any, Callable

from wcs.commons.errors import LocalFileError
from wcs.commons.util import EtagHasher
from wcs.services.events import Notifier

WriteAt = Callable[[int, bytes], Any]


class HashingSink:
    """Feeds the bytes of one body to ``write_at(position_in_body, data)``, hashing and counting them.

    Args:
        write_at: stores ``data`` at byte ``position`` of this body (a file at an offset, a stream in order).
        what: the destination, named in a write error.
        notifier: told of every byte as progress (taken back by :meth:`take_back` and :meth:`restart`).
        skip: how many bytes at the start of the body are written but not hashed (a part of a ranged
            download that starts inside an etag block hashes from the next block on).
    """

    def __init__(self, write_at: WriteAt, what: str, notifier: Notifier, skip: int = 0) -> None:
        self._write_at = write_at
        self._what = what
        self._notifier = notifier
        self._skip = skip
        self.hasher = EtagHasher()
        self.count = 0

    def __call__(self, data: bytes) -> None:
        try:
            self._write_at(self.count, data)
        except OSError as exc:
            raise LocalFileError("cannot write %s: %s" % (self._what, exc.strerror or exc)) from exc
        unhashed = self._skip - self.count
        self.hasher.update(data if unhashed <= 0 else memoryview(data)[unhashed:])
        self.count += len(data)
        self._notifier.progress(len(data))

    def restart(self) -> None:
        """Forget what was received (its progress too): the body comes again from its first byte."""
        self.take_back()
        self.count = 0
        self.hasher = EtagHasher()

    def take_back(self) -> None:
        """Report the bytes received as not transferred after all (the download failed)."""
        self._notifier.progress(-self.count)
