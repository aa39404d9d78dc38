"""The one exception tree of the SDK.

Caller mistakes raise at once (``InvalidArgument``, ``LocalFileError``, ``ConfigError``); what the
service answers is a :class:`~wcs.commons.http.Result`, turned into ``ServiceError`` only on request
(``Result.raise_for_status()``).
"""

from enum import Enum
from typing import Any, Optional


class WcsError(Exception):
    """Root of every error raised by this package."""


class ConfigError(WcsError, ValueError):
    """A configuration file or value is malformed.

    Attributes name where the problem is, so a message can point at the exact line.
    """

    def __init__(self, message: str, path: Optional[str] = None, line: Optional[int] = None,
                 key: Optional[str] = None) -> None:
        self.path = path
        self.line = line
        self.key = key
        where = []
        if path:
            where.append(str(path) + (":%d" % line if line else ""))
        if key:
            where.append("key %r" % key)
        super().__init__(("%s: %s" % (", ".join(where), message)) if where else message)


class InvalidArgument(WcsError, ValueError):
    """An argument given by the caller is out of range or malformed."""


class LocalFileError(WcsError, OSError):
    """A local file cannot be read or written (missing, a directory, no permission)."""


class MissingFile(LocalFileError, ValueError):
    """The path to upload is not an existing regular file (a ``ValueError`` too, as the official SDK raises)."""


class ResumeError(WcsError, ValueError):
    """A resume record is missing, corrupt, or does not match the file being uploaded."""


class NetworkKind(str, Enum):
    """What went wrong on the wire, as :attr:`NetworkError.kind` tells it (the values are plain strings).

    ``REFUSED``, ``DNS``, ``UNREACHABLE`` and ``CONNECT_TIMEOUT`` mean no connection was opened, so the
    request certainly never reached the service; after the others it may have been carried out.
    """

    REFUSED = "refused"  # nothing listens on the port (ECONNREFUSED)
    DNS = "dns"  # the host name does not resolve
    UNREACHABLE = "unreachable"  # no connection for another reason of the system (no route to host, ...)
    CONNECT_TIMEOUT = "connect timeout"  # no connection within the timeout
    READ_TIMEOUT = "read timeout"  # connected, then nothing arrived within the timeout
    RESET = "reset"  # the connection broke off: reset, closed early, a body shorter than announced
    TLS_UNTRUSTED = "tls untrusted"  # the server's certificate does not verify
    NOT_TLS = "not tls"  # https was spoken to something that is not a TLS server (plain http)
    TLS = "tls"  # another TLS failure (alert, protocol version, ...)
    OTHER = "other"  # anything else: a malformed URL, a server that does not honour a Range


#: The kinds after which the request certainly never reached the service.
NEVER_CONNECTED = frozenset({NetworkKind.REFUSED, NetworkKind.DNS, NetworkKind.UNREACHABLE,
                             NetworkKind.CONNECT_TIMEOUT})


class NetworkError(WcsError, ConnectionError):
    """No (complete) response came from the service after every retry.

    Raised by :mod:`wcs.commons.http`, the one module that knows the HTTP library: its exception is
    the ``__cause__``, and the message is that library's full text. What a program (or the CLI's one
    line) needs is in the attributes, filled in where the failure is translated:

    Attributes:
        kind: a :class:`NetworkKind` (a ``str``: ``error.kind == "refused"`` works).
        url: the URL of the request that failed (None when unknown).
        host, port: where it went (``port`` is the scheme's default when the URL has none).
        reason: the cause in a few words: the system's error (``[Errno 111] Connection refused``), the
            TLS verification message, the TLS alert code for ``NOT_TLS``, the timeout.
        retryable: trying again later may help (a reset, a timeout; not a certificate error).
        connected: False when no connection could be opened at all (see :data:`NEVER_CONNECTED`).
    """

    def __init__(self, message: str, *, retryable: bool = True, kind: NetworkKind = NetworkKind.OTHER,
                 url: Optional[str] = None, host: Optional[str] = None, port: Optional[int] = None,
                 reason: str = "") -> None:
        super().__init__(message)
        self.retryable = retryable
        self.kind = NetworkKind(kind)
        self.url = url
        self.host = host
        self.port = port
        self.reason = reason

    @property
    def connected(self) -> bool:
        return self.kind not in NEVER_CONNECTED

    @property
    def address(self) -> Optional[str]:
        """``host:port`` (``[v6]:port``), or None when the host is unknown."""
        if not self.host:
            return None
        host = "[%s]" % self.host if ":" in self.host else self.host
        return host if self.port is None else "%s:%d" % (host, self.port)


class ObjectChanged(WcsError):
    """The object was replaced while it was being downloaded (another ETag or size in a response).

    Nothing of the download is kept (its parts would mix two versions); running it again fetches
    the new version.
    """


class Cancelled(WcsError):
    """A transfer was stopped on request (Ctrl-C, a signal, a failing sibling); its progress is kept."""


class IntegrityError(WcsError):
    """Bytes received or stored differ from the bytes sent (hash or checksum mismatch).

    ``result`` holds the service's answer that carried the wrong hash, when there was one.
    """

    def __init__(self, message: str, result: Any = None) -> None:
        super().__init__(message)
        self.result = result


class ServiceError(WcsError):
    """The service answered with a non-2xx status; ``result`` holds the full answer."""

    def __init__(self, message: str, result: Any = None) -> None:
        super().__init__(message)
        self.result = result

    @property
    def code(self) -> int:
        return getattr(self.result, "code", -1)


class NotRestored(ServiceError):
    """A download refused because the object is in the Archive storage class and not restored (the
    service's 403 ``Invalid Object State``): restore it (``Client.restore``), wait until ``stat`` shows
    it restored, then download it. ``result`` holds the refusal."""


class WcsSeriveError(ServiceError):
    """An upload the official SDK reports by raising (``smart_upload``, ``MultipartUpload.smart_upload``,
    ``Simple_MultipartUpload``): the official name and message, with our ``result`` and ``code``.

    ``seriveerror`` is the message, as the official attribute is spelled.
    """

    @property
    def seriveerror(self) -> str:
        return str(self)


class ParameterError(InvalidArgument):
    """A value a checksum function of :mod:`wcs.commons.util` cannot work on (the official name);
    ``parameter`` is the message."""

    @property
    def parameter(self) -> str:
        return str(self)
