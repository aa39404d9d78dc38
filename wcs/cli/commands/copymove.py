"""``cp`` and ``mv``: SOURCE then DESTINATION, in every direction (folders with ``-r``: :mod:`.trees`).

* ``wcs://`` to ``wcs://``: the official commands, copied or moved by the service (no data through
  the client), then checked: the destination must carry the source's etag;
* a local file to ``wcs://``: uploaded (blocks from 8 MiB on, resumable as ``multiput``), verified;
* ``wcs://`` to a local file or folder: the verified download;
* ``-`` reads stdin (``cp - wcs://b/k``) or writes stdout (``cp wcs://b/k -``, as ``cat``).

The destination is named as aws and rclone name it: ``wcs://b/dir/`` (a trailing ``/``) and
``wcs://b`` take the source's name (for ``wcs://`` to ``wcs://`` an empty key keeps the source key,
as the official tool); a local folder receives the object under its key's last segment.

One overwrite rule (:mod:`wcs.services.placement`): an existing destination is replaced, said on
stderr ("replaced") and in the document (``"replaced": true``); ``--no-clobber`` leaves it and says
so (``"action": "skipped"``). ``mv`` removes its source only once the copy is verified.
"""

import argparse
import os
from typing import Any

from wcs.cli import printing, uri
from wcs.cli.argtypes import UsageError
from wcs.cli.commands import downloads, upload_options, uploads
from wcs.cli.context import NEEDS_MGR, NEEDS_PUT, Context, result_document
from wcs.cli.status import ExitStatus
from wcs.commons.errors import InvalidArgument
from wcs.commons.util import check_object_key

STDIO = "-"
MULTIPART_THRESHOLD = 8 * 1024 * 1024  # as folder uploads: smaller files go in one form upload


def _command(move: bool) -> str:
    return "wcscmd " + ("mv" if move else "cp")


def cmd_cp(args: argparse.Namespace, ctx: Context) -> int:
    return run(args, ctx, move=False)


def cmd_mv(args: argparse.Namespace, ctx: Context) -> int:
    return run(args, ctx, move=True)


def run(args: argparse.Namespace, ctx: Context, *, move: bool) -> int:
    src, dst = args.src, args.dst
    if getattr(args, "recursive", False):
        from wcs.cli.commands import trees

        return trees.cmd_copy_tree(args, ctx, move=move)
    src_remote, dst_remote = uri.is_wcs_uri(src), uri.is_wcs_uri(dst)
    if not src_remote and not dst_remote:
        raise UsageError("one of SOURCE and DEST must be wcs://BUCKET/KEY (for local copies use your shell's "
                         "cp/mv)", _command(move))
    if src_remote and dst_remote:
        return _between_buckets(args, ctx, move)
    if dst_remote:
        return _upload(args, ctx, move)
    return _download(args, ctx, move)


def _named_key(key: str, source_name: str) -> str:
    """The destination key: ``dir/`` and an empty key take the source's name (aws and rclone)."""
    if not key or key.endswith("/"):
        return key + source_name
    return key


def _emit(ctx: Context, placed: Any) -> int:
    """Print a :class:`~wcs.services.placement.Placement`'s document."""
    return _emit_fields(ctx, placed.source, placed.destination, placed.action, placed.replaced, placed.result)


def _emit_fields(ctx: Context, source: str, destination: str, action: str, replaced: bool, result: Any) -> int:
    """Print the document of one cp or mv; a refused call raises for the error boundary."""
    if action == "skipped":
        printing.note(ctx, "%s exists: not replaced (--no-clobber)" % destination)
    elif replaced:
        printing.note(ctx, "replaced %s" % destination)
    ctx.emit(result_document(result, source=source, destination=destination, action=action, replaced=replaced))
    if action == "failed":
        result.raise_for_status()
    return ExitStatus.SUCCESS


def _between_buckets(args: argparse.Namespace, ctx: Context, move: bool) -> int:
    src_bucket, src_key = uri.parse_object(args.src)
    dst_bucket, dst_key = uri.parse_object(args.dst, allow_empty_key=True)
    # The official rule: wcs://b (no key) keeps the source key; a trailing "/" names a folder.
    dst_key = dst_key + src_key.rsplit("/", 1)[-1] if dst_key.endswith("/") else dst_key or src_key
    ctx.subject = "%s -> %s" % (uri.show(src_bucket, src_key), uri.show(dst_bucket, dst_key))
    client = ctx.client(*NEEDS_MGR)
    no_clobber = bool(getattr(args, "no_clobber", False))
    call = client.move_object if move else client.copy_object
    return _emit(ctx, call(src_bucket, src_key, dst_bucket, dst_key, no_clobber=no_clobber))


def _upload(args: argparse.Namespace, ctx: Context, move: bool) -> int:
    bucket, key = uri.parse_object(args.dst, allow_empty_key=True)
    local = args.src
    if local == STDIO:
        if move:
            raise UsageError("mv needs a file to remove: use cp - wcs://BUCKET/KEY for stdin", _command(move))
        if not key or key.endswith("/"):
            raise InvalidArgument("give the object key (wcs://%s/KEY) to upload from stdin" % bucket)
    else:
        uploads.local_file(local)  # one clear error for a missing file or a folder
        key = _named_key(key, os.path.basename(os.path.normpath(local)))
    key = check_object_key(key)
    ctx.subject = uri.show(bucket, key)
    client = ctx.client(*NEEDS_PUT, "mgr_url")  # stat: replaced or not, --no-clobber
    no_clobber = bool(getattr(args, "no_clobber", False))
    mime = upload_options.mime_type(args, key)
    from wcs.cli.progress import open_progress

    if local == STDIO:
        return _upload_stdin(ctx, client, bucket, key, no_clobber, mime)
    with open_progress(os.path.getsize(local), key, quiet=ctx.quiet, stream=ctx.stderr, ctx=ctx) as bar:
        placed = client.put_object(local, bucket, key, move=move, no_clobber=no_clobber, mime_type=mime,
                                   multipart_threshold=MULTIPART_THRESHOLD, subscribers=bar.subscribers())
    return _emit(ctx, placed)


def _upload_stdin(ctx: Context, client: Any, bucket: str, key: str, no_clobber: bool, mime: Any) -> int:
    from wcs.cli.progress import open_progress

    destination = uri.show(bucket, key)
    stat = client.stat(bucket, key)
    exists = stat.code == 200
    if exists and no_clobber:  # before a byte is read: what is read of a pipe is gone
        return _emit_fields(ctx, STDIO, destination, "skipped", False, stat)
    stream = getattr(ctx.stdin, "buffer", ctx.stdin)
    with open_progress(None, key, quiet=ctx.quiet, stream=ctx.stderr, ctx=ctx) as bar:
        result = client.upload_fileobj(stream, bucket, key, progress=bar.callback, mime_type=mime,
                                       overwrite=0 if no_clobber else 1)
    return _emit_fields(ctx, STDIO, destination, "uploaded" if result.ok else "failed", exists and result.ok, result)


def _download(args: argparse.Namespace, ctx: Context, move: bool) -> int:
    bucket, key = uri.parse_object(args.src)
    source = uri.show(bucket, key)
    ctx.subject = source
    target_arg = args.dst
    if target_arg == STDIO:
        if move:
            raise UsageError("mv cannot write to stdout: use cp wcs://BUCKET/KEY - (or cat)", _command(move))
        return downloads.to_stdout(source, ctx)
    name = downloads.safe_name(key.rsplit("/", 1)[-1], source)
    if target_arg.endswith(("/", os.sep)) and not os.path.isdir(target_arg):
        target = os.path.abspath(os.path.join(target_arg, name))  # a folder to make, as aws does
    else:
        target = downloads.target_path(target_arg, name)
    client = ctx.client(*NEEDS_MGR)
    client.download_url(bucket, key)  # no download domain: a config error before any request
    no_clobber = bool(getattr(args, "no_clobber", False))
    from wcs.cli.progress import open_progress

    with downloads.parent_dirs(target), \
            open_progress(None, os.path.basename(target), quiet=ctx.quiet, stream=ctx.stderr, ctx=ctx) as bar:
        placed = client.get_object(bucket, key, target, move=move, no_clobber=no_clobber,
                                   subscribers=bar.subscribers())
    return _emit(ctx, placed)

