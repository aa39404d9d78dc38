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

from werkzeug.wrappers import Request, Response

from wcs.commons.util import urlsafe_base64_decode
from wcs.emulator.api.context import Context
from wcs.emulator.api.wire import json_response
from wcs.emulator.errors import BadRequest

LABEL = "normal"


class DetectApi:
    """Content moderation (``image_detect``)."""

    endpoints = ("image_detect",)

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def image_detect(self, request: Request) -> Response:
        _, form = self.ctx.mgr_body(request)
        encoded = form.get("image", "")
        if not encoded:
            raise BadRequest("image is required")
        try:
            image = urlsafe_base64_decode(encoded).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            raise BadRequest("image is not URL-safe Base64 of UTF-8 text") from None
        if not image.lower().startswith(("http://", "https://")):
            raise BadRequest("image must be an http(s) URL")
        types = [name.strip() for name in form.get("type", "").split(",") if name.strip()]
        if not types:
            raise BadRequest("type is required")
        bucket = form.get("bucket", "")
        if not bucket:
            raise BadRequest("bucket is required")
        self.ctx.store.require_bucket(bucket)
        answer = {"code": 200, "message": "OK", "image": image, "bucket": bucket,
                  "results": [{"type": name, "label": LABEL, "rate": 1.0, "review": False} for name in types]}
        return json_response(answer)
