"""The official ``wcs.commons.error_deal`` names, as members of this package's one exception tree.

``WcsSeriveError`` (the official spelling) is what the official-style uploads raise on failure and
``ParameterError`` what the checksum helpers raise; both are defined in :mod:`wcs.commons.errors`.
``WcsError`` and ``ClientError`` here are the official classes of this module (status, request id,
details), which the official SDK defines but never raises; they derive from our
:class:`~wcs.commons.errors.WcsError` so that one ``except`` still catches everything.
"""

from typing import Any, Dict, Mapping, Optional

from wcs.commons import errors
from wcs.commons.errors import ParameterError, WcsSeriveError

CLIENT_ERROR_STATUS = -1
WCS_REQUEST_ID = "X-Reqid"


class WcsError(errors.WcsError):
    """An error answer: ``status``, ``request_id``, ``body`` and ``details`` (``Code``, ``Message``)."""

    def __init__(self, status: int, headers: Mapping[str, str], body: Any,
                 details: Optional[Dict[str, Any]] = None) -> None:
        self.status = status
        self.request_id = headers.get(WCS_REQUEST_ID, "")
        self.body = body
        self.details = dict(details or {})
        self.code = self.details.get("Code", "")
        self.message = self.details.get("Message", "")
        super().__init__(str({"status": status, WCS_REQUEST_ID: self.request_id, "details": self.details}))


class ClientError(WcsError):
    """A failure on the client side (status -1)."""

    def __init__(self, message: str) -> None:
        super().__init__(CLIENT_ERROR_STATUS, {}, "ClientError: " + message, {})

    def __str__(self) -> str:
        return str({"status": self.status, WCS_REQUEST_ID: self.request_id, "details": self.body})


__all__ = ["CLIENT_ERROR_STATUS", "ClientError", "ParameterError", "WCS_REQUEST_ID", "WcsError", "WcsSeriveError"]
