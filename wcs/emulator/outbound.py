"""Outbound HTTP of the emulator (upload callbacks, job notifications, fmgr fetch): loopback only.

The real service calls public URLs; the emulator must never send a packet off this machine. A URL is
accepted only when its host is a loopback IP literal (127.0.0.0/8, ``::1``) or ``localhost`` (connected
as 127.0.0.1 without any DNS lookup). Everything else fails before a socket is opened. ``http.client`` is
used directly so no proxy setting from the environment can reroute a request.

Retry schedule [shortened on purpose]: the service retries 3 times at once, then once a minute 5 times,
with 20 s connect and 60 s request timeouts. The emulator makes :data:`ATTEMPTS` attempts spaced by
:data:`BACKOFF_S`, with :data:`TIMEOUT_S` per read, so tests and tools get a verdict within seconds.

A peer that trickles (a byte now and then, each within the read timeout) would hold a thread for as
long as it likes: a :class:`Watch` cuts its connection (shuts the socket down, which wakes the
blocked read) at a deadline, and :meth:`Watches.stop` cuts every connection in flight when the
emulator stops, so no stop waits on a peer.
"""

import contextlib
import http.client
import ipaddress
import logging
import socket
import ssl
import threading
import time
from typing import Callable, Dict, Iterator, Optional, Set, Tuple
from urllib.parse import urljoin, urlsplit

logger = logging.getLogger(__name__)

ATTEMPTS = 3
BACKOFF_S = (0.1, 0.3)
TIMEOUT_S = 5.0


class OutboundError(Exception):
    """An outbound call was refused or failed; :attr:`status` is the peer's HTTP status when it answered."""

    def __init__(self, message: str, status: Optional[int] = None) -> None:
        super().__init__(message)
        self.status = status


def loopback_target(url: str) -> Tuple[str, str, int, str]:
    """``(scheme, connect_host, port, path_and_query)`` for a loopback ``url``.

    Raises:
        OutboundError: not an http(s) URL or not a loopback host.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise OutboundError("malformed URL %r" % url) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise OutboundError("not an http(s) URL: %r" % url)
    host = parts.hostname
    if host.lower() == "localhost":
        connect = "127.0.0.1"
    else:
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            raise OutboundError("host %r is not a loopback address; the emulator only calls 127.0.0.0/8, "
                                "::1 and localhost" % host) from None
        if not address.is_loopback:
            raise OutboundError("host %s is not a loopback address; the emulator only calls 127.0.0.0/8, "
                                "::1 and localhost" % host)
        connect = host
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return parts.scheme, connect, port or (443 if parts.scheme == "https" else 80), path


OnConnect = Callable[[http.client.HTTPConnection], None]


class Watch:
    """Cuts the connection it follows when :meth:`cut` is called or ``deadline`` seconds have passed;
    :attr:`reason` says why (None while uncut)."""

    def __init__(self, deadline: float) -> None:
        self.reason: Optional[str] = None
        self._sock: Optional[socket.socket] = None
        self._lock = threading.Lock()
        self._timer = threading.Timer(deadline, self.cut, ("it took longer than %g s" % deadline,))
        self._timer.daemon = True
        self._timer.start()

    def follow(self, conn: http.client.HTTPConnection) -> None:
        """Watch ``conn`` (connected) from now on; cut at once if the watch already fired."""
        with self._lock:
            # The socket itself: a response to be read until the peer closes takes it from conn.
            self._sock = conn.sock
            cut = self.reason is not None
        if cut:
            _shut(self._sock)

    def cut(self, reason: str) -> None:
        with self._lock:
            if self.reason is None:
                self.reason = reason
            sock = self._sock
        _shut(sock)

    def close(self) -> None:
        self._timer.cancel()


def _shut(sock: Optional[socket.socket]) -> None:
    if sock is not None:
        try:
            # The plain socket's shutdown, also under TLS: the reading thread owns the TLS state.
            socket.socket.shutdown(sock, socket.SHUT_RDWR)
        except OSError:
            pass


class Watches:
    """The :class:`Watch` of every outbound call in flight, so that a stop can cut them all."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._watches: Set[Watch] = set()
        self._stopping = False

    @contextlib.contextmanager
    def watch(self, deadline: float) -> Iterator[Watch]:
        """A :class:`Watch` for the calls made in the block (cut at once after :meth:`stop`)."""
        watch = Watch(deadline)
        with self._lock:
            self._watches.add(watch)
            stopping = self._stopping
        if stopping:
            watch.cut("the emulator is stopping")
        try:
            yield watch
        finally:
            watch.close()
            with self._lock:
                self._watches.discard(watch)

    def stop(self) -> None:
        """Cut every connection in flight, and every later one as soon as it is made."""
        with self._lock:
            self._stopping = True
            watches = list(self._watches)
        for watch in watches:
            watch.cut("the emulator is stopping")


def open_connection(url: str, timeout: float = TIMEOUT_S, on_connect: Optional[OnConnect] = None
                    ) -> Tuple[http.client.HTTPConnection, str, str]:
    """A connection to a loopback URL (connected, then passed to ``on_connect``) plus its request target
    and Host header value."""
    scheme, host, port, target = loopback_target(url)
    netloc = urlsplit(url).netloc
    if scheme == "https":
        # Loopback peers are our own test servers with self-signed certificates.
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        conn: http.client.HTTPConnection = http.client.HTTPSConnection(host, port, timeout=timeout,
                                                                       context=context)
    else:
        conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.connect()
    except BaseException:
        conn.close()
        raise
    if on_connect is not None:
        on_connect(conn)
    return conn, target, netloc


def post(url: str, body: bytes, headers: Dict[str, str], attempts: int = ATTEMPTS,
         watch: Optional[Watch] = None) -> Tuple[int, bytes, str]:
    """POST ``body`` to a loopback ``url`` until it answers 200; ``(status, body, content_type)``.
    With a ``watch``, its cut ends the call (no further attempt).

    Raises:
        OutboundError: refused URL, or no 200 after every attempt (the last reason is in the message).
    """
    loopback_target(url)
    reason = "no attempt made"
    for attempt in range(attempts):
        if attempt:
            time.sleep(BACKOFF_S[min(attempt - 1, len(BACKOFF_S) - 1)])
        if watch is not None and watch.reason is not None:
            raise OutboundError("%s (%s)" % (watch.reason, reason))
        try:
            conn, target, netloc = open_connection(url, on_connect=watch.follow if watch is not None else None)
            try:
                all_headers = {"Host": netloc, "Content-Length": str(len(body)),
                               "User-Agent": "wcs-emulator"}
                all_headers.update(headers)
                conn.request("POST", target, body=body, headers=all_headers)
                resp = conn.getresponse()
                data = resp.read(16 * 1024 * 1024)
                if resp.status == 200:
                    return resp.status, data, resp.getheader("Content-Type") or ""
                reason = "HTTP %d from %s" % (resp.status, url)
            finally:
                conn.close()
        except (OSError, http.client.HTTPException) as exc:
            reason = "%s: %s" % (type(exc).__name__, exc)
        logger.info("outbound POST %s failed (attempt %d): %s", url, attempt + 1, reason)
    raise OutboundError(reason)


def get_stream(url: str, redirects: int = 3, on_connect: Optional[OnConnect] = None
               ) -> Tuple[http.client.HTTPResponse, http.client.HTTPConnection]:
    """Start a GET of a loopback ``url`` and return the 200 response to read from (caller closes conn).

    Redirects are followed only while they stay on loopback; ``on_connect`` gets each connection made.

    Raises:
        OutboundError: refused URL, connection failure or a non-200 answer.
    """
    current = url
    for _ in range(redirects + 1):
        try:
            conn, target, netloc = open_connection(current, on_connect=on_connect)
        except OSError as exc:
            raise OutboundError("%s: %s" % (type(exc).__name__, exc)) from None
        try:
            conn.request("GET", target, headers={"Host": netloc, "User-Agent": "wcs-emulator"})
            resp = conn.getresponse()
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            raise OutboundError("%s: %s" % (type(exc).__name__, exc)) from None
        location = resp.getheader("Location")
        if resp.status in (301, 302, 303, 307, 308) and location:
            conn.close()
            current = urljoin(current, location)
            continue
        if resp.status != 200:
            conn.close()
            raise OutboundError("HTTP %d from %s" % (resp.status, current), resp.status)
        return resp, conn
    raise OutboundError("too many redirects from %s" % url)
