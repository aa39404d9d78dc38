"""One request and its answer on a connection, run by a worker: the WSGI environ in, the answer out.

The environ follows PEP 3333 (text is latin-1, one character per byte; ``PATH_INFO`` percent-decoded;
``RAW_URI``/``REQUEST_URI`` the request target exactly as sent) with werkzeug's additions
(``werkzeug.socket``) and ``wsgi.input_terminated``: the body (:mod:`~wcs.emulator.httpd.body`) ends
where the request's framing says, whatever the app reads.

Whether the connection serves another request is decided when the answer's head is written, and said
in it (``Connection: close`` otherwise): only if the client allows it (HTTP/1.1, no ``Connection: close``),
the server is not stopping, the answer is not delimited by the close, and the request body has been read
to its end (or its rest is already buffered and is skipped). Anything else closes the connection, so the
next bytes are never taken from the middle of a body. A worker that waits :data:`HANDOFF` seconds to
write hands the rest of the answer to the selector: a slow reader costs no worker.
"""

import logging
import socket
import sys
from typing import Any, Callable, Dict, Iterable, List, Optional, Protocol, Tuple
from urllib.parse import unquote_to_bytes, urlsplit

from wcs.emulator.httpd.answer import CHUNKED, LENGTH, NO_BODY, SERVER, UNTIL_CLOSE, Answer, error_bytes, http_date
from wcs.emulator.httpd.body import Body, body_for
from wcs.emulator.httpd.conn import CLOSE, KEEP, LINGER_THEN_CLOSE, WRITE_REST, Conn
from wcs.emulator.httpd.limits import Limits, Pace

logger = logging.getLogger(__name__)

HANDOFF = 0.05
"""Seconds a worker waits for room to write before the selector takes over the answer."""

_HOP_BY_HOP = ("connection", "keep-alive", "transfer-encoding")


class Host(Protocol):
    """What an exchange reads from the server it runs in (:class:`~wcs.emulator.httpd.server.Server`)."""

    app: Callable[[Dict[str, Any], Callable[..., Any]], Iterable[bytes]]
    """The WSGI app."""
    server_address: Tuple[Any, ...]
    """``(host, port)`` the server listens on (the environ's ``SERVER_NAME`` and ``SERVER_PORT``)."""
    keepalive: bool
    """Whether connections may serve more than one request."""
    limits: Limits

    @property
    def stopping(self) -> bool:
        """True once the server is shutting down: no connection is kept after its answer."""

    def new_reqid(self) -> str:
        """The ``X-Reqid`` of an answer the server makes itself (a 500)."""


class Exchange:
    """The request whose head is ``conn.head`` (its body's pace in ``conn.pace``), served by ``server``."""

    def __init__(self, conn: Conn, server: Host) -> None:
        assert conn.head is not None and conn.pace is not None
        self.conn = conn
        self.head = conn.head
        self.server = server
        self.body: Body = body_for(conn, conn.pace)
        self._status: Optional[str] = None
        self._headers: List[Tuple[str, str]] = []
        self._written: List[bytes] = []
        self._started = False

    def run(self) -> str:
        """Serve the request; returns what to do with the connection next (:data:`~wcs.emulator.httpd.conn.KEEP`...)."""
        try:
            result = self.server.app(self._environ(), self._start_response)
        except (ConnectionError, socket.timeout) as exc:  # dropped on purpose (fault injection) or vanished
            logger.debug("%s: connection dropped while handling %s: %r", self.conn.address, self.head.target, exc)
            return CLOSE
        except Exception:
            logger.exception("error while handling %s %s", self.head.method, self.head.target)
            return self._fail()
        try:
            answer = self._answer(result)
        except (ConnectionError, socket.timeout) as exc:
            logger.debug("%s: connection dropped while answering %s: %r", self.conn.address, self.head.target, exc)
            _close_result(result)
            return CLOSE
        except Exception:
            logger.exception("bad answer to %s %s", self.head.method, self.head.target)
            _close_result(result)
            return self._fail()
        return self._send(answer)

    # -- WSGI --------------------------------------------------------------------------------------------

    def _environ(self) -> Dict[str, Any]:
        head = self.head
        conn = self.conn
        target = head.target
        host = None
        if "://" in target.split("?", 1)[0]:  # absolute form: the authority stands for Host
            parts = urlsplit(target)
            path, query, host = parts.path or "/", parts.query, parts.netloc
        else:
            path, _, query = target.partition("?")
        server_name, server_port = self.server.server_address[:2]
        environ: Dict[str, Any] = {
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "https" if conn.tls else "http",
            "wsgi.input": self.body,
            "wsgi.input_terminated": True,
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            "werkzeug.socket": conn.sock,
            "SERVER_SOFTWARE": SERVER,
            "REQUEST_METHOD": head.method,
            "SCRIPT_NAME": "",
            "PATH_INFO": unquote_to_bytes(path.encode("latin-1")).decode("latin-1"),
            "QUERY_STRING": query,
            "REQUEST_URI": target,
            "RAW_URI": target,
            "REMOTE_ADDR": str(conn.address[0]) if conn.address else "",
            "REMOTE_PORT": conn.address[1] if len(conn.address) > 1 else 0,
            "SERVER_NAME": str(server_name),
            "SERVER_PORT": str(server_port),
            "SERVER_PROTOCOL": head.version,
        }
        for name, value in head.headers:
            if "_" in name:  # would pass for the hyphenated field once upper-cased: ignored, as werkzeug does
                continue
            key = name.upper().replace("-", "_")
            if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                key = "HTTP_" + key
                if key in environ:
                    value = environ[key] + "," + value
            environ[key] = value
        if "CONTENT_LENGTH" in environ:
            environ["CONTENT_LENGTH"] = str(head.length)
        if host is not None:
            environ["HTTP_HOST"] = host
        return environ

    def _start_response(self, status: str, headers: List[Tuple[str, str]], exc_info: Any = None
                        ) -> Callable[[bytes], None]:
        if exc_info:
            try:
                if self._started:
                    raise exc_info[1].with_traceback(exc_info[2])
            finally:
                exc_info = None
        elif self._status is not None:
            raise AssertionError("start_response called twice")
        self._status = status
        self._headers = list(headers)
        return self._written.append  # PEP 3333's write(): buffered, sent before what the iterable yields

    # -- the answer ----------------------------------------------------------------------------------------

    def _answer(self, result: Iterable[bytes]) -> Answer:
        rest = iter(result)
        first = b"".join(self._written)
        self._written = []
        if not first:
            for piece in rest:  # an app may call start_response only when it yields its first piece
                if piece:
                    first = piece
                    break
        if self._status is None:
            raise RuntimeError("the app returned without calling start_response")
        self._started = True
        head = self.head
        code = int(self._status.split(None, 1)[0])
        lines = ["HTTP/1.1 " + self._status]
        length = None
        close_asked = False
        names = set()
        for name, value in self._headers:
            lower = name.lower()
            if lower in _HOP_BY_HOP:  # framing and persistence are the server's business
                close_asked = close_asked or (lower == "connection" and "close" in value.lower())
                continue
            if lower == "content-length":
                length = int(value)
            names.add(lower)
            lines.append("%s: %s" % (name, value))
        if head.method == "HEAD" or code < 200 or code in (204, 304):
            framing = NO_BODY
        elif length is not None:
            framing = LENGTH
        elif head.version == "HTTP/1.1":
            framing = CHUNKED
            lines.append("Transfer-Encoding: chunked")
        else:
            framing = UNTIL_CLOSE
        keep = (self.server.keepalive and head.keep_alive and not close_asked and framing != UNTIL_CLOSE
                and not self.server.stopping and self.body.settle())
        if not keep:
            lines.append("Connection: close")
        if "server" not in names:
            lines.append("Server: " + SERVER)
        if "date" not in names:
            lines.append("Date: " + http_date())
        logger.info('%s - "%s %s %s" %d', self.conn.address[0] if self.conn.address else "-", head.method,
                    head.target, head.version, code)
        data = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        return Answer(data, first, rest, getattr(result, "close", None), framing, length, keep,
                      Pace(self.server.limits))

    def _send(self, answer: Answer) -> str:
        sock = self.conn.sock
        try:
            while answer.pending or answer.refill():
                sock.settimeout(min(HANDOFF, answer.pace.wait()))
                try:
                    count = sock.send(answer.pending)
                except socket.timeout:
                    answer.pace.wait()  # TooSlow if its time is up; otherwise the selector goes on
                    self.conn.answer = answer
                    return WRITE_REST
                answer.pace.moved(count)
                answer.pending = answer.pending[count:]
        except OSError as exc:  # the client went away or stalled, or a fault cut the answer on purpose
            logger.debug("%s: answer to %s %s not completed: %r", self.conn.address, self.head.method,
                         self.head.target, exc)
            answer.close()
            return CLOSE
        except Exception:  # the app's iterator failed: its status line is out, all that is left is to close
            logger.exception("answer to %s %s failed", self.head.method, self.head.target)
            answer.close()
            return CLOSE
        answer.close()
        if answer.keep:
            return KEEP
        return CLOSE if self.conn.peer_closed else LINGER_THEN_CLOSE

    def _fail(self) -> str:
        """Answer 500 if nothing was sent yet; the connection is closed either way."""
        if self._started:
            return CLOSE
        data = error_bytes(500, "internal emulator error", self.server.new_reqid(), self.head.method == "HEAD")
        try:
            self.conn.sock.settimeout(self.server.limits.io_timeout)
            self.conn.sock.sendall(data)
        except OSError:
            return CLOSE
        return CLOSE if self.conn.peer_closed else LINGER_THEN_CLOSE


def _close_result(result: Any) -> None:
    close = getattr(result, "close", None)
    if close is not None:
        try:
            close()
        except Exception:
            logger.exception("closing an app's answer failed")
