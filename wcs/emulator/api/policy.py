"""What a put policy makes of an upload, form or multipart alike: the key, the size limit, the magic
variables, ``persistentOps`` and the upload callback.

[INFERRED] behaviour:

* A form ``key``, ``Key`` header or ``/key/`` segment that contradicts a ``bucket:key`` scope is refused
  with 401 ``Bucket Access Denied`` instead of silently renamed.
* Magic variables that are unknown or have no value become the empty string; values are inserted raw.
* Upload callbacks POST the substituted ``callbackBody`` as ``application/x-www-form-urlencoded`` with
  ``Authorization: AK:sign(callbackUrl + "\\n" + body)``; the callback's 200 reply is relayed as is.
* ``persistentOps`` of a put policy run with ``force=1`` (the input was just written).
"""

import re
import time
from typing import Any, Dict, Optional

from werkzeug.wrappers import Request, Response

from wcs.commons.auth import callback_signature
from wcs.commons.util import urlsafe_base64_encode
from wcs.emulator import outbound
from wcs.emulator.api.context import Context
from wcs.emulator.errors import BucketAccessDenied, CallbackFailed, FsizeLimitExceeded, status_line
from wcs.emulator.state import ObjectInfo

_MAGIC = re.compile(r"\$\(([^)]*)\)")


def substitute(template: str, variables: Dict[str, str]) -> str:
    """``template`` with every ``$(name)`` replaced by its variable (empty when unknown)."""
    return _MAGIC.sub(lambda m: str(variables.get(m.group(1).strip(), "")), template)


def resolve_key(scope_key: Optional[str], explicit: Optional[str]) -> Optional[str]:
    """The key of an upload: the scope's, which ``explicit`` may only repeat; else ``explicit``."""
    if scope_key is not None:
        if explicit and explicit != scope_key:
            raise BucketAccessDenied("key %r is outside the token scope" % explicit)
        return scope_key
    return explicit or None


def check_size(policy: Dict[str, Any], size: int) -> None:
    """401 when ``size`` exceeds the policy's ``fsizeLimit`` (0 or absent: no limit)."""
    limit = policy.get("fsizeLimit") or 0
    if limit > 0 and size > limit:
        raise FsizeLimitExceeded("%d > %d bytes" % (size, limit))


def after_upload(ctx: Context, policy: Dict[str, Any], request: Request, info: ObjectInfo, fname: str,
                 custom: Dict[str, str], started: float) -> Dict[str, str]:
    """Queue the policy's ``persistentOps`` on the stored object; returns the magic variables of the
    answer (``started``: ``time.monotonic()`` when the request arrived, for ``costTime``)."""
    persistent_id = ""
    ops = policy.get("persistentOps")
    if ops:
        notify = policy.get("persistentNotifyUrl") or None
        persistent_id = ctx.jobs.submit_fops(info, [op for op in str(ops).split(";") if op], notify, True,
                                             bool(policy.get("separate")))
    variables = {
        "bucket": info.bucket, "key": info.key, "fname": fname, "hash": info.hash, "etag": info.hash,
        "fsize": str(info.fsize), "mimeType": info.mime_type, "ip": request.remote_addr or "",
        "url": urlsafe_base64_encode(ctx.url_of(info.bucket, info.key)),
        "costTime": str(int((time.monotonic() - started) * 1000)), "persistentId": persistent_id,
    }
    variables.update(custom)
    return variables


def callback(ctx: Context, policy: Dict[str, Any], variables: Dict[str, str]) -> Response:
    """POST the substituted ``callbackBody`` to ``callbackUrl`` and relay its answer."""
    url = str(policy["callbackUrl"])
    body = substitute(str(policy.get("callbackBody") or ""), variables).encode("utf-8")
    headers = {"Content-Type": "application/x-www-form-urlencoded",
               "Authorization": callback_signature(ctx.access_key, ctx.secret_key, url, body)}
    try:
        _, data, content_type = outbound.post(url, body, headers)
    except outbound.OutboundError as exc:
        # The object is stored; 579 tells the client exactly that (reference 3.3).
        raise CallbackFailed(str(exc)) from None
    return Response(data, status=status_line(200), content_type=content_type or "application/json")
