"""Reading the ``multipart/form-data`` body of a form upload as it arrives, within bounds.

The token is checked the moment its field is complete: with the token first (as the official SDK and
ours send it) a request without valid credentials is refused before any byte of the file is spooled.
Fields may come in any order (some clients send the file first), so a file part before the token is
spooled and the token checked when it arrives. Bounds, whatever the order: at most
:data:`MAX_FORM_PARTS` parts, :data:`MAX_FORM_FIELD` bytes of non-file fields in all, and one spool
(one file descriptor) per request: the first file part named ``file``; other file parts are read and
dropped.
"""

from typing import IO, Any, Callable, Dict, NamedTuple, Optional

from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.sansio.multipart import Data, Epilogue, Field, File, MultipartDecoder, NeedData

from wcs.emulator.errors import AuthRequired, BadRequest, BodyTooLarge

MAX_FORM_FIELD = 16 * 1024 * 1024
"""Bound on the in-memory (non-file) parts of a form upload, all together."""
MAX_FORM_PARTS = 1000
"""Bound on the parts of one form (werkzeug's own default for the forms it parses)."""
_READ = 64 * 1024


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


def _charset(headers: Any) -> str:
    content_type = headers.get("content-type", "")
    for param in content_type.split(";")[1:]:
        name, _, value = param.strip().partition("=")
        if name.lower() == "charset" and value.strip('"').lower() in ("ascii", "us-ascii", "utf-8", "iso-8859-1"):
            return value.strip('"').lower()
    return "utf-8"


def read_form(stream: IO[bytes], boundary: str, check_token: Callable[[Optional[str]], Dict[str, Any]],
              new_spool: Callable[[], Any]) -> Form:
    """Parse the form on ``stream``; ``check_token(value)`` returns the put policy or raises (401);
    ``new_spool()`` gives the file-like object (``write``) the file part goes to.

    Raises:
        AuthRequired: no token field (401); what ``check_token`` raises.
        BodyTooLarge: the text fields exceed :data:`MAX_FORM_FIELD`, or the form has more than
            :data:`MAX_FORM_PARTS` parts (413).
        BadRequest: a malformed body (400).
    """
    if not boundary:
        raise BadRequest("malformed multipart body: no boundary")
    decoder = MultipartDecoder(boundary.encode("latin-1", "replace"), max_form_memory_size=MAX_FORM_FIELD)
    parts = 0
    fields: Dict[str, str] = {}
    policy: Optional[Dict[str, Any]] = None
    upload: Optional[FilePart] = None
    memory = 0
    part: Any = None
    text: Optional[list] = None
    sink: Optional[Callable[[bytes], Any]] = None
    ended = False
    try:
        while not ended:
            data = stream.read(_READ)
            decoder.receive_data(data or None)
            event = decoder.next_event()
            while not isinstance(event, NeedData):
                if isinstance(event, Epilogue):
                    ended = True
                    break
                if isinstance(event, (Field, File)):
                    parts += 1
                    if parts > MAX_FORM_PARTS:
                        raise BodyTooLarge("the form has more than %d parts" % MAX_FORM_PARTS)
                if isinstance(event, Field):
                    part, text, sink = event, [], None
                elif isinstance(event, File):
                    part, text, sink = event, None, None
                    if event.name == "file" and upload is None:
                        upload = FilePart(new_spool(), event.filename, event.headers.get("content-type"))
                        sink = upload.spool.write
                elif isinstance(event, Data):
                    if text is not None:
                        memory += len(event.data)
                        if memory > MAX_FORM_FIELD:
                            raise BodyTooLarge("the form's text fields are too large")
                        text.append(event.data)
                    elif sink is not None:
                        sink(event.data)
                    if not event.more_data:
                        if text is not None:
                            value = b"".join(text).decode(_charset(part.headers), "replace")
                            fields.setdefault(part.name, value)
                            if part.name == "token" and policy is None:
                                policy = check_token(value)
                        part, text, sink = None, None, None
                event = decoder.next_event()
            if not data and not ended:
                raise BadRequest("malformed multipart body: it ends before its closing boundary")
    except RequestEntityTooLarge:
        raise BodyTooLarge("a non-file form field is too large") from None
    except ValueError as exc:  # the decoder's verdicts
        raise BadRequest("malformed multipart body: %s" % exc) from None
    if policy is None:
        raise AuthRequired()
    return Form(fields, upload, policy)
