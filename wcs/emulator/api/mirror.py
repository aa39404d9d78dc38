"""Mirror prefetch, ``POST /prefetch/<param>`` (reference 6.10): pull keys from the bucket's mirror origin.

``param`` is ``urlsafe_b64("<bucket>:" + urlsafe_b64(k1) + "|" + urlsafe_b64(k2) ...)``. Each key is
fetched from ``<origin>/<key>`` (percent-encoded, ``/`` kept) with the bounds of ``fmgr/fetch``
(:mod:`wcs.emulator.jobs.fetch`: loopback only, deadline, size cap) and stored, replacing what the key
held. The answer lists every key in the order asked: ``{"bucket": b, "items": [{"key", "mirrorAddress",
"code", "message"}]}`` with the origin's status as ``code`` (a JSON number) and ``OK`` or the reason
as ``message``.

[INFERRED] choices:

* A bucket without an origin: 404 ``Bucket Not Binding Mirror`` (reference 10). Origins are set with
  ``wcs-emulator --mirror BUCKET=URL``, ``wcs-emulator mirror BUCKET URL`` or
  :func:`wcs.emulator.state.mirrors.set_mirror`.
* reference: unknown, chosen: an origin that does not answer (refused, cut, over the deadline or the
  size cap, a body shorter than announced) is item code 599 (the SDKs' "network error"); an invalid
  key is item code 400 with nothing fetched. The request itself answers 200 whenever the bucket has an
  origin and ``param`` parses, whatever the items say.
* Keys are fetched one after the other within the request. Downloading a missing key of a mirrored
  bucket does not fetch it: the reference documents no such back-to-origin read.
"""

from typing import Any, Dict, List
from urllib.parse import quote

from werkzeug.wrappers import Request, Response

from wcs.commons.fsutil import discard
from wcs.commons.util import urlsafe_base64_decode
from wcs.emulator.api.context import Context
from wcs.emulator.api.wire import b64_text, json_response
from wcs.emulator.errors import ApiError, BadRequest, MirrorNotBound, MissingParameter
from wcs.emulator.jobs.fetch import FetchFailed
from wcs.emulator.jobs.outputs import Outputs
from wcs.emulator.jobs.params import OpFailed
from wcs.emulator.state import validate_key

NO_ANSWER = 599
"""Item ``code`` when the origin gave no HTTP answer (reference: unknown, chosen)."""
INVALID_KEY = 400


def _keys(encoded: str) -> List[str]:
    keys = []
    for part in encoded.split("|"):
        if not part:
            continue
        try:
            keys.append(urlsafe_base64_decode(part).decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            raise BadRequest("param: %r is not URL-safe Base64 of a key" % part[:40]) from None
    if not keys:
        raise MissingParameter("key")
    return keys


class MirrorApi:
    """``prefetch``."""

    endpoints = ("prefetch",)

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.store = ctx.store

    def prefetch(self, request: Request, param: str) -> Response:
        self.ctx.mgr_body(request)
        bucket, sep, encoded = b64_text(param, "param").partition(":")
        if not sep or not bucket:
            raise BadRequest("param must encode <bucket>:<b64 key>|<b64 key>...")
        self.store.require_bucket(bucket)
        origin = self.store.mirrors.get(bucket)
        if origin is None:
            raise MirrorNotBound()
        keys = _keys(encoded)
        return json_response({"bucket": bucket, "items": [self._fetch(bucket, key, origin) for key in keys]})

    def _fetch(self, bucket: str, key: str, origin: str) -> Dict[str, Any]:
        address = "%s/%s" % (origin, quote(key, safe="/"))
        item: Dict[str, Any] = {"key": key, "mirrorAddress": address}
        try:
            validate_key(key)
        except ApiError as exc:
            return dict(item, code=INVALID_KEY, message=exc.message)
        temp = self.store.new_temp_path()
        try:
            fetched = self.ctx.jobs.fetcher.fetch(address, temp)
            Outputs(self.store, self.ctx.base_url).store_temp(temp, bucket, key, fetched.mime, force=True)
        except FetchFailed as exc:
            return dict(item, code=exc.status or NO_ANSWER, message=str(exc))
        except OpFailed as exc:
            return dict(item, code=NO_ANSWER, message=str(exc))
        finally:
            discard(temp)
        return dict(item, code=200, message="OK")
