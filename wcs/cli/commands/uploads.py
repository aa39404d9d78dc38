"""Commands that send local files to WCS: ``put`` and ``multiput``; and ``crc64`` of a local file.

Local files are checked before the first request (one clear error instead of a failed upload). A
multiput prints its upload id before it starts and leaves, through ``ctx.hint``, the exact command
that resumes it. LOCALFILE ``-`` (stdin), a pipe or a device is read to its end and uploaded as it
comes (``Client.upload_fileobj``), never taken for an empty file; such an upload cannot be resumed.
"""

import argparse
import contextlib
import os
import shlex
from stat import S_ISCHR, S_ISFIFO, S_ISREG
from typing import Any, Iterator, List, Optional, Sequence, Tuple

from wcs.cli import uri
from wcs.cli.commands import upload_options
from wcs.cli.context import NEEDS_PUT, Context, result_document
from wcs.cli.status import ExitStatus
from wcs.commons.config import POLICY_KEYS, TRANSFER_KEYS
from wcs.commons.errors import InvalidArgument, LocalFileError, ResumeError
from wcs.commons.util import check_object_key


def local_file(path: str) -> int:
    """Size of a regular, readable local file; else a one-line LocalFileError."""
    if not os.path.exists(path):
        raise LocalFileError("%s: no such file" % path)
    if os.path.isdir(path):
        raise LocalFileError("%s: is a directory, not a file" % path)
    if not os.access(path, os.R_OK):
        raise LocalFileError("%s: permission denied" % path)
    return os.path.getsize(path)


STDIN = "-"


def _upload_source(path: str) -> Optional[int]:
    """The size of a regular, readable LOCALFILE; None for a stream, read to its end: ``-`` (stdin), a
    pipe (``/dev/stdin`` of a pipe, ``<(...)``, a FIFO) or a character device.

    Raises:
        LocalFileError: missing, a directory, unreadable, or a socket.
    """
    if path == STDIN:
        return None
    size = local_file(path)
    mode = os.stat(path).st_mode
    if S_ISREG(mode):
        return size
    if S_ISFIFO(mode) or S_ISCHR(mode):
        return None  # its st_size is 0 whatever it holds: never upload that as an empty object
    raise LocalFileError("%s: not a regular file, a pipe or a device" % path)


def _key_for_upload(target: str, local: str) -> Tuple[str, str]:
    # As the official tool: `put wcs://bucket ./dir/file` stores the file under its own name.
    bucket, key = uri.parse_object(target, allow_empty_key=True)
    if not key and local == STDIN:
        raise InvalidArgument("give the object key (wcs://%s/KEY) to upload from stdin" % bucket)
    # Refused here, before an upload id is printed; existing objects under such keys stay reachable
    # by stat, delete and the other commands.
    return bucket, check_object_key(key or os.path.basename(local))


@contextlib.contextmanager
def _open_stream(path: str, ctx: Context) -> Iterator[Any]:
    if path == STDIN:
        yield getattr(ctx.stdin, "buffer", ctx.stdin)  # the bytes; left open, it is the process's
        return
    try:
        fp = open(path, "rb")
    except OSError as exc:
        raise LocalFileError("%s: %s" % (path, exc.strerror or exc)) from None
    with fp:
        yield fp


def _put_stream(args: argparse.Namespace, ctx: Context, bucket: str, key: str) -> int:
    """put/multiput of a stream: blocks sent as they fill (one form upload if it is short); not resumable."""
    if ctx.config().upload_id:
        raise InvalidArgument("--upload-id: an upload from a stream (%s) cannot be resumed; give a regular file"
                              % args.localfile)
    client = ctx.client(*NEEDS_PUT)
    # Before a byte is read: what a refused upload consumed of a pipe is gone.
    skipped = upload_options.skip_existing(args, ctx, client, bucket, key)
    if skipped is not None:
        return skipped
    _refuse_existing(ctx, client, bucket, key)
    from wcs.cli.progress import open_progress

    with _open_stream(args.localfile, ctx) as fp, \
            open_progress(None, key, quiet=ctx.quiet, stream=ctx.stderr, ctx=ctx) as bar:
        result = client.upload_fileobj(fp, bucket, key, progress=bar.callback,
                                       mime_type=upload_options.mime_type(args, key))
    if result.code == 406:
        ctx.advice = OVERWRITE_ADVICE
    return ctx.emit_result(result)


def _upload_start(args: argparse.Namespace, ctx: Context) -> Tuple[str, str, Optional[int]]:
    """Bucket, key (named in error lines) and the size of LOCALFILE (None: a stream to read to its end)."""
    bucket, key = _key_for_upload(args.uri, args.localfile)
    ctx.subject = uri.show(bucket, key)
    return bucket, key, _upload_source(args.localfile)


def cmd_put(args: argparse.Namespace, ctx: Context) -> int:
    bucket, key, size = _upload_start(args, ctx)
    if size is None:
        return _put_stream(args, ctx, bucket, key)
    client = ctx.client(*NEEDS_PUT)
    skipped = upload_options.skip_existing(args, ctx, client, bucket, key)
    if skipped is not None:
        return skipped
    from wcs.cli.progress import open_progress

    with open_progress(size, key, quiet=ctx.quiet, stream=ctx.stderr, ctx=ctx) as bar:
        result = client.simple_upload(args.localfile, bucket, key, progress=bar.callback,
                                      mime_type=upload_options.mime_type(args, key))
    if result.code == 406:
        ctx.advice = OVERWRITE_ADVICE
    return ctx.emit_result(result)


OVERWRITE_ADVICE = "the object exists: add --overwrite 1 to replace it"

# The shortest abbreviation argparse accepts for each option a resume command replaces.
_ABBREVIATED = {"--upload-id": "--u", "--overwrite": "--ov"}


def _without_option(argv: Sequence[str], option: str) -> Tuple[List[str], List[str]]:
    """``argv`` without ``option`` (also ``--option=X`` or an abbreviation argparse accepts), split
    at a ``--`` (after which everything is a positional argument): ``(before, from_the_dashes)``."""
    kept: List[str] = []
    shortest = _ABBREVIATED[option]
    i = 0
    while i < len(argv) and argv[i] != "--":
        name, equals, _ = argv[i].partition("=")
        if name.startswith(shortest) and option.startswith(name):
            i += 1 if equals else 2
            continue
        kept.append(argv[i])
        i += 1
    return kept, list(argv[i:])


def resume_argv(argv: Sequence[str], upload_id: str, *, overwrite: bool = False) -> List[str]:
    """``argv`` with any ``--upload-id`` (also ``--upload-id=X`` or an abbreviation argparse
    accepts) replaced by ``--upload-id <upload_id>``: every other option the user gave, such as
    ``--block-size`` or ``--put-url``, is what the resumed upload needs too.

    Args:
        overwrite: also replace any ``--overwrite`` by ``--overwrite 1`` (the object exists).
    """
    kept, rest = _without_option(argv, "--upload-id")
    extra = ["--upload-id", upload_id]
    if overwrite:
        kept, _ = _without_option(kept, "--overwrite")
        extra = ["--overwrite", "1"] + extra
    # Before a `--`, after which it would be taken for a positional argument.
    return kept + extra + rest


def _resume_hint(ctx: Context, upload_id: str, *, overwrite: bool = False) -> str:
    words = [ctx.prog] + resume_argv(ctx.argv, upload_id, overwrite=overwrite)
    command = " ".join(shlex.quote(w) for w in words)
    if overwrite:
        return "the object exists: to replace it with this upload run: " + command
    return "to resume the upload run: " + command


def _has_record(client: Any, upload_id: str) -> bool:
    try:
        return client.resume_record(upload_id) is not None
    except ResumeError:
        return True  # unreadable: the upload itself refuses it, after printing the upload id


def _refuse_existing(ctx: Context, client: Any, bucket: str, key: str) -> None:
    """With ``overwrite = 0`` the service refuses mkfile onto an existing key, but only after every
    block was sent: ask ``stat`` first and refuse as it would, before any block.

    Not for a resume: its object may be this very upload, assembled by an mkfile whose answer was
    lost, which the upload itself recognises (same size and etag) and reports as done.

    Raises:
        ServiceError: the object exists (a 406 ``File Already Exist``, the reqid that of the stat).
    """
    cfg = ctx.config()
    if cfg.overwrite or not cfg.mgr_url or not cfg.credentials.complete:
        return  # a replace is allowed, or stat is not possible: mkfile decides
    if cfg.upload_id and _has_record(client, cfg.upload_id):
        return
    stat = client.stat(bucket, key)
    if stat.code != 200:
        return  # 404: go ahead; any other failure: the upload reports its own
    from wcs.commons.result import Result

    ctx.advice = OVERWRITE_ADVICE
    refused = Result(406, {"code": 406, "message": "File Already Exist"}, stat.headers, text=stat.text)
    ctx.emit(result_document(refused, checked_by="stat"))
    refused.raise_for_status()


class _ResumeNote:
    """Says how much of a resumed upload is already stored (a subscriber with only that hook)."""

    def __init__(self, ctx: Context, bar: Any) -> None:
        self.ctx = ctx
        self.bar = bar

    def on_resumed(self, transfer: Any, blocks_done: int, blocks_total: int) -> None:
        self.bar.on_resumed(transfer, blocks_done, blocks_total)  # the stored blocks are not speed
        if blocks_done:  # like the upload id, said even with --quiet: it is the state of the upload
            self.ctx.line("resuming: %d of %d blocks already uploaded" % (blocks_done, blocks_total))


def cmd_multiput(args: argparse.Namespace, ctx: Context) -> int:
    args.uri, args.localfile = uri.remote_and_local(args.uri, args.localfile)  # source first works too
    bucket, key, size = _upload_start(args, ctx)
    if size is None:
        return _put_stream(args, ctx, bucket, key)
    client = ctx.client(*NEEDS_PUT)
    cfg = ctx.config().require(*POLICY_KEYS, *TRANSFER_KEYS)  # a bad setting fails before an id is shown
    if cfg.upload_id:
        client.check_upload_id(cfg.upload_id)  # before it is printed as resumable
    skipped = upload_options.skip_existing(args, ctx, client, bucket, key)
    if skipped is not None:
        return skipped
    _refuse_existing(ctx, client, bucket, key)
    # Known before the first byte is sent, so even a killed run can be resumed.
    upload_id = cfg.upload_id or client.new_upload_id()
    ctx.line("upload id: %s" % upload_id)
    if cfg.upload_id and not _has_record(client, upload_id):
        ctx.line("no record for upload id %s in %s: starting a new upload"
                 % (upload_id, cfg.tmp_record_folder), "note")
    ctx.hint = _resume_hint(ctx, upload_id)
    from wcs.cli.progress import open_progress

    with open_progress(size, key, quiet=ctx.quiet, stream=ctx.stderr, ctx=ctx) as bar:
        result = client.multipart_upload(args.localfile, bucket, key, upload_id=upload_id,
                                         progress=bar.callback, subscribers=[_ResumeNote(ctx, bar)],
                                         mime_type=upload_options.mime_type(args, key))
    if result.ok:
        ctx.hint = None
    elif result.code == 406:
        # The blocks are kept: the same upload with --overwrite 1 replaces the object that appeared.
        ctx.hint = _resume_hint(ctx, result.upload_id or upload_id, overwrite=True)
    elif result.upload_id and result.upload_id != upload_id:
        ctx.hint = _resume_hint(ctx, result.upload_id)
    return ctx.emit_result(result, upload_id=result.upload_id or upload_id)


def cmd_crc64(args: argparse.Namespace, ctx: Context) -> int:
    from wcs.commons.util import file_crc64_int  # the same computation as wcs_crc64_cal

    local_file(args.file)
    ctx.emit({"file": args.file, "crc64Value": str(file_crc64_int(args.file))})
    return ExitStatus.SUCCESS
