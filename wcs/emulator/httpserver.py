"""The threaded werkzeug server an emulator runs in: request logs sent to our logger, and the
emulator's JSON error (with an ``X-Reqid``) for requests refused before they reach the app."""

import json
import logging
from typing import Any, Optional, Tuple, cast

from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler

from wcs.emulator.app import EmulatorApp
from wcs.emulator.errors import error_body, reason_phrase, status_line

logger = logging.getLogger(__name__)


class _RequestHandler(WSGIRequestHandler):
    """werkzeug's handler with its request log sent to our logger (quiet unless configured)."""

    server_version = "wcs-emulator"
    sys_version = ""

    def log(self, type: str, message: str, *args: Any) -> None:
        level = logging.INFO if type == "info" else logging.WARNING
        logger.log(level, "%s - " + message, self.address_string(), *args)

    def log_error(self, format: str, *args: Any) -> None:
        logger.debug("%s - " + format, self.address_string(), *args)

    def send_error(self, code: int, message: Optional[str] = None, explain: Optional[str] = None) -> None:
        """Requests refused before they reach the app (malformed request line, header line too long ...)
        get the emulator's JSON error and an ``X-Reqid`` too, instead of the standard library's HTML page
        (which, for an unparsable request line, even comes without a status line)."""
        self.log_error("code %d, message %s", code, message)
        self.close_connection = True
        body = json.dumps(error_body(code, message or reason_phrase(code))).encode("utf-8")
        if getattr(self, "command", None) == "HEAD" or code < 200 or code in (204, 304):
            body = b""
        head = ["%s %s" % (self.protocol_version, status_line(code)),
                "Server: %s" % self.version_string(), "Date: %s" % self.date_time_string(),
                "Content-Type: application/json", "Content-Length: %d" % len(body),
                "X-Reqid: %s" % cast(Server, self.server).app.new_reqid(), "Connection: close"]
        try:
            self.wfile.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
            self.wfile.flush()
        except OSError:
            pass


class Server(ThreadedWSGIServer):
    """Serves one :class:`~wcs.emulator.app.EmulatorApp` (:attr:`app`)."""

    app: EmulatorApp

    def log(self, type: str, message: str, *args: Any) -> None:
        logger.warning(message, *args)

    def handle_error(self, request: Any, client_address: Any) -> None:
        logger.debug("connection error from %s", client_address, exc_info=True)


def make_server(host: str, port: int, app: EmulatorApp, ssl_context: Optional[Tuple[str, str]] = None) -> Server:
    """A bound server for ``app`` (``port`` 0: a free one; :attr:`Server.port` says which).

    Raises:
        OSError: it cannot listen there (werkzeug would exit the process instead).
    """
    try:
        return Server(host, port, app, handler=_RequestHandler, ssl_context=ssl_context)
    except SystemExit:  # werkzeug exits on bind errors; a library must not
        raise OSError("cannot listen on %s:%d" % (host, port)) from None
