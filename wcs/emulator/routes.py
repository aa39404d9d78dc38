"""The route table: every WCS path on one origin, mapped to an endpoint name (a method of one of the
endpoint families in :mod:`wcs.emulator.api`).

Upload and management paths never collide (reference 1.1), and downloads live at ``/<bucket>/<key>``, so
a bucket may not be named like the first segment of an API path (:data:`RESERVED_BUCKET_NAMES`).
:data:`CATEGORY` maps each endpoint to the name used by fault rules and request counters.
"""

from urllib.parse import quote

from werkzeug.routing import BaseConverter, Map, Rule

RESERVED_BUCKET_NAMES = frozenset((
    "file", "mkblk", "bput", "mkfile", "stat", "delete", "move", "copy", "setdeadline", "list", "bucket",
    "fmgr", "fops", "status", "wslive", "append", "prefetch", "converttype", "restore",
))

CATEGORY = {
    "upload": "upload",
    "append": "upload",
    "mkblk": "mkblk",
    "bput": "bput",
    "mkfile": "mkfile",
    "download": "download",
}
"""Endpoint -> counter / fault category; every endpoint not listed here is ``mgr``."""


def category(endpoint: str) -> str:
    return CATEGORY.get(endpoint, "mgr")


def download_url(base_url: str, bucket: str, key: str) -> str:
    """The URL the ``download`` route serves ``bucket``/``key`` at (magic variable ``url``, job items)."""
    return "%s/%s/%s" % (base_url, quote(bucket, safe=""), quote(key, safe="/"))


class DigitsConverter(BaseConverter):
    """A run of decimal digits, passed on as text: the handler bounds it and answers 400 when it is out of
    range (werkzeug's ``int`` would hand over unbounded numbers, or fail on very long ones)."""

    regex = r"\d+"


def build_map() -> Map:
    """A fresh werkzeug ``Map`` of the emulator's routes."""
    rules = [
        Rule("/file/upload", endpoint="upload", methods=["POST"]),
        Rule("/append/<digits:position>", endpoint="append", methods=["POST"]),  # wcs.emulator.api.append
        Rule("/mkblk/<digits:block_size>", endpoint="mkblk", methods=["POST"]),
        Rule("/mkblk/<digits:block_size>/<digits:block_order>", endpoint="mkblk", methods=["POST"]),
        Rule("/bput/<ctx>/<digits:offset>", endpoint="bput", methods=["POST"]),
        Rule("/mkfile/<digits:fsize>", endpoint="mkfile", methods=["POST"]),
        Rule("/mkfile/<digits:fsize>/<path:rest>", endpoint="mkfile", methods=["POST"]),
        Rule("/stat/<entry>", endpoint="stat", methods=["GET", "POST"]),
        Rule("/delete/<entry>", endpoint="delete", methods=["POST"]),
        Rule("/move/<src>/<dst>", endpoint="move", methods=["POST"]),
        Rule("/copy/<src>/<dst>", endpoint="copy", methods=["POST"]),
        Rule("/setdeadline", endpoint="setdeadline", methods=["POST"]),
        Rule("/list", endpoint="list", methods=["GET", "POST"]),
        Rule("/bucket/list", endpoint="bucket_list", methods=["GET"]),
        Rule("/bucket/stat", endpoint="bucket_stat", methods=["GET"]),
        Rule("/bucket/statistics", endpoint="bucket_statistics", methods=["GET"]),
        Rule("/prefetch/<param>", endpoint="prefetch", methods=["POST"]),  # wcs.emulator.api.mirror
        Rule("/converttype/<entry>/<storage_class>", endpoint="converttype", methods=["POST"]),
        Rule("/restore/<entry>/days/<days>", endpoint="restore", methods=["POST"]),
        Rule("/fmgr/status", endpoint="status", methods=["GET"]),
        Rule("/fmgr/<op>", endpoint="fmgr", methods=["POST"]),
        Rule("/fops", endpoint="fops", methods=["POST"]),
        Rule("/status/get/prefop", endpoint="status", methods=["GET"]),
        Rule("/wslive/list", endpoint="wslive_list", methods=["GET"]),
        Rule("/imageDetect", endpoint="image_detect", methods=["POST"]),  # wcs.emulator.api.detect
        Rule("/<bucket>/<path:key>", endpoint="download", methods=["GET", "HEAD"]),
    ]
    # Keys may contain '//' and must not be redirected to a "canonical" URL.
    return Map(rules, strict_slashes=False, merge_slashes=False, converters={"digits": DigitsConverter})
