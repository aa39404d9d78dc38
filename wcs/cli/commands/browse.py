"""``ls`` and ``du``: what a bucket holds, one line per entry, streamed (memory flat with the keys).

``ls`` without an argument lists the buckets; ``ls wcs://b/dir/`` one directory (``dir`` means
``dir/``): its sub-directories as ``DIR`` lines, then its objects; ``ls -r`` every key under the
prefix. An object line has the upload time (UTC), the size and the key; ``-H`` writes sizes in
KiB/MiB/GiB, ``-l`` adds the storage class before the key (:func:`class_column`: for Archive objects
whether and until when they are restored), ``--summarize`` ends with the number of objects and their
total size. ``ls wcs://b/file.txt`` of a key that is no directory shows that object.

``du wcs://b/prefix/`` prints objects and bytes under the prefix, ``--depth N`` one line per
sub-prefix down to N levels first (each as soon as the listing has passed it), the total last.

With ``--json`` every line is a JSON object (JSON Lines): sizes as numbers, times as ISO 8601 and
epoch milliseconds (:func:`object_record`). Both commands read one listing of the facade
(:meth:`~wcs.services.client.Client.list_entries`).
"""

import argparse
import datetime
from typing import Any, Dict, Optional

from wcs.cli import printing, uri
from wcs.cli.context import LISTING_WORKERS, NEEDS_MGR, Context
from wcs.cli.status import ExitStatus
from wcs.commons.result import ObjectInfo


def iso_time(put_time_ms: Optional[int]) -> Optional[str]:
    """``2026-12-07T19:55:21.123Z`` of an epoch-milliseconds time (None stays None)."""
    if put_time_ms is None:
        return None
    moment = datetime.datetime.fromtimestamp(put_time_ms / 1000.0, tz=datetime.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (put_time_ms % 1000)


def object_record(bucket: str, info: ObjectInfo) -> Dict[str, Any]:
    """The JSON line of one object (``restore_state`` and ``restore_until``: of Archive objects, else null)."""
    return {"type": "object", "bucket": bucket, "key": info.key, "size": info.size, "hash": info.hash,
            "time": iso_time(info.put_time), "epoch_ms": info.put_time, "mime_type": info.mime_type,
            "storage_class": info.storage_class, "restore_state": info.restore_state,
            "restore_until": info.restore_until}


def class_column(info: ObjectInfo) -> str:
    """``-l``'s column, one word: the class (``Standard``, ``InfrequentAccess``...), and for an Archive
    object its restore: ``Archive:none``, ``Archive:restoring``, ``Archive:restored:<until>``."""
    name = info.storage_class or "-"
    if not info.archived:
        return name
    state = info.restore_state or "unknown"
    if info.restore_until and state == "restored":
        return "%s:%s:%s" % (name, state, info.restore_until)
    return "%s:%s" % (name, state)


def _size(size: int, human: bool) -> str:
    return printing.human_size(size) if human else str(size)


def _when(info: ObjectInfo) -> str:
    text = iso_time(info.put_time)
    return text[:19].replace("T", " ") if text else "-" * 19


def cmd_ls(args: argparse.Namespace, ctx: Context) -> int:
    human = bool(getattr(args, "human", False))
    ctx.emitted = True  # the lines are the output: a failure gets its stderr line, no JSON document
    if not args.target:
        return _buckets(ctx)
    bucket, prefix = uri.split_uri(args.target)
    ctx.subject = uri.show(bucket, prefix)
    client = ctx.client(*NEEDS_MGR, workers=LISTING_WORKERS)
    recursive = bool(getattr(args, "recursive", False))
    long = bool(getattr(args, "long", False))
    objects = total = 0
    width = 12

    def line(info: ObjectInfo) -> str:
        return "%s %*s  %s%s" % (_when(info), width, _size(info.size, human),
                                 class_column(info).ljust(16) + " " if long else "", info.key)

    listing = client.list_entries(bucket, prefix, recursive=recursive)
    try:
        for entry in listing:
            if isinstance(entry, ObjectInfo):
                objects += 1
                total += entry.size
                printing.record(ctx, object_record(bucket, entry), line(entry))
            else:
                printing.record(ctx, {"type": "dir", "bucket": bucket, "prefix": entry.prefix},
                                "%s %*s  %s" % (" " * 19, width, "DIR", entry.prefix))
    finally:
        listing.close()
    if not recursive and objects == 0 and listing.pages <= 1 and prefix and not prefix.endswith("/"):
        # No directory of that name: a key of that name, as ``ls FILE`` shows the file.
        stat = client.stat(bucket, prefix)
        if stat.ok:
            info = ObjectInfo.from_item(stat.data if isinstance(stat.data, dict) else {}, key=prefix,
                                        headers=stat.headers)
            objects, total = 1, info.size
            printing.record(ctx, object_record(bucket, info), line(info))
    if getattr(args, "summarize", False):
        printing.record(ctx, {"type": "summary", "objects": objects, "bytes": total},
                        "\nTotal objects: %d\n   Total size: %s" % (objects, _size(total, human)))
    ctx.stdout.flush()
    printing.verbose(ctx, "%s: %d object%s, %d bytes, %.2f s" % (
        ctx.subject, objects, "" if objects == 1 else "s", total, printing.elapsed(ctx)))
    return ExitStatus.SUCCESS


def _buckets(ctx: Context) -> int:
    result = ctx.client(*NEEDS_MGR).list_buckets().raise_for_status()
    body = result.data if isinstance(result.data, dict) else {}
    for item in body.get("buckets") or []:
        name = item.get("name") if isinstance(item, dict) else str(item)
        printing.record(ctx, {"type": "bucket", "bucket": name}, "wcs://%s" % name)
    ctx.stdout.flush()
    return ExitStatus.SUCCESS


def cmd_du(args: argparse.Namespace, ctx: Context) -> int:
    bucket, prefix = uri.split_uri(args.target)
    human = bool(getattr(args, "human", False))
    ctx.subject = uri.show(bucket, prefix)
    ctx.emitted = True  # the lines are the output: a failure gets its stderr line, no JSON document
    client = ctx.client(*NEEDS_MGR, workers=LISTING_WORKERS)
    for row in client.disk_usage(bucket, prefix, depth=args.depth):
        printing.record(ctx, {"bucket": bucket, "prefix": row.prefix, "depth": row.depth, "objects": row.objects,
                              "bytes": row.bytes},
                        "%12s %10d  %s" % (_size(row.bytes, human), row.objects, uri.show(bucket, row.prefix)))
    ctx.stdout.flush()
    return ExitStatus.SUCCESS
