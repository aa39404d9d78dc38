"""The emulator's one error type and the wire status lines it uses.

State, job and handler code raise :class:`ApiError`; the WSGI app turns it into the service's JSON error
body ``{"code": N, "message": ..., "error": ...}`` with HTTP status ``N``. Codes above 599 are not in
``http.HTTPStatus``, so their reason phrases are kept here: a status line without a phrase trips some
HTTP clients.
"""

from http import HTTPStatus

# Messages reuse the English strings of the reference's status table (section 10) where one exists.
TOKEN_INVALID = "Token Invalid"
TOKEN_FORMAT_INVALID = "Token Format Invalid"
TOKEN_EXPIRED = "Token Expired"
EXPIRE_TIME_NULL = "ExpireTime Is Null"
AUTH_REQUIRED = "Authorization Required"
AKSK_NOT_FOUND = "AK/SK Not Found"
BUCKET_ACCESS_DENIED = "Bucket Access Denied"
FILE_EXISTS = "File Already Exist"
BUCKET_NOT_FOUND = "Bucket Not Found"
FILE_NOT_FOUND = "File Not Found"
PERSISTENT_FILE_EXISTS = "The Persistent File Already Exists"

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


class ApiError(Exception):
    """A request failed with service status ``code`` and a human readable ``message``."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__("%d %s" % (code, message))
        self.code = int(code)
        self.message = message

    def body(self) -> dict:
        return {"code": self.code, "message": self.message, "error": self.message}
