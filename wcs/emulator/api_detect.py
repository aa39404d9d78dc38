"""``POST /imageDetect``: content moderation of an image, answered deterministically.

The request is the official SDK's ``Client.image_detect(image, dtype, bucket)``: a signed management
POST whose body is ``image=<URL-safe Base64 of the image URL>&type=<dtype>&bucket=<bucket>``. The
service's answer format is not documented; the emulator does not fetch or judge the image and
answers every well-formed request with::

    {"code": 200, "message": "OK", "image": <url>, "bucket": <bucket>,
     "results": [{"type": <each comma-separated type>, "label": "normal", "rate": 1.0, "review": false}]}

Failures: 401 for a bad management token, 400 for a missing or malformed ``image``/``type`` or an
image that is not an http(s) URL, 404 ``Bucket Not Found`` for an unknown bucket.
"""

import json
from typing import Any

from werkzeug.wrappers import Request, Response

from wcs.commons.util import urlsafe_base64_decode
from wcs.emulator.errors import ApiError, status_line

LABEL = "normal"


def image_detect(handlers: Any, request: Request) -> Response:
    """The handler (bound as a method of :class:`wcs.emulator.handlers.Handlers`)."""
    _, form = handlers._mgr_body(request)
    encoded = form.get("image", "")
    if not encoded:
        raise ApiError(400, "image is required")
    try:
        image = urlsafe_base64_decode(encoded).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "image is not URL-safe Base64 of UTF-8 text") from None
    if not image.lower().startswith(("http://", "https://")):
        raise ApiError(400, "image must be an http(s) URL")
    types = [name.strip() for name in form.get("type", "").split(",") if name.strip()]
    if not types:
        raise ApiError(400, "type is required")
    bucket = form.get("bucket", "")
    if not bucket:
        raise ApiError(400, "bucket is required")
    handlers.store.require_bucket(bucket)
    answer = {"code": 200, "message": "OK", "image": image, "bucket": bucket,
              "results": [{"type": name, "label": LABEL, "rate": 1.0, "review": False} for name in types]}
    return Response(json.dumps(answer).encode("utf-8"), status=status_line(200), content_type="application/json")
