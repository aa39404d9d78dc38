"""The one exception tree of the SDK.

Caller mistakes raise at once (``InvalidArgument``, ``LocalFileError``, ``ConfigError``); what the
service answers is a :class:`~wcs.commons.http.Result`, turned into ``ServiceError`` only on request
(``Result.raise_for_status()``).
"""

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


class NetworkError(WcsError, ConnectionError):
    """No (complete) response came from the service after every retry.

    Raised by :mod:`wcs.commons.http`, the one module that knows the HTTP library: its exception is
    the ``__cause__``. ``retryable`` tells whether trying again later may help (a reset, a timeout;
    not a certificate error); ``connected`` is False when no connection could be opened at all
    (refused, unresolvable host, connect timeout), so the request certainly never reached the service.
    """

    def __init__(self, message: str, *, retryable: bool = True, connected: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.connected = connected


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
