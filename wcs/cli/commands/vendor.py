"""Commands for what the vendor's other SDKs do: ``append``, ``prefetch``, ``info``, ``convert-type``,
``restore`` (and their ``-r`` over a prefix), ``setdeadline -r``, ``zip``, ``deletem3u8``.

``append`` sends a regular file in pieces of at most 2 GiB, and a stream (``-``, a pipe) ``--piece-size``
bytes at a time; lost answers are settled by the SDK (:meth:`Client.append
<wcs.services.client.Client.append>`). ``prefetch`` exits 10 when some key could not be fetched (each
says why on stderr). The ``-r`` forms list the prefix, call once per object on the client's pool, say
each failure on stderr, print a summary and exit 10 when any object failed. The job commands print the
submission's answer; with ``--wait`` they follow the job and print its final status instead
(:func:`wcs.cli.commands.jobs.follow`, as ``deletePrefix --wait``).
"""

import argparse
import os
from stat import S_ISREG
from typing import Any, Optional, Tuple

from wcs.cli import uri
from wcs.cli.argtypes import UsageError, parse_days
from wcs.cli.commands import jobs, objects, upload_options
from wcs.cli.context import NEEDS_MGR, NEEDS_PUT, Context
from wcs.cli.printing import note, verbose
from wcs.cli.status import CommandFailed, ExitStatus
from wcs.commons.answers import PrefetchItem
from wcs.commons.errors import InvalidArgument, LocalFileError

STDIN = "-"


# -- append ----------------------------------------------------------------------------------------

def _source(path: str, ctx: Context) -> Tuple[Any, Optional[int]]:
    """The binary stream to append and its size (None: read it to its end)."""
    if path == STDIN:
        return getattr(ctx.stdin, "buffer", ctx.stdin), None
    try:
        fp = open(path, "rb")
    except IsADirectoryError:
        raise LocalFileError("%s: is a directory, not a file" % path) from None
    except OSError as exc:
        raise LocalFileError("%s: %s" % (path, exc.strerror or exc)) from None
    mode = os.fstat(fp.fileno()).st_mode
    return fp, os.fstat(fp.fileno()).st_size if S_ISREG(mode) else None


def cmd_append(args: argparse.Namespace, ctx: Context) -> int:
    bucket, key = uri.parse_object(args.uri)
    ctx.subject = uri.show(bucket, key)
    # Without --position, stat tells the object's length; after a lost answer it tells what landed.
    client = ctx.client(*NEEDS_PUT, *(("mgr_url",) if args.position is None else ()))
    appender = client.appender(bucket, key, args.position, mime_type=upload_options.mime_type(args, key))
    if not hasattr(appender, "append_piece"):  # the stat that finds the object's length failed
        return ctx.emit_result(appender)
    start = appender.position
    from wcs.cli.progress import open_progress

    fp, size = _source(args.localfile, ctx)
    try:
        with open_progress(size, key, quiet=ctx.quiet, stream=ctx.stderr, ctx=ctx) as bar:
            if size is None:
                result = appender.append_stream(fp, args.piece_size, bar.callback)
            else:
                result = appender.append_file(fp, size, progress=bar.callback)
    finally:
        if args.localfile != STDIN:
            fp.close()
    if result.code == 409 and result.next_position is not None:
        ctx.advice = "the object is %d bytes long: append at --position %d" % (result.next_position,
                                                                                result.next_position)
    elif result.code == 409:
        ctx.advice = "only an object made by append can be appended to"
    if appender.appended and not result.ok:
        note(ctx, "%d bytes were appended before the failure (from position %d)" % (appender.appended, start))
    return ctx.emit_result(result, position=start, appended=appender.appended,
                           next_position=appender.position if result.ok else result.next_position)


# -- prefetch and media information --------------------------------------------------------------

def cmd_prefetch(args: argparse.Namespace, ctx: Context) -> int:
    named = [uri.parse_object(text) for text in args.uris]
    buckets = sorted({bucket for bucket, _key in named})
    if len(buckets) > 1:
        raise InvalidArgument("prefetch takes keys of one bucket at a time, got %s" % ", ".join(buckets))
    bucket = buckets[0]
    ctx.subject = uri.show(bucket)
    result = ctx.client(*NEEDS_MGR).prefetch(bucket, [key for _bucket, key in named])
    ctx.emit_result(result)
    items = PrefetchItem.list_from(result.data)
    failed = [item for item in items if not item.ok]
    for item in items:
        where = uri.show(bucket, item.key)
        if item.ok:
            verbose(ctx, "%s: fetched from %s" % (where, item.mirror_address))
        else:
            ctx.line("%s: not fetched: %s %s (from %s)" % (where, item.code, item.message, item.mirror_address),
                     "error")
    missing = len(named) - len(items)
    if failed or missing:
        raise CommandFailed("%d of %d keys were not fetched" % (len(failed) + max(missing, 0), len(named)),
                            ExitStatus.PARTIAL)
    return ExitStatus.SUCCESS


def cmd_info(args: argparse.Namespace, ctx: Context) -> int:
    op = getattr(args, "op", None)
    if op is None:
        raise UsageError("say which information: --av, --av2, --image or --exif", "wcscmd info")
    bucket, key = uri.parse_object(args.uri)
    ctx.subject = uri.show(bucket, key)
    client = ctx.client()
    calls = {"avinfo": client.avinfo, "avinfo2": client.avinfo2, "imageInfo": client.image_info,
             "exif": client.exif}
    return ctx.emit_result(calls[op](bucket, key))


# -- storage classes and restore -----------------------------------------------------------------

def _bulk(ctx: Context, bucket: str, run: Any) -> int:
    """Run a ``-r`` form (``run(on_done)`` returns the summary), saying each object's outcome."""
    def on_done(info: Any, error: Optional[str], result: Any) -> None:
        where = uri.show(bucket, info.key)
        if error is None:
            verbose(ctx, "%s: done" % where)
        else:
            ctx.line("%s: %s" % (where, error), "error")

    summary = run(on_done)
    document = summary.to_json()
    ctx.emit(document)
    if summary.failed:
        raise CommandFailed("%d of %d objects failed (first: %s: %s)" % (
            summary.failed, summary.failed + summary.done, summary.errors[0]["key"], summary.errors[0]["message"]),
            ExitStatus.PARTIAL)
    return ExitStatus.SUCCESS


def _prefix_of(text: str) -> Tuple[str, str]:
    bucket, prefix = uri.split_uri(text)
    if prefix:
        uri.parse_object(text)  # the key length check
    return bucket, prefix


def cmd_convert_type(args: argparse.Namespace, ctx: Context) -> int:
    if getattr(args, "recursive", False):
        bucket, prefix = _prefix_of(args.uri)
        ctx.subject = uri.show(bucket, prefix)
        client = ctx.client(*NEEDS_MGR)
        return _bulk(ctx, bucket, lambda on_done: client.convert_type_prefix(bucket, prefix, args.storage_class,
                                                                     on_done=on_done))
    bucket, key = uri.parse_object(args.uri)
    ctx.subject = uri.show(bucket, key)
    return ctx.emit_result(ctx.client(*NEEDS_MGR).convert_type(bucket, key, args.storage_class))


def cmd_restore(args: argparse.Namespace, ctx: Context) -> int:
    days = _restore_days(args.days)
    if getattr(args, "recursive", False):
        bucket, prefix = _prefix_of(args.uri)
        ctx.subject = uri.show(bucket, prefix)
        client = ctx.client(*NEEDS_MGR)
        return _bulk(ctx, bucket, lambda on_done: client.restore_prefix(bucket, prefix, days, on_done=on_done))
    bucket, key = uri.parse_object(args.uri)
    ctx.subject = uri.show(bucket, key)
    result = ctx.client(*NEEDS_MGR).restore(bucket, key, days)
    if result.ok:
        note(ctx, "restore of %s started: `wcscmd stat` shows restoreState restored when it can be read"
             % ctx.subject)
    return ctx.emit_result(result)


def _restore_days(text: str) -> int:
    try:
        days = int(text.strip())
    except ValueError:
        days = 0
    if days < 1:
        raise InvalidArgument("DAYS must be a whole number of days >= 1, got %r" % text)
    return days


# -- fmgr jobs: setdeadline -r, zip, deletem3u8 ---------------------------------------------------

def _no_output(args: argparse.Namespace) -> None:
    if getattr(args, "output", None) is not None:
        form = args.command + (" -r" if getattr(args, "recursive", False) else "")
        raise UsageError("--output does not apply to %s (it is for: deletePrefix, fops)" % form, "wcscmd " + form)


def cmd_setdeadline(args: argparse.Namespace, ctx: Context) -> int:
    """``setdeadline`` of one object (official), or ``-r`` of every object under a prefix (an fmgr job)."""
    if not getattr(args, "recursive", False):
        return objects.cmd_setdeadline(args, ctx)
    _no_output(args)
    bucket, prefix = _prefix_of(args.uri)
    ctx.subject = uri.show(bucket, prefix)
    days = parse_days(args.days)
    client = ctx.client(*NEEDS_MGR)
    return jobs.follow(args, ctx, client, client.fmgr_setdeadline(bucket, prefix, days))


def cmd_zip(args: argparse.Namespace, ctx: Context) -> int:
    _no_output(args)
    dst_bucket, dst_key = uri.parse_object(args.zip)
    ctx.subject = uri.show(dst_bucket, dst_key)
    sources = [uri.split_uri(text) for text in args.sources]
    key_list = uri.parse_object(args.key_list) if getattr(args, "key_list", None) else None
    buckets = sorted({bucket for bucket, _key in sources} | ({key_list[0]} if key_list else set()))
    if len(buckets) != 1:
        raise InvalidArgument("the objects to zip must be of one bucket, got %s" % ", ".join(buckets))
    if any(not key for _bucket, key in sources):
        raise InvalidArgument("name objects or folders (wcs://BUCKET/dir/), not a whole bucket")
    client = ctx.client(*NEEDS_MGR)
    result = client.compress_objects(buckets[0], [key for _bucket, key in sources], dst_bucket, dst_key,
                                     key_list=key_list[1] if key_list else None)
    return jobs.follow(args, ctx, client, result)


def cmd_deletem3u8(args: argparse.Namespace, ctx: Context) -> int:
    _no_output(args)
    bucket, key = uri.parse_object(args.uri)
    ctx.subject = uri.show(bucket, key)
    client = ctx.client(*NEEDS_MGR)
    return jobs.follow(args, ctx, client, client.delete_m3u8(bucket, key, deletets=not args.keep_ts))
