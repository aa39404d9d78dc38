"""Append upload, ``POST /append/<position>`` (reference 5): the form and token of a form upload; the file
part is added at ``position``, which must be the object's length (0 creates the object).

The form is spooled (and hashed) first, like a form upload, so a request that fails midway never
touches the object; the append itself is one step of the store (:mod:`wcs.emulator.state.appendable`):
appends to one key are serialized, and the etag and size answered are those of the whole object
right after this append. Fields: ``token``, ``key``, ``mimeType`` (kept by later appends that give
none), ``deadline`` (retention from now, as a form upload), ``x:<name>``, ``file``.

[INFERRED] choices (also in ``docs/emulator.md``):

* Success answers like a form upload of the same policy (Base64 of ``hash=<etag>`` or of
  ``<returnBody>&hash=<etag>``, callback, ``returnUrl``), with the etag of the whole object, and the
  headers ``x-wcs-next-append-position: <new length>`` and ``x-wcs-object-type: Appendable``.
* reference: unknown, chosen: a position other than the object's length is 409 ``Position Not Equal To
  Length`` (the v2 documents' code) with ``x-wcs-next-append-position: <length>`` on the answer; so is
  a position other than 0 for a key that holds nothing (length 0).
* reference: unknown, chosen: an append retried after a lost answer is not recognised: its position is
  stale, so it is refused with that 409 like any other; a client that needs to know whether its append
  went through compares the object's bytes at the position it sent (a ranged download) or its stat.
* reference: unknown, chosen: an append onto a normal object (made by any other upload), or onto an
  Archive object, is 409 ``Object Not Appendable``. A normal upload with ``overwrite`` replaces an
  appendable object by a normal one; a copy is normal, a move keeps it appendable.
* The policy's ``fsizeLimit`` bounds each append's bytes (each append is "performed according to the
  normal upload policy"); ``overwrite`` is not needed to append.
"""

import time
from typing import Optional
from urllib.parse import unquote

from werkzeug.wrappers import Request, Response

from wcs.emulator.api import policy as put_policy
from wcs.emulator.api.context import Context
from wcs.emulator.api.upload import Spool, answer, failure_redirect, spooled_form
from wcs.emulator.api.wire import bounded_int, json_response, retention
from wcs.emulator.errors import ApiError, BadRequest, PositionNotEqualToLength
from wcs.emulator.state import guess_mime, validate_key
from wcs.emulator.state.appendable import Piece
from wcs.emulator.verify import split_scope

MAX_POSITION = 1 << 53
NEXT_POSITION = "x-wcs-next-append-position"


class AppendApi:
    """``append``."""

    endpoints = ("append",)

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def append(self, request: Request, position: str) -> Response:
        started = time.monotonic()
        at = bounded_int(position, "position", 0, MAX_POSITION)
        with spooled_form(self.ctx, request) as form:
            if form.file is None:
                raise BadRequest("form field 'file' with a filename is required")
            return_url = form.policy.get("returnUrl")
            try:
                return self._append(request, form.policy, form.fields, form.file.spool, form.file.filename,
                                    form.file.content_type, at, started)
            except PositionNotEqualToLength as exc:
                if return_url:
                    return failure_redirect(str(return_url), exc)
                response = json_response(exc.body(), exc.code)
                response.headers[NEXT_POSITION] = str(exc.next_position)
                return response
            except ApiError as exc:
                if not return_url:
                    raise
                return failure_redirect(str(return_url), exc)

    def _append(self, request: Request, policy: dict, fields: dict, spool: Spool, fname: str,
                part_type: Optional[str], at: int, started: float) -> Response:
        bucket = self.ctx.upload_bucket(policy)
        _, scope_key = split_scope(policy)
        key = put_policy.resolve_key(scope_key, fields.get("key")) or unquote(fname)
        if not key:
            raise BadRequest("no key: give it in the token scope or the key field")
        validate_key(key)
        put_policy.check_size(policy, spool.hasher.size)
        spool.close()
        piece = Piece(spool.path, spool.hasher.size, spool.hasher.block_digests(), fields.get("mimeType") or None,
                      guess_mime(key, None, part_type), retention(fields.get("deadline"), "deadline"))
        info = self.ctx.store.appends.append(bucket, key, at, piece)
        custom = {name: value for name, value in fields.items() if name.startswith("x:")}
        response = answer(self.ctx, policy, request, info, fname, custom, started)
        response.headers[NEXT_POSITION] = str(info.fsize)
        response.headers["x-wcs-object-type"] = "Appendable"
        return response
