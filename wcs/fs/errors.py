"""What the filesystem raises: the service's answers as the ``OSError`` family fsspec callers expect.

fsspec and the libraries on top of it (pandas, pyarrow, dask) tell a missing file from other
failures by exception class (``FileNotFoundError``, ``FileExistsError``, ``PermissionError``), so
a failed :class:`~wcs.commons.result.Result` is translated here, once, with its status, message and
request id in the text and the :class:`~wcs.commons.errors.ServiceError` as ``__cause__``.
"""

import errno
from typing import Any, Dict

from wcs.commons.errors import NetworkError, ServiceError
from wcs.commons.result import NO_RESPONSE, Result

_MISSING = frozenset({404})  # no such object, or no such bucket
_EXISTS = frozenset({406})  # "File Already Exist": an upload without overwrite onto an existing key
_DENIED = frozenset({401, 403})


class FileExpired(OSError):
    """The object changed (its etag is not the one seen when the file was opened) while it was being read.

    Reading on would mix two versions of the object. Open the file again to read the new version
    (after ``fs.invalidate_cache(path)`` when its listing was cached).
    """

    def __init__(self, filename: str, e_tag: str) -> None:
        super().__init__(errno.EBUSY, "the object %s changed since it was opened (etag then: %s); open it again"
                         % (filename, e_tag), filename)
        self.e_tag = e_tag


def os_error(result: Result, path: str, what: str = "") -> OSError:
    """The exception for a failed ``result`` of a call on ``path``."""
    if result.code == NO_RESPONSE:
        if isinstance(result.error, NetworkError):
            return result.error  # a ConnectionError: already an OSError
        return NetworkError(result.message)
    message = "%sHTTP %d: %s (reqid %s)" % (what + ": " if what else "", result.code, result.message, result.reqid)
    error: OSError
    if result.code in _MISSING:
        error = FileNotFoundError(errno.ENOENT, message, path)
    elif result.code in _EXISTS:
        error = FileExistsError(errno.EEXIST, message, path)
    elif result.code in _DENIED:
        error = PermissionError(errno.EACCES, message, path)
    else:
        error = OSError(errno.EIO, message, path)
    error.__cause__ = ServiceError(message, result)
    return error


def check(result: Result, path: str, what: str = "") -> Result:
    """``result`` when it is a success; else raise :func:`os_error`."""
    if result.ok:
        return result
    raise os_error(result, path, what)


def answer_body(result: Result) -> Dict[str, Any]:
    """The decoded answer of an upload step: ``result.data`` where the Result has it, else the body."""
    data = getattr(result, "data", None)
    body = data if isinstance(data, dict) else result.body
    return body if isinstance(body, dict) else {}
