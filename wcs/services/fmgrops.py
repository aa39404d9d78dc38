"""The op strings of the fmgr jobs the official SDK leaves to its caller: bulk retention over a prefix,
ZIP of objects, deletion of an m3u8 playlist with its segments (reference 7.2). Pure: no I/O.

Each parameter is URL-safe Base64 where the reference says so; numbers go out as they are.
``setdeadline`` writes ``deadline`` (the documents' name; the vendor's Java SDK sends
``deleteAfterDays``, which the emulator also accepts).
"""

from typing import Iterable, List, Optional

from wcs.commons.errors import InvalidArgument
from wcs.commons.util import entry, urlsafe_base64_encode

b64 = urlsafe_base64_encode


def retention_days(deadline: object) -> int:
    """``deadline`` as whole days: ``-1`` (keep forever) or more.

    Raises:
        InvalidArgument: not an integer, or below -1.
    """
    try:
        days = int(str(deadline).strip())
    except ValueError:
        days = None
    if days is None or isinstance(deadline, bool) or days < -1:
        raise InvalidArgument("invalid deadline %r: a number of days (0 deletes, -1 keeps forever)" % (deadline,))
    return days


def setdeadline_op(bucket: str, prefix: str, deadline: object) -> str:
    """``bucket/<b64>[/prefix/<b64>]/deadline/<days>``: the retention of every object under ``prefix``
    (a directory: ``logs`` covers ``logs/...``, not ``logs2``), or of the whole bucket without one.

    Raises:
        InvalidArgument: a bad ``deadline``; ``0`` (delete) without a prefix: it would delete every
            object of the bucket.
    """
    days = retention_days(deadline)
    if days == 0 and not prefix:
        raise InvalidArgument("deadline 0 without a prefix would delete every object of bucket %s; "
                              "give a prefix" % bucket)
    op = "bucket/" + b64(bucket)
    if prefix:
        op += "/prefix/" + b64(prefix)
    return op + "/deadline/%d" % days


def compress_op(bucket: str, keys: Iterable[str], dst_bucket: str, dst_key: str,
                key_list: Optional[str] = None) -> str:
    """``bucket/<b64>/keys/<b64 k1>|<b64 k2>...[/keyList/<b64>]/saveas/<b64 dst_bucket:dst_key>``: a ZIP of
    ``keys`` of ``bucket`` (a key ending in ``/`` stands for every object under it) and of the keys
    listed one per line in the object ``key_list``.

    Raises:
        InvalidArgument: neither keys nor a key list, an empty key, or no destination key.
    """
    names: List[str] = list(keys)
    if any(not name for name in names):
        raise InvalidArgument("an empty key cannot be zipped")
    if not names and not key_list:
        raise InvalidArgument("nothing to zip: give keys (a key ending in / takes a whole folder) or a key list")
    if not dst_key:
        raise InvalidArgument("the ZIP needs a key (wcs://BUCKET/NAME.zip)")
    op = "bucket/" + b64(bucket)
    if names:
        op += "/keys/" + "|".join(b64(name) for name in names)
    if key_list:
        op += "/keyList/" + b64(key_list)
    return op + "/saveas/" + entry(dst_bucket, dst_key)


def deletem3u8_op(bucket: str, key: str, deletets: bool = True) -> str:
    """``bucket/<b64>/key/<b64>/deletets/<0|1>``: delete the playlist ``key`` and, with ``deletets``, the
    ts segments it references by relative path."""
    if not key:
        raise InvalidArgument("the playlist needs a key (wcs://BUCKET/NAME.m3u8)")
    return "bucket/%s/key/%s/deletets/%d" % (b64(bucket), b64(key), 1 if deletets else 0)
