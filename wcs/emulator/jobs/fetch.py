"""Downloading the origin of an ``fmgr/fetch`` item into a temporary file, within bounds.

An origin cannot hold a job thread: the whole download has a deadline (``Settings.fetch_timeout``;
the connection is cut when it passes, however steadily the origin trickles), a size cap
(``Settings.fetch_max_bytes``; checked against ``Content-Length`` first, then against what arrives),
and every fetch in flight is cut when the emulator stops. A body that ends before its announced
length, or that a cut ended, fails the item: nothing partial is stored.
"""

import hashlib
import http.client
from typing import NamedTuple, Optional

from wcs.emulator import outbound
from wcs.emulator.jobs.params import OpFailed
from wcs.emulator.settings import Settings

_READ = 1024 * 1024


class Fetched(NamedTuple):
    md5: str
    """Hex MD5 of the body."""
    mime: str
    """The origin's Content-Type without parameters (``application/octet-stream`` when it sent none)."""


class FetchFailed(OpFailed):
    """A fetch failed; :attr:`status` is the origin's HTTP status when it answered (not 200)."""

    def __init__(self, message: str, status: Optional[int] = None) -> None:
        super().__init__(message)
        self.status = status


class Fetcher:
    """Fetches origins for fmgr; :meth:`stop` cuts every fetch in flight and refuses later ones."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._watches = outbound.Watches()

    def stop(self) -> None:
        self._watches.stop()

    def fetch(self, url: str, temp: str) -> Fetched:
        """Download ``url`` into the file ``temp``.

        Raises:
            OpFailed: refused URL, connection or HTTP failure (:class:`FetchFailed`, with the status of
                an answer that was not 200), deadline passed, body over the cap or shorter than
                announced, the emulator stopping.
        """
        with self._watches.watch(self.settings.fetch_timeout) as watch:
            try:
                resp, conn = outbound.get_stream(url, on_connect=watch.follow)
            except outbound.OutboundError as exc:
                raise FetchFailed("fetch of %s failed: %s" % (url, watch.reason or exc), exc.status) from None
            try:
                md5 = self._receive(url, resp, temp, watch)
            finally:
                conn.close()
        mime = (resp.getheader("Content-Type") or "application/octet-stream").split(";")[0].strip()
        return Fetched(md5, mime or "application/octet-stream")

    def _receive(self, url: str, resp: http.client.HTTPResponse, temp: str, watch: outbound.Watch) -> str:
        cap = self.settings.fetch_max_bytes
        announced = _length(resp)
        if announced is not None and announced > cap:
            raise OpFailed("fetch of %s refused: its %d bytes exceed the fetch limit of %d bytes"
                           % (url, announced, cap))
        md5 = hashlib.md5()
        received = 0
        try:
            with open(temp, "wb") as out:
                # read1: one receive at a time, so a cut or a deadline is seen between two of them
                for chunk in iter(lambda: resp.read1(_READ), b""):
                    received += len(chunk)
                    if received > cap:
                        raise OpFailed("fetch of %s failed: the body exceeds the fetch limit of %d bytes"
                                       % (url, cap))
                    md5.update(chunk)
                    out.write(chunk)
        except (OSError, http.client.HTTPException) as exc:
            raise OpFailed("fetch of %s failed while reading: %s" % (url, watch.reason or exc)) from None
        if watch.reason is not None:
            raise OpFailed("fetch of %s failed: %s" % (url, watch.reason))
        if announced is not None and received != announced:
            raise OpFailed("fetch of %s failed: the body ended after %d of %d bytes" % (url, received, announced))
        return md5.hexdigest()


def _length(resp: http.client.HTTPResponse) -> Optional[int]:
    text = resp.getheader("Content-Length")
    if text is None or resp.getheader("Transfer-Encoding"):
        return None
    try:
        return int(text) if text.strip().isdigit() else None
    except ValueError:
        return None
