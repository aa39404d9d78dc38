"""The errors the emulator answers with, by name, and the wire status lines they use.

State, job and endpoint code raise a subclass of :class:`ApiError`; the WSGI app turns it into the
service's JSON error body ``{"code": N, "message": ..., "error": ...}`` with HTTP status ``N``. Each class
fixes the code; one that also has a default ``message`` (the English phrase of the reference's status
table, section 10, where one exists) is raised bare or with a detail, which follows the phrase after
``": "``; one without takes the whole message::

    raise FileNotFound()                          # 404 "File Not Found"
    raise FsizeLimitExceeded("9 > 8 bytes")       # 401 "fsizeLimit exceeded: 9 > 8 bytes"
    raise BadRequest("key is empty")              # 400 "key is empty"

Codes above 599 are not in ``http.HTTPStatus``, so their reason phrases are kept here: a status line
without a phrase trips some HTTP clients.
"""

from http import HTTPStatus
from typing import Any, Dict, Optional

_EXTRA_REASONS = {
    579: "Callback Failed",
    599: "Network Error",
    612: "No Such Entry",
    631: "Bucket Not Exist",
    701: "Invalid Ctx",
}


def reason_phrase(code: int) -> str:
    """The reason phrase to put on the status line for ``code``."""
    if code in _EXTRA_REASONS:
        return _EXTRA_REASONS[code]
    try:
        return HTTPStatus(code).phrase
    except ValueError:
        return "Unknown"


def status_line(code: int) -> str:
    """``"631 Bucket Not Exist"``: a WSGI status string that survives non-standard codes."""
    return "%d %s" % (code, reason_phrase(code))


def error_body(code: int, message: str) -> Dict[str, Any]:
    """The service's JSON error document (also for failures that have no class, e.g. injected faults)."""
    return {"code": code, "message": message, "error": message}


class ApiError(Exception):
    """A request failed with service status :attr:`code` and a human readable :attr:`message`."""

    code = 500
    message = ""
    """The default message; empty for a class whose every raise says what went wrong."""

    def __init__(self, detail: Optional[str] = None) -> None:
        default = type(self).message
        if detail is None:
            if not default:
                raise TypeError("%s needs a message" % type(self).__name__)
            message = default
        else:
            message = "%s: %s" % (default, detail) if default else detail
        super().__init__("%d %s" % (self.code, message))
        self.message = message

    def body(self) -> Dict[str, Any]:
        return error_body(self.code, self.message)


# -- 400: the request itself is wrong -----------------------------------------------------------------


class BadRequest(ApiError):
    """Malformed: a parameter missing, out of range or not in its encoding."""

    code = 400


class MissingParameter(BadRequest):
    """``MissingParameter("bucket")``: ``bucket is required``."""

    def __init__(self, name: str) -> None:
        super().__init__("%s is required" % name)


class InvalidKey(BadRequest):
    """An object key breaks the key rules of the reference (1.3)."""


class InvalidMarker(BadRequest):
    message = "Invalid Marker"


class NotAMediaFile(BadRequest):
    """``?op=imageInfo|exif|avinfo|avinfo2`` of an object that is not an image (a media file)."""

    message = "Not A Media File"


class MediaOpUnavailable(BadRequest):
    """A media ``op`` the emulator cannot answer here: its decoder (Pillow, ffprobe) is not installed,
    or the op is unknown. A 400 like every refused request: clients do not retry it."""


# -- 401: every token problem ---------------------------------------------------------------------------


class Unauthorized(ApiError):
    code = 401


class AuthRequired(Unauthorized):
    message = "Authorization Required"


class TokenFormatInvalid(Unauthorized):
    message = "Token Format Invalid"


class AkSkNotFound(Unauthorized):
    message = "AK/SK Not Found"


class TokenInvalid(Unauthorized):
    message = "Token Invalid"


class TokenExpired(Unauthorized):
    message = "Token Expired"


class ExpireTimeNull(Unauthorized):
    message = "ExpireTime Is Null"


class BucketAccessDenied(Unauthorized):
    """A key outside the token's ``bucket:key`` scope."""

    message = "Bucket Access Denied"


class FsizeLimitExceeded(Unauthorized):
    message = "fsizeLimit exceeded"


# -- 404 / 405 / 406: what is asked for is not there, or is already --------------------------------------


class RouteNotFound(ApiError):
    """No route matches the path."""

    code = 404
    message = "Not Found"


class BucketNotFound(ApiError):
    """A management or download path names a bucket that does not exist."""

    code = 404
    message = "Bucket Not Found"


class BucketNotExist(BucketNotFound):
    """An upload path names a bucket that does not exist: 631 (reason "Bucket Not Exist"), same text."""

    code = 631


class FileNotFound(ApiError):
    code = 404
    message = "File Not Found"


class JobNotFound(ApiError):
    code = 404
    message = "persistentId Not Found"


class MirrorNotBound(ApiError):
    """``/prefetch``: the emulator has no mirror origins."""

    code = 404
    message = "Bucket Not Binding Mirror"


class ConvertFileNotFound(FileNotFound):
    """``/converttype`` of a missing object: 403, as the reference writes it (6.11)."""

    code = 403


class MethodNotAllowed(ApiError):
    code = 405
    message = "Method Not Allowed"


class FileExists(ApiError):
    """The key holds a live object and the call may not replace it."""

    code = 406
    message = "File Already Exist"


class PersistentFileExists(FileExists):
    """The output of a processing job exists and ``force`` is 0 (only ever a job item's reason)."""

    message = "The Persistent File Already Exists"


# -- 401 / 403 / 409: the object is not in the state the call needs (reference 5, 6.11, 6.12) -------------


class InvalidObjectState(ApiError):
    """``/converttype`` to the current class, or of an Archive object not restored; the download of an
    Archive object not restored (reference 6.11)."""

    code = 403
    message = "Invalid Object State"


class AlreadyStandard(InvalidObjectState):
    """``/restore`` of a Standard object: 401, as the reference writes it (6.12)."""

    code = 401


class UnsupportedOperation(ApiError):
    """``/restore`` of an object that is not Archive (and not Standard)."""

    code = 403
    message = "Unsupported Operation"


class RestoreInProgress(ApiError):
    code = 409
    message = "Restore Is InProgress"


class PositionNotEqualToLength(ApiError):
    """``/append/<position>`` at another position than the object's length, which :attr:`next_position`
    holds (reference 5: the v2 documents' 409; v1 leaves it open)."""

    code = 409
    message = "Position Not Equal To Length"

    def __init__(self, next_position: int) -> None:
        super().__init__("the object is %d bytes long" % next_position)
        self.next_position = next_position


class ObjectNotAppendable(ApiError):
    """``/append`` onto an object that is not appendable (a normal upload made it) or is Archive."""

    code = 409
    message = "Object Not Appendable"


# -- 412 / 413 / 416: the content does not fit ------------------------------------------------------------


class IncompleteBlocks(ApiError):
    """``mkfile``: a block is short, or the blocks do not add up to the file size."""

    code = 412


class RequestTimeout(ApiError):
    """The request body stalled past the server's io timeout, or the connection dropped mid-body."""

    code = 408


class BodyTooLarge(ApiError):
    code = 413


class RangeNotSatisfiable(ApiError):
    """The ``Range`` of a download selects no byte of the object."""

    code = 416
    message = "Range Not Satisfiable"


# -- 5xx / 7xx: the service side ----------------------------------------------------------------------------


class ServiceUnavailable(ApiError):
    code = 503


class CallbackFailed(ApiError):
    """The object is stored but the upload callback did not answer 200 (reference 3.3)."""

    code = 579
    message = "callback failed"


class BadContext(ApiError):
    """A multipart ctx or offset that does not describe stored block data."""

    code = 701


class InvalidCtx(BadContext):
    """A ctx that is forged, unknown, or whose block is gone."""

    message = "ctx invalid"
