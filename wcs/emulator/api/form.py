"""Reading the ``multipart/form-data`` body of a form upload as it arrives, within bounds.

The body is decoded by :mod:`wcs.emulator.api.multipart` (the same parts whatever the sizes of the
reads). The token is checked the moment its field is complete: with the token first (as the official
SDK and ours send it) a request without valid credentials is refused before any byte of the file is
spooled. Fields may come in any order (the vendor's browser SDK sends the file first for forms of up
to 4 MiB), so a file part before the token is spooled, up to ``spool_before_token`` bytes (413 past
it: an unauthenticated client cannot fill the disk), and the token checked when it arrives. Bounds,
whatever the order: at most :data:`MAX_FORM_PARTS` parts, :data:`MAX_FORM_FIELD` bytes of non-file
fields in all, and one spool (one file descriptor) per request: the first file part named ``file``;
other file parts are read and dropped.
"""

from typing import IO, Any, Callable, Dict, List, NamedTuple, Optional

from wcs.emulator.api.multipart import PART_END, Event, FormError, FormTooLarge, MultipartDecoder, Part
from wcs.emulator.errors import AuthRequired, BadRequest, BodyTooLarge
from wcs.emulator.settings import Settings

MAX_FORM_FIELD = 16 * 1024 * 1024
"""Bound on the in-memory (non-file) parts of a form upload, all together."""
MAX_FORM_PARTS = 1000
"""Bound on the parts of one form (werkzeug's own default for the forms it parses)."""
SPOOL_BEFORE_TOKEN = Settings.spool_before_token
_READ = 64 * 1024

CheckToken = Callable[[Optional[str]], Dict[str, Any]]


class FilePart(NamedTuple):
    """The spooled file part: where it went, its filename and Content-Type."""

    spool: Any
    filename: str
    content_type: Optional[str]


class Form(NamedTuple):
    fields: Dict[str, str]
    """The text fields (first value of each name)."""
    file: Optional[FilePart]
    policy: Dict[str, Any]
    """The put policy of the token field."""


def _charset(headers: Dict[str, str]) -> str:
    content_type = headers.get("content-type", "")
    for param in content_type.split(";")[1:]:
        name, _, value = param.strip().partition("=")
        if name.lower() == "charset" and value.strip('"').lower() in ("ascii", "us-ascii", "utf-8", "iso-8859-1"):
            return value.strip('"').lower()
    return "utf-8"


def read_form(stream: IO[bytes], boundary: str, check_token: CheckToken, new_spool: Callable[[], Any],
              spool_before_token: int = SPOOL_BEFORE_TOKEN) -> Form:
    """Parse the form on ``stream``; ``check_token(value)`` returns the put policy or raises (401);
    ``new_spool()`` gives the file-like object (``write``) the file part goes to.

    Raises:
        AuthRequired: no token field (401); what ``check_token`` raises.
        BodyTooLarge: the text fields exceed :data:`MAX_FORM_FIELD`, the form has more than
            :data:`MAX_FORM_PARTS` parts, or more than ``spool_before_token`` bytes of the file come
            before a valid token (413).
        BadRequest: a malformed body (400).
    """
    if not boundary:
        raise BadRequest("malformed multipart body: no boundary")
    reader = _FormReader(check_token, new_spool, spool_before_token)
    try:
        decoder = MultipartDecoder(boundary.encode("latin-1", "replace"))
        while not decoder.done:
            data = stream.read(_READ)
            if not data:
                decoder.finish()
            for event in decoder.feed(data):
                reader.take(event)
    except FormTooLarge as exc:
        raise BodyTooLarge(str(exc)) from None
    except FormError as exc:
        raise BadRequest("malformed multipart body: %s" % exc) from None
    if reader.policy is None:
        raise AuthRequired()
    while stream.read(_READ):  # the epilogue, ignored; read so that the client sees the answer
        pass
    return Form(reader.fields, reader.upload, reader.policy)


class _FormReader:
    """What the parts of one form come to: text fields, the policy of its token, the spooled file."""

    def __init__(self, check_token: CheckToken, new_spool: Callable[[], Any], spool_before_token: int) -> None:
        self._check_token = check_token
        self._new_spool = new_spool
        self._spool_before_token = spool_before_token
        self.fields: Dict[str, str] = {}
        self.policy: Optional[Dict[str, Any]] = None
        self.upload: Optional[FilePart] = None
        self._parts = 0
        self._memory = 0
        self._spooled = 0
        self._part: Optional[Part] = None
        self._text: Optional[List[bytes]] = None  # the pieces of the current text field
        self._to_spool = False  # the current part is the file that is kept

    def take(self, event: Event) -> None:
        if isinstance(event, Part):
            self._start(event)
        elif isinstance(event, bytes):
            self._content(event)
        elif event is PART_END:
            self._end()

    def _start(self, part: Part) -> None:
        self._parts += 1
        if self._parts > MAX_FORM_PARTS:
            raise BodyTooLarge("the form has more than %d parts" % MAX_FORM_PARTS)
        self._part = part
        self._text = [] if part.filename is None else None
        self._to_spool = part.filename is not None and part.name == "file" and self.upload is None
        if self._to_spool:
            self.upload = FilePart(self._new_spool(), part.filename or "", part.headers.get("content-type"))

    def _content(self, data: bytes) -> None:
        if self._text is not None:
            self._memory += len(data)
            if self._memory > MAX_FORM_FIELD:
                raise BodyTooLarge("the form's text fields are too large")
            self._text.append(data)
        elif self._to_spool and self.upload is not None:
            if self.policy is None:
                self._spooled += len(data)
                if self._spooled > self._spool_before_token:
                    raise BodyTooLarge("more than %d bytes of the file come before a valid token: send the "
                                       "token field first" % self._spool_before_token)
            self.upload.spool.write(data)

    def _end(self) -> None:
        part, text = self._part, self._text
        if part is not None and text is not None:
            value = b"".join(text).decode(_charset(part.headers), "replace")
            self.fields.setdefault(part.name, value)
            if part.name == "token" and self.policy is None:
                self.policy = self._check_token(value)
        self._part, self._text, self._to_spool = None, None, False
