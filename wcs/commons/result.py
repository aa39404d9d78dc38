"""What calls return: ``Result`` (the official ``(code, body, headers)`` triple) and ``ObjectInfo``.

``Result`` is a real 3-tuple, so ``code, body, headers = result``, ``result[0]`` and
``json.dumps(result)`` work as with the official SDK, with the official values: ``body`` is what the
official SDK returns for the call (the raw answer text of a form upload, the decoded JSON of every
other call). The extras are declared attributes; ``data`` is the decoded answer whatever the call.
``ObjectInfo`` is the typed view of a listing item or a ``stat`` answer, with the raw dict kept.
"""

import json
from dataclasses import dataclass, field
from typing import Any, Dict, Mapping, Optional, Tuple
from urllib.parse import parse_qsl, urlsplit

from wcs.commons.errors import NetworkError, ServiceError
from wcs.commons.util import urlsafe_base64_decode

NO_RESPONSE = -1
_SAME = object()  # "data is the body"


class _Headers(Dict[str, str]):
    """Response headers: a plain dict (JSON-serialisable) whose lookups ignore case."""

    def __init__(self, headers: Optional[Mapping[str, str]] = None) -> None:
        if type(headers) is _Headers:  # already lower case: a copy (Result._copy)
            super().__init__(headers)
        else:
            super().__init__({name.lower(): value for name, value in headers.items()} if headers else ())

    def __setitem__(self, name: str, value: str) -> None:
        super().__setitem__(name.lower(), value)

    def __getitem__(self, name: str) -> str:
        return super().__getitem__(name.lower())

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and super().__contains__(name.lower())

    def get(self, name: str, default: Any = None) -> Any:  # type: ignore[override]
        return super().get(name.lower(), default)


class Result(Tuple[int, Any, Dict[str, str]]):
    """What a call returned; unpacks like the official SDK's tuple: ``code, body, headers = r``.

    ``code`` is the HTTP status, or -1 when no response came after every retry. ``body`` is the
    official SDK's value: the raw text of a form-upload answer (URL-safe Base64 on success, the
    JSON error text otherwise), the ``Location`` of a 303, the decoded JSON of any other answer.
    ``headers`` is a dict with lower-case names (lookups ignore case) that always has ``x-reqid``
    when a response came.

    Attributes:
        data: the decoded answer: the JSON, or the ``k=v`` pairs of a form-upload answer (equal to
            ``body`` for every call but form uploads). ``ok``, ``message`` and the SDK read this.
        text: the raw body text.
        upload_id: for multipart uploads, the id that resumes a failed one.
        error: the exception behind a -1; for an answer whose meaning has a type of its own (a download
            refused because the object is in Archive storage and not restored: ``NotRestored``), that
            :class:`~wcs.commons.errors.ServiceError`, which :meth:`raise_for_status` raises.
        attempts: how many times the request was sent (1 + the retries it took).
    """

    text: str
    upload_id: Optional[str]
    error: Optional[BaseException]
    data: Any
    attempts: int

    def __new__(cls, code: int, body: Any, headers: Optional[Mapping[str, str]] = None, *,
                text: str = "", upload_id: Optional[str] = None, error: Optional[BaseException] = None,
                data: Any = _SAME, attempts: int = 1) -> "Result":
        return super().__new__(cls, (code, body, _Headers(headers)))  # type: ignore[arg-type]

    def __init__(self, code: int, body: Any, headers: Optional[Mapping[str, str]] = None, *,
                 text: str = "", upload_id: Optional[str] = None, error: Optional[BaseException] = None,
                 data: Any = _SAME, attempts: int = 1) -> None:
        super().__init__()
        self.text = text
        self.upload_id = upload_id
        self.error = error
        self.data = body if data is _SAME else data
        self.attempts = attempts

    @property
    def code(self) -> int:
        return self[0]

    @property
    def body(self) -> Any:
        return self[1]

    @property
    def headers(self) -> Dict[str, str]:
        return self[2]

    @property
    def ok(self) -> bool:
        return 200 <= self.code < 300 or self.code == 303

    @property
    def reqid(self) -> Optional[str]:
        return self.headers.get("x-reqid")

    @property
    def message(self) -> str:
        """The service's message for a failure (``message`` or ``error`` member), else the text."""
        if isinstance(self.data, dict):
            for name in ("message", "error", "desc"):
                if self.data.get(name):
                    return str(self.data[name])
        if self.error is not None:
            return str(self.error)
        return self.text or str(self.data)

    @property
    def next_position(self) -> Optional[int]:
        """The ``x-wcs-next-append-position`` header as a number (an append's answer, a 409 refusing one
        at a stale position, the ``stat`` of an appendable object), or None without it."""
        return _int(self.headers.get("x-wcs-next-append-position"))

    @property
    def answered_hash(self) -> Optional[str]:
        """The etag an upload's answer reports, or None when it carries none.

        Read from the decoded answer (``hash`` of the JSON, or of the ``k=v`` pairs of a form
        upload), or for a ``returnUrl`` upload from the 303's ``Location`` (its ``hash`` query
        parameter). Whether it can be trusted (a ``returnBody`` or a callback writes the answer) is
        the caller's to judge.
        """
        if isinstance(self.data, dict):
            return _nonempty(self.data.get("hash"))
        if self.code == 303 and isinstance(self.body, str):
            return _nonempty(dict(parse_qsl(urlsplit(self.body).query)).get("hash"))
        return None

    def raise_for_status(self) -> "Result":
        """Return self when ``ok``; else raise ``NetworkError`` (-1), the typed ``ServiceError`` of ``error``
        when it has one (``NotRestored``), or ``ServiceError``."""
        if self.ok:
            return self
        if isinstance(self.error, ServiceError):
            raise self.error
        if self.code == NO_RESPONSE:
            if isinstance(self.error, NetworkError):
                raise self.error
            raise NetworkError(self.message) from self.error
        raise ServiceError("HTTP %d: %s (reqid %s)" % (self.code, self.message, self.reqid), self)

    def with_upload_id(self, upload_id: Optional[str]) -> "Result":
        return self._copy(upload_id=upload_id)

    def with_error(self, error: BaseException) -> "Result":
        """The same answer carrying ``error`` (a typed ``ServiceError`` is what ``raise_for_status`` raises)."""
        return self._copy(error=error)

    def with_raw_body(self) -> "Result":
        """The same answer with the raw text as ``body`` (``data`` keeps the decoded form), as the
        official SDK returns form uploads; a 303's ``Location`` and a -1 are kept as they are."""
        if self.code == NO_RESPONSE or self.code == 303:
            return self
        return self._copy(body=self.text)

    def _copy(self, **changes: Any) -> "Result":
        values: Dict[str, Any] = dict(code=self.code, body=self.body, headers=self.headers, text=self.text,
                                      upload_id=self.upload_id, error=self.error, data=self.data,
                                      attempts=self.attempts)
        values.update(changes)
        code, body, headers = values.pop("code"), values.pop("body"), values.pop("headers")
        return Result(code, body, headers, **values)

    def __repr__(self) -> str:
        return "Result(code=%r, body=%r, reqid=%r)" % (self.code, self.body, self.reqid)

    def __getnewargs__(self) -> Tuple[Any, ...]:  # type: ignore[override]
        # Pickling (dask ships results between processes): tuple's own would pass one tuple to __new__.
        return (self.code, self.body, dict(self.headers))


def no_response(error: BaseException, attempts: int = 1) -> Result:
    """The -1 Result for a request that got no (complete) answer."""
    text = str(error) if isinstance(error, NetworkError) else "%s: %s" % (type(error).__name__, error)
    return Result(NO_RESPONSE, {"message": text}, {"x-reqid": None},  # type: ignore[dict-item]
                  error=error, attempts=attempts)


_JSON_STARTS = frozenset('{["-0123456789tfn \t\r\n')


def decode_body(text: str) -> Any:
    """JSON, else URL-safe Base64 of ``k=v&...`` (form upload answers), else the text itself."""
    if not text:
        return {}
    if text[0] in _JSON_STARTS:  # (a form upload's Base64 answer never does: no failed parse for it)
        try:
            return json.loads(text)
        except ValueError:
            pass
    try:
        decoded = urlsafe_base64_decode(text).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return text
    if "=" in decoded and decoded.isprintable():
        return dict(parse_qsl(decoded, keep_blank_values=True))
    return text


def _nonempty(value: Any) -> Optional[str]:
    return value if isinstance(value, str) and value else None


def _int(value: Any) -> Optional[int]:
    if type(value) is int:
        return value
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


ARCHIVE = "Archive"
RESTORED = "restored"
APPENDABLE = "Appendable"
# Where the answers name what the reference leaves open (an object's type, the restore of an Archive
# object): the emulator's names, written here once (docs/emulator.md, "Choices").
_OBJECT_TYPE = "objectType"
_RESTORE_STATE = "restoreState"
_RESTORE_UNTIL = "restoreExpirationDate"


@dataclass(frozen=True)
class ObjectInfo:
    """One object, as a listing item or a ``stat`` answer describes it.

    ``size`` is an int even where the wire has a string (list items carry ``fsize`` as text);
    ``put_time`` is epoch milliseconds; ``raw`` is the service's dict as received.
    ``storage_class`` is ``Standard``, ``InfrequentAccess`` or ``Archive`` as the service names it;
    ``object_type`` ``Normal`` or ``Appendable``; for Archive objects ``restore_state`` is ``none``,
    ``restoring`` or ``restored`` and ``restore_until`` when a restored one stops being readable
    (each None when the answer does not say).
    """

    key: str
    size: int
    hash: str
    put_time: Optional[int] = None
    mime_type: Optional[str] = None
    expiration: Optional[str] = None
    storage_class: Optional[str] = None
    object_type: Optional[str] = None
    restore_state: Optional[str] = None
    restore_until: Optional[str] = None
    raw: Dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_item(cls, item: Mapping[str, Any], key: Optional[str] = None,
                  headers: Optional[Mapping[str, str]] = None) -> "ObjectInfo":
        """From a ``/list`` item, or a ``stat`` body (which names the key ``name``, or not at all) and
        its ``headers`` (an appendable object's ``x-wcs-object-type``).

        ``raw`` is ``item`` itself (not a copy). Made without the dataclass ``__init__`` (a frozen
        one sets each field through ``object.__setattr__``): a listing makes one per object, and
        this is five times faster.
        """
        name = item.get("key", item.get("name")) if key is None else key
        object_type = item.get(_OBJECT_TYPE) or (_Headers(headers).get("x-wcs-object-type") if headers else None)
        info = _new(cls)
        fields = info.__dict__
        fields["key"] = name if type(name) is str else str(name or "")
        fields["size"] = _int(item.get("fsize")) or 0
        fields["hash"] = str(item.get("hash") or "")
        put_time = item.get("putTime")
        fields["put_time"] = put_time if type(put_time) is int else _int(put_time)
        fields["mime_type"] = item.get("mimeType") or None
        fields["expiration"] = item.get("expirationDate") or None
        fields["storage_class"] = item.get("storageClass") or None
        fields["object_type"] = object_type or None
        fields["restore_state"] = item.get(_RESTORE_STATE) or None
        fields["restore_until"] = item.get(_RESTORE_UNTIL) or None
        fields["raw"] = item if isinstance(item, dict) else dict(item)
        return info

    @property
    def archived(self) -> bool:
        """Whether the object is in the Archive storage class (read only after a restore)."""
        return (self.storage_class or "").lower() == ARCHIVE.lower()

    @property
    def appendable(self) -> bool:
        """Whether appends (``Client.append``) can extend the object."""
        return (self.object_type or "").lower() == APPENDABLE.lower()

    @property
    def needs_restore(self) -> Optional[bool]:
        """True for an Archive object that cannot be read until a restore is done; False for an object
        that can be read; None for an Archive object whose answer does not tell its restore."""
        if not self.archived:
            return False
        if self.restore_state is None:
            return None
        return self.restore_state.lower() != RESTORED


_new = object.__new__
