"""Form upload, ``POST /file/upload``.

The multipart body is parsed as it arrives (:mod:`wcs.emulator.api.form`: the token is checked before
the file part is spooled) straight into a spool file under ``tmp/`` that is hashed as it is written,
so memory does not grow with the object's size; the spool is then renamed into place.

[INFERRED] behaviour:

* Key resolution: scope key > form ``key`` > ``saveKey`` (magic variables substituted) > the file
  part's filename (percent-decoded, as py3 quotes it).
* mimeType: form field > guess from the key's extension > the file part's Content-Type unless generic >
  ``application/octet-stream``.
* Retention (form ``deadline``) counts days from the time of the call; 0 expires at once.
* Success: URL-safe Base64 of ``hash=<etag>`` or ``<returnBody>&hash=<etag>`` as ``text/plain``;
  ``returnUrl`` answers 303 to it, and to ``?code=..&message=..`` on a failure.
"""

import contextlib
import time
from typing import Any, Dict, Iterator, List
from urllib.parse import quote, unquote

from werkzeug.wrappers import Request, Response

from wcs.commons.fsutil import discard
from wcs.commons.util import EtagHasher, urlsafe_base64_encode
from wcs.emulator.api import policy as put_policy
from wcs.emulator.api.context import Context
from wcs.emulator.api.form import Form, read_form
from wcs.emulator.api.wire import retention
from wcs.emulator.errors import ApiError, BadRequest, status_line
from wcs.emulator.state import ObjectInfo, guess_mime, validate_key
from wcs.emulator.verify import split_scope


class Spool:
    """Where the file part of a form goes: written to disk and hashed on the way."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._fp = open(path, "wb")
        self.hasher = EtagHasher()

    def write(self, data: bytes) -> int:
        self.hasher.update(data)
        return self._fp.write(data)

    def flush(self) -> None:
        self._fp.flush()

    def close(self) -> None:
        self._fp.close()

    def discard(self) -> None:
        self._fp.close()
        discard(self.path)


def redirect(location: str) -> Response:
    return Response(b"", status=status_line(303), headers={"Location": location})


def failure_redirect(return_url: str, exc: ApiError) -> Response:
    """The answer to a form with a ``returnUrl`` that failed: 303 to it with ``code`` and ``message``."""
    sep = "&" if "?" in return_url else "?"
    return redirect("%s%scode=%d&message=%s" % (return_url, sep, exc.code, quote(exc.message)))


@contextlib.contextmanager
def spooled_form(ctx: Context, request: Request) -> Iterator[Form]:
    """The form of the multipart ``request`` (:func:`~wcs.emulator.api.form.read_form`), its file part
    spooled under ``tmp/``; the spool is removed when the block ends, whatever happened (a stored object's
    spool was renamed into place before)."""
    if request.mimetype != "multipart/form-data":
        raise BadRequest("Content-Type must be multipart/form-data")
    spools: List[Spool] = []

    def new_spool() -> Spool:
        spool = Spool(ctx.store.new_temp_path())
        spools.append(spool)
        return spool

    try:
        yield read_form(request.stream, request.mimetype_params.get("boundary", ""), ctx.upload_checker(request),
                        new_spool, ctx.settings.spool_before_token)
    finally:
        for spool in spools:
            spool.discard()


class UploadApi:
    """``upload``: the form upload endpoint."""

    endpoints = ("upload",)

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def upload(self, request: Request) -> Response:
        started = time.monotonic()
        with spooled_form(self.ctx, request) as form:
            return_url = form.policy.get("returnUrl")
            try:
                return self._store(request, form, started)
            except ApiError as exc:
                if not return_url:
                    raise
                return failure_redirect(str(return_url), exc)

    def _store(self, request: Request, parsed: Form, started: float) -> Response:
        policy, form, upload = parsed.policy, parsed.fields, parsed.file
        bucket = self.ctx.upload_bucket(policy)
        _, scope_key = split_scope(policy)
        temp_text = None
        if upload is not None:
            spool = upload.spool
            fname = upload.filename or ""
            part_type = upload.content_type
        elif "file" in form:
            # A file part sent without a filename arrives as a text field (bounded by MAX_FORM_FIELD).
            spool = Spool(self.ctx.store.new_temp_path())
            temp_text = spool
            spool.write(form["file"].encode("utf-8"))
            fname, part_type = "", None
        else:
            raise BadRequest("form field 'file' is required")
        try:
            spool.flush()
            custom = {name: value for name, value in form.items() if name.startswith("x:")}
            key = put_policy.resolve_key(scope_key, form.get("key"))
            if key is None and policy.get("saveKey"):
                etag = spool.hasher.etag()
                key = put_policy.substitute(str(policy["saveKey"]),
                                            dict(custom, bucket=bucket, fname=fname, hash=etag, etag=etag))
            if key is None:
                key = unquote(fname)
            if not key:
                raise BadRequest("no key: give it in the token scope, the key field or saveKey")
            validate_key(key)
            size = spool.hasher.size
            put_policy.check_size(policy, size)
            expires_at = retention(form.get("deadline"), "deadline")
            mime = guess_mime(key, form.get("mimeType"), part_type)
            spool.close()
            info = self.ctx.store.put_file(bucket, key, spool.path, size, spool.hasher.etag(), mime,
                                           expires_at, overwrite=bool(policy.get("overwrite", 0)))
        finally:
            if temp_text is not None:
                temp_text.discard()
        return answer(self.ctx, policy, request, info, fname, custom, started)


def answer(ctx: Context, policy: Dict[str, Any], request: Request, info: ObjectInfo, fname: str,
           custom: Dict[str, str], started: float) -> Response:
    """The success answer of a form upload (and of an append) of ``info``: the policy's
    ``persistentOps`` queued, then its callback's answer, a 303 to ``returnUrl``, or the Base64 body."""
    variables = put_policy.after_upload(ctx, policy, request, info, fname, custom, started)
    if policy.get("callbackUrl"):
        return put_policy.callback(ctx, policy, variables)
    tail = "hash=" + info.hash
    returned = put_policy.substitute(str(policy["returnBody"]), variables) + "&" + tail \
        if policy.get("returnBody") else tail
    if policy.get("returnUrl"):
        url = str(policy["returnUrl"])
        return redirect(url + ("&" if "?" in url else "?") + returned)
    return Response(urlsafe_base64_encode(returned), status=status_line(200), content_type="text/plain")
