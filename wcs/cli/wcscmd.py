"""``wcscmd``: the command-line tool for WCS, modelled on s3cmd like the official one.

Same commands, options, ``~/.wcscfg`` and invocations as the official ``wcscmd`` (options may come
before or after the command's arguments; ``--debug 1`` is accepted as well as ``--debug``), rebuilt
on :class:`wcs.services.client.Client`. :func:`main` is the only error boundary: commands raise, and
``main`` turns the exception into one ``wcscmd: error: ...`` line on stderr and an exit status from
:class:`wcs.cli.status.ExitStatus` (a traceback only with ``--debug``).

Output contract:

* stdout: exactly one JSON document per command (indented, UTF-8, non-ASCII kept), also when the
  service refused the call, so a script can always read what it said:

  - service calls (listbucket, stat, del, mv, cp, setdeadline, put, deletePrefix, fops,
    fopsStatus, fmgrStatus, bucketstat): ``{"code": <HTTP status, -1 = no answer>, "reqid":
    <X-Reqid or null>, "body": <decoded answer>}``;
  - multiput: the same plus ``"upload_id"``;
  - get: the same (``body`` = ``{"hash", "fsize", "path"}``) plus ``"file"`` and ``"size"``;
  - list / listall: ``{"code", "reqid", "file", "count", "marker"}``; the listing goes to RESFILE
    (list: the service's JSON answer; listall: a JSON array of item objects, one per line,
    streamed; for listall ``reqid`` is the X-Reqid of the last page fetched and ``marker`` is
    empty);
  - crc64: ``{"file", "crc64Value"}``.

  ``--dump-config`` prints the effective configuration in the ``.wcscfg`` format instead (the one
  place the secret key is shown); ``--configure`` prints nothing on stdout.
* stderr: notes (``upload id: ...``), warnings, progress bars (only on a terminal, not with
  ``--quiet``) and one line per error, plus for a failed multiput how to resume it. The secret key
  is masked in everything written. With ``isverify = False``, urllib3's two-line
  ``InsecureRequestWarning`` is replaced by one line per run, ``wcscmd: warning: TLS certificate
  verification is off (isverify = False)``, printed when the first unverified HTTPS request is made.
* Local files are all-or-nothing: RESFILE, the downloaded file and the config file are written to
  a temporary sibling and renamed into place on success.
"""

import argparse
import contextlib
import datetime
import json
import logging
import os
import re
import shlex
import sys
import threading
import traceback
import warnings
from typing import Any, Callable, Dict, Iterator, List, NamedTuple, NoReturn, Optional, Sequence, Tuple
from urllib.parse import unquote

from wcs import __version__
from wcs.cli import uri
from wcs.cli.context import NEEDS_MGR, NEEDS_PUT, NEEDS_STATUS, Context, MaskingFormatter, Override
from wcs.cli.files import atomic_output
from wcs.cli.status import EXIT_STATUS_HELP, ExitStatus, status_for
from wcs.commons.errors import InvalidArgument, LocalFileError, ServiceError

PROG = "wcscmd"
DESCRIPTION = ("Wcscmd is a tool for managing objects in WCS Object Storage. It allows for uploading, "
               "downloading and removing objects from buckets.")

OUTPUT_HELP = """\
Output:
  stdout  one JSON document per command: {"code": HTTP status (-1: no answer), "reqid": ...,
          "body": service answer} plus "upload_id" (multiput), "file"/"size" (get);
          list/listall write the listing to RESFILE as JSON and print
          {"code", "reqid", "file", "count", "marker"} (listall RESFILE: a JSON array of items)
  stderr  notes, progress bars (terminal only; --quiet silences) and one line per error"""


class UsageError(InvalidArgument):
    """A command line argparse rejects; carries the (sub)command's prog for the help hint."""

    def __init__(self, message: str, prog: str) -> None:
        super().__init__(message)
        self.prog = prog


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of printing usage and exiting, so ``main`` reports one line."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message, self.prog)


# -- options -----------------------------------------------------------------------------------

def _flag01(text: str) -> int:
    """Official 'bool type' options (--overwrite, --separate, --force): 1/0, also true/false."""
    word = text.strip().lower()
    if word in ("1", "true", "yes", "on"):
        return 1
    if word in ("0", "false", "no", "off"):
        return 0
    raise argparse.ArgumentTypeError("expected 1 or 0 (true/false), got %r" % text)


_SIZE_UNITS = {"": 1, "K": 1024, "KB": 1024, "KIB": 1024, "M": 1024 ** 2, "MB": 1024 ** 2, "MIB": 1024 ** 2,
               "G": 1024 ** 3, "GB": 1024 ** 3, "GIB": 1024 ** 3}


def _size(text: str) -> int:
    """Bytes, optionally with a binary unit: 4194304, 4M, 8MiB."""
    body = text.strip().upper()
    digits = body.rstrip("KMGIB")
    unit = body[len(digits):]
    if not digits.isdigit() or unit not in _SIZE_UNITS:
        raise argparse.ArgumentTypeError("expected a size in bytes such as 4194304, 4M or 8MiB, got %r" % text)
    return int(digits) * _SIZE_UNITS[unit]


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("expected a positive integer, got %r" % text) from None
    if value <= 0:
        raise argparse.ArgumentTypeError("expected a positive integer, got %d" % value)
    return value


def _date(text: str) -> str:
    try:
        datetime.datetime.strptime(text, "%Y-%m-%d")
    except ValueError:
        raise argparse.ArgumentTypeError("expected a date as YYYY-MM-DD, got %r" % text) from None
    return text


class Option(NamedTuple):
    flags: Tuple[str, ...]
    dest: str
    key: Optional[str]  # the Config key it overrides, or None for options only the CLI uses
    kwargs: Dict[str, Any]
    help: str


# Every option of the official tool (same spelling), then a few additions. Values reach the Config
# through its own validation, so `--limit 0` fails exactly like `limit = 0` in the file does.
OPTIONS: List[Option] = [
    Option(("--configure",), "configure", None, {"action": "store_true"},
           "Invoke interactive (re)configuration tool."),
    Option(("-c", "--config"), "config", None, {"metavar": "FILE"},
           "Config file name. Defaults to $HOME/.wcscfg"),
    Option(("--dump-config",), "dump_config", None, {"action": "store_true"},
           "Dump current configuration after parsing config file, environment and command line "
           "options and exit."),
    Option(("-s", "--ssl"), "ishttps", "ishttps", {"action": "store_const", "const": True},
           "Use https connection when communicating with WCS"),
    Option(("--upload-id",), "upload_id", "upload_id", {},
           "UploadId for Multipart Upload, in case you want continue an existing upload"),
    Option(("--limit",), "limit", "limit", {}, "Limit for list objects of bucket (1-1000)"),
    Option(("--prefix",), "prefix", "prefix", {}, "Prefix for list objects of bucket"),
    Option(("--mode",), "mode", "mode", {}, "Mode for list objects of bucket (0, 1; 3 = flat)"),
    Option(("--marker",), "marker", "marker", {}, "Start string for list"),
    Option(("--relevance",), "relevance", None, {"action": "store_true"},
           "Whether modify deadline relevant .ts when modify deadline of m3u8 file"),
    Option(("--debug",), "debug", None, {"action": "store_true"},
           "Enable debug output (logging and tracebacks on stderr)."),
    Option(("--output",), "output", "output", {},
           "Save request result to specified key, like:<bucket>:<key>"),
    Option(("--notify",), "notifyurl", "notifyurl", {"metavar": "NOTIFYURL"},
           "Notify url for request result"),
    Option(("--separate",), "separate", "separate", {"type": _flag01}, "Whether separate notify, bool type"),
    Option(("--force",), "force", "force", {"type": _flag01},
           "Whether to enforce data processing, bool type"),
    Option(("--overwrite",), "overwrite", "overwrite", {"type": _flag01},
           "Whether overwrite existed key, bool type"),
    Option(("--returnurl",), "returnurl", "returnUrl", {}, "Url for return"),
    Option(("--returnbody",), "returnbody", "returnBody", {}, "Body of return"),
    Option(("--callbackurl",), "callbackurl", "callbackUrl", {}, "Url for callback"),
    Option(("--callbackbody",), "callbackbody", "callbackBody", {}, "Body of callback"),
    Option(("--persistentntyurl",), "persistentntyurl", "persistentNotifyUrl", {},
           "Url for persistent ops notify"),
    Option(("--persistentops",), "persistentops", "persistentOps", {}, "Persistent ops"),
    Option(("--contentdetect",), "contentdetect", "contentDetect", {}, "Content detect type"),
    Option(("--detectntyurl",), "detectntyurl", "detectNotifyURL", {}, "Url for detect notify"),
    Option(("--detectntyrule",), "detectntyrule", "detectNotifyRule", {}, "Rule for detect notify"),
    Option(("--hashalgorithm",), "hashalgorithm", "hashAlgorithm", {},
           "Hash algorithm, currently supports 'crc64ecma' for calculating 64-bit CRC value."),
    Option(("--deadline",), "deadline", "deadline", {"type": _positive_int, "metavar": "SECONDS"},
           "Token expiration time, Unit is second"),
    Option(("--startdate",), "startdate", None, {"type": _date}, "Start date (YYYY-MM-DD)"),
    Option(("--enddate",), "enddate", None, {"type": _date}, "End date (YYYY-MM-DD)"),
    Option(("--islistdetails",), "islistdetails", None, {"choices": ("true", "false")},
           "Is list details (true/false)"),
    Option(("--storagetype",), "storagetype", None, {}, "storage type"),
    Option(("--traffic_limit",), "traffic_limit", "traffic_limit", {}, "Upload/Download traffic limit"),
    # Additions to the official set.
    Option(("-q", "--quiet"), "quiet", None, {"action": "store_true"},
           "No progress bars (errors and the multiput upload id are still shown)."),
    Option(("--block-size",), "block_size", "block_size", {"type": _size, "metavar": "SIZE"},
           "Multipart block size, a multiple of 4 MiB (e.g. 8M)"),
    Option(("--concurrency",), "concurrency", "concurrency", {"type": int, "metavar": "N"},
           "Parallel block uploads for multiput"),
    Option(("--put-url",), "put_url", "put_url", {"metavar": "URL"}, "Upload domain (overrides put_url)"),
    Option(("--mgr-url",), "mgr_url", "mgr_url", {"metavar": "URL"}, "Manager domain (overrides mgr_url)"),
]


def _common_options() -> argparse.ArgumentParser:
    # SUPPRESS as the default: an option given before the command must not be reset by the
    # subcommand parser, which would otherwise write its own defaults over it.
    common = _Parser(add_help=False, argument_default=argparse.SUPPRESS)
    for option in OPTIONS:
        common.add_argument(*option.flags, dest=option.dest, help=option.help, **option.kwargs)
    return common


# -- commands ----------------------------------------------------------------------------------

class Command(NamedTuple):
    name: str
    label: str  # the official one-line description
    params: str  # the official parameter synopsis
    func: Callable[[argparse.Namespace, Context], int]
    positionals: Tuple[Tuple[str, Dict[str, Any]], ...]


def _object_uri(text: str) -> Tuple[str, str]:
    return uri.parse_object(text)


def _local_file(path: str) -> int:
    """Size of a regular, readable local file; else a one-line LocalFileError."""
    if not os.path.exists(path):
        raise LocalFileError("%s: no such file" % path)
    if os.path.isdir(path):
        raise LocalFileError("%s: is a directory, not a file" % path)
    if not os.access(path, os.R_OK):
        raise LocalFileError("%s: permission denied" % path)
    return os.path.getsize(path)


def _key_for_upload(target: str, local: str) -> Tuple[str, str]:
    # As the official tool: `put wcs://bucket ./dir/file` stores the file under its own name.
    bucket, key = uri.parse_object(target, allow_empty_key=True)
    return bucket, key or os.path.basename(local)


def cmd_list(args: argparse.Namespace, ctx: Context) -> int:
    bucket = uri.parse_bucket(args.bucket)
    client = ctx.client(*NEEDS_MGR)
    cfg = ctx.config()
    result = client.bucket_list(bucket, prefix=cfg.prefix or None, marker=cfg.marker or None,
                                limit=cfg.limit, mode=cfg.mode)
    if not result.ok:
        return ctx.emit_result(result)
    with atomic_output(args.resfile) as stream:
        json.dump(result.body, stream, indent=2, ensure_ascii=False)
        stream.write("\n")
    body = result.body if isinstance(result.body, dict) else {}
    ctx.emit({"code": result.code, "reqid": result.reqid, "file": os.path.abspath(args.resfile),
              "count": len(body.get("items") or []), "marker": body.get("marker") or ""})
    return ExitStatus.SUCCESS


def cmd_listall(args: argparse.Namespace, ctx: Context) -> int:
    bucket = uri.parse_bucket(args.bucket)
    client = ctx.client(*NEEDS_MGR)
    cfg = ctx.config()
    count = 0
    # The items stream into RESFILE one per line of a JSON array: constant memory for any bucket
    # size, and the file is still one JSON document. It only replaces RESFILE once complete.
    # One encoder for every item: json.dumps with options builds a new JSONEncoder per call.
    # Lines are written a batch at a time (one write per 1,000 items rather than two per item).
    encode = json.JSONEncoder(ensure_ascii=False).encode
    batch: List[str] = []
    items = _listall_items(client, bucket, cfg)
    with atomic_output(args.resfile) as stream:
        stream.write("[")
        for item in items:
            batch.append(encode(item))
            if len(batch) == 1000:
                stream.write(("\n  " if not count else ",\n  ") + ",\n  ".join(batch))
                count += len(batch)
                batch = []
        if batch:
            stream.write(("\n  " if not count else ",\n  ") + ",\n  ".join(batch))
            count += len(batch)
        stream.write("\n]\n" if count else "]\n")
    # The whole listing took several requests; the last page's reqid is the one that ended it.
    ctx.emit({"code": 200, "reqid": getattr(items, "reqid", None), "file": os.path.abspath(args.resfile),
              "count": count, "marker": ""})
    return ExitStatus.SUCCESS


def _listall_items(client: Any, bucket: str, cfg: Any) -> Iterator[Dict[str, Any]]:
    kwargs: Dict[str, Any] = {"prefix": cfg.prefix or None, "mode": cfg.mode, "limit": cfg.limit}
    if cfg.marker:
        kwargs["marker"] = cfg.marker
    return client.iter_objects(bucket, **kwargs)


def cmd_listbucket(args: argparse.Namespace, ctx: Context) -> int:
    return ctx.emit_result(ctx.client(*NEEDS_MGR).list_buckets())


def default_filename(url: str) -> str:
    """The official rule for ``get URL`` without FILENAME.

    The URL is percent-decoded; with a query string the name is the whole path after the host
    (``http://h/a/b.txt?x=1`` -> ``a/b.txt``), without one it is the last path segment
    (``http://h/a/b.txt`` -> ``b.txt``).

    Raises:
        InvalidArgument: no usable name (URL ends with ``/``) or a name escaping the current
            directory (absolute, or with ``..``), which the official tool would happily write.
    """
    decoded = unquote(url)
    parts = decoded.split("?")
    if len(parts) >= 2:
        parts.pop(-1)
        name = "/".join("?".join(parts).split("/")[3:])
    else:
        name = decoded.split("/")[-1]
    return _safe_name(name, url)


def _safe_name(name: str, source: str) -> str:
    segments = name.split("/")
    if not name or not segments[-1] or os.path.isabs(name) or ".." in segments or "\0" in name:
        raise InvalidArgument("cannot derive a safe file name from %r; give FILENAME" % source)
    return name


def cmd_get(args: argparse.Namespace, ctx: Context) -> int:
    source = args.url
    expected_hash = None
    total = None
    if uri.is_wcs_uri(source):
        bucket, key = uri.parse_object(source)
        client = ctx.client(*NEEDS_MGR)
        # stat first: a missing object fails before any local file is touched, and its hash lets
        # the download be verified end to end.
        stat = client.stat(bucket, key)
        if not stat.ok:
            return ctx.emit_result(stat)
        if isinstance(stat.body, dict):
            expected_hash = stat.body.get("hash") or None
            total = _int_or_none(stat.body.get("fsize"))
        url = client.download_url(bucket, key)
        # Objects are named after the key's last segment, as a URL without query would be.
        name = args.filename or _safe_name(key.rsplit("/", 1)[-1], source)
    else:
        if not source.lower().startswith(("http://", "https://")):
            raise InvalidArgument("expected an http(s):// URL or wcs://BUCKET/KEY, got %r" % source)
        client = ctx.client()
        url = source
        name = args.filename or default_filename(source)
    if name.endswith(("/", os.sep)) or os.path.isdir(name):
        raise LocalFileError("%s: is a directory (give the file name to write)" % name)
    target = os.path.abspath(name)
    from wcs.cli.progress import open_progress

    # The official name rule may keep the URL's folders; folders made for a failed download go again.
    with _parent_dirs(target), \
            open_progress(total, os.path.basename(target), quiet=ctx.quiet, stream=ctx.stderr) as bar:
        result = client.download(url, target, progress=bar.callback, expected_hash=expected_hash)
    extra: Dict[str, Any] = {}
    if result.ok:
        extra = {"file": target, "size": result.body.get("fsize") if isinstance(result.body, dict) else None}
    return ctx.emit_result(result, **extra)


@contextlib.contextmanager
def _parent_dirs(target: str) -> Iterator[None]:
    """Create the missing folders above ``target``; remove them again unless ``target`` exists after."""
    created = []
    parent = os.path.dirname(target)
    while not os.path.isdir(parent):
        created.append(parent)
        parent = os.path.dirname(parent)
    try:
        os.makedirs(os.path.dirname(target), exist_ok=True)
    except OSError as exc:
        raise LocalFileError("cannot create %s: %s" % (os.path.dirname(target), exc.strerror or exc)) from None
    try:
        yield
    finally:
        if created and not os.path.exists(target):
            for folder in created:  # deepest first; only if still empty
                with contextlib.suppress(OSError):
                    os.rmdir(folder)


def _int_or_none(value: Any) -> Optional[int]:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def cmd_del(args: argparse.Namespace, ctx: Context) -> int:
    bucket, key = _object_uri(args.uri)
    return ctx.emit_result(ctx.client(*NEEDS_MGR).delete(bucket, key))


def _src_dst(args: argparse.Namespace) -> Tuple[str, str, str, str]:
    src_bucket, src_key = _object_uri(args.src)
    # An empty destination key keeps the source key (official behaviour).
    dst_bucket, dst_key = uri.parse_object(args.dst, allow_empty_key=True)
    return src_bucket, src_key, dst_bucket, dst_key


def cmd_mv(args: argparse.Namespace, ctx: Context) -> int:
    return ctx.emit_result(ctx.client(*NEEDS_MGR).move(*_src_dst(args)))


def cmd_cp(args: argparse.Namespace, ctx: Context) -> int:
    return ctx.emit_result(ctx.client(*NEEDS_MGR).copy(*_src_dst(args)))


def parse_days(text: str) -> int:
    """DAYS of setdeadline: an integer; ``-1`` and the documented shell-quoted ``'"-1"'`` both work."""
    value = text.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        value = value[1:-1].strip()
    try:
        days = int(value)
    except ValueError:
        raise InvalidArgument("DAYS must be an integer number of days (-1 = never expire), got %r"
                              % text) from None
    if days < -1:
        raise InvalidArgument("DAYS must be -1 (never expire), 0 or more, got %d" % days)
    return days


def cmd_setdeadline(args: argparse.Namespace, ctx: Context) -> int:
    bucket, key = _object_uri(args.uri)
    days = parse_days(args.days)
    client = ctx.client(*NEEDS_MGR)
    if getattr(args, "relevance", False):
        return ctx.emit_result(client.setdeadline(bucket, key, days, relevance=1))
    return ctx.emit_result(client.setdeadline(bucket, key, days))


def cmd_stat(args: argparse.Namespace, ctx: Context) -> int:
    bucket, key = _object_uri(args.uri)
    return ctx.emit_result(ctx.client(*NEEDS_MGR).stat(bucket, key))


def cmd_put(args: argparse.Namespace, ctx: Context) -> int:
    bucket, key = _key_for_upload(args.uri, args.localfile)
    size = _local_file(args.localfile)
    client = ctx.client(*NEEDS_PUT)
    from wcs.cli.progress import open_progress

    with open_progress(size, key, quiet=ctx.quiet, stream=ctx.stderr) as bar:
        result = client.simple_upload(args.localfile, bucket, key, progress=bar.callback)
    return ctx.emit_result(result)


def resume_argv(argv: Sequence[str], upload_id: str) -> List[str]:
    """``argv`` with any ``--upload-id`` (also ``--upload-id=X`` or an abbreviation argparse
    accepts) replaced by ``--upload-id <upload_id>``: every other option the user gave, such as
    ``--block-size`` or ``--put-url``, is what the resumed upload needs too."""
    kept: List[str] = []
    i = 0
    while i < len(argv) and argv[i] != "--":
        name, equals, _ = argv[i].partition("=")
        if name.startswith("--u") and "--upload-id".startswith(name):
            i += 1 if equals else 2
            continue
        kept.append(argv[i])
        i += 1
    # Before a `--`, after which it would be taken for a positional argument.
    return kept + ["--upload-id", upload_id] + list(argv[i:])


def _resume_hint(ctx: Context, upload_id: str) -> str:
    words = [PROG] + resume_argv(ctx.argv, upload_id)
    return "to resume the upload run: " + " ".join(shlex.quote(w) for w in words)


def cmd_multiput(args: argparse.Namespace, ctx: Context) -> int:
    bucket, key = _key_for_upload(args.uri, args.localfile)
    size = _local_file(args.localfile)
    client = ctx.client(*NEEDS_PUT)
    cfg = ctx.config()
    # Known before the first byte is sent, so even a killed run can be resumed.
    if cfg.upload_id:
        from wcs.services.resume import check_upload_id

        check_upload_id(cfg.upload_id)  # before it is printed as resumable
    upload_id = cfg.upload_id or client.new_upload_id()
    ctx.line("upload id: %s" % upload_id)
    ctx.hint = _resume_hint(ctx, upload_id)
    from wcs.cli.progress import open_progress

    with open_progress(size, key, quiet=ctx.quiet, stream=ctx.stderr) as bar:
        result = client.multipart_upload(args.localfile, bucket, key, upload_id=upload_id,
                                         progress=bar.callback)
    if result.ok:
        ctx.hint = None
    elif result.upload_id and result.upload_id != upload_id:
        ctx.hint = _resume_hint(ctx, result.upload_id)
    return ctx.emit_result(result, upload_id=result.upload_id or upload_id)


def cmd_deletePrefix(args: argparse.Namespace, ctx: Context) -> int:  # official command name
    from wcs.commons.util import urlsafe_base64_encode

    bucket = uri.parse_bucket(args.bucket)
    if not args.prefix:
        raise InvalidArgument("PREFIX must not be empty (it would delete the whole bucket)")
    fops = "bucket/%s/prefix/%s" % (urlsafe_base64_encode(bucket), urlsafe_base64_encode(args.prefix))
    return ctx.emit_result(ctx.client(*NEEDS_MGR).prefix_delete(fops))


def cmd_fops(args: argparse.Namespace, ctx: Context) -> int:
    bucket, key = _object_uri(args.uri)
    return ctx.emit_result(ctx.client(*NEEDS_MGR).ops_execute(args.fops, bucket, key))


def cmd_fopsStatus(args: argparse.Namespace, ctx: Context) -> int:  # official command name
    return ctx.emit_result(ctx.client(*NEEDS_STATUS).ops_status(args.persistent_id))


def cmd_fmgrStatus(args: argparse.Namespace, ctx: Context) -> int:  # official command name
    return ctx.emit_result(ctx.client(*NEEDS_STATUS).fmgr_status(args.persistent_id))


def cmd_crc64(args: argparse.Namespace, ctx: Context) -> int:
    from wcs.cli.crc64_cal import file_crc64  # the same computation as wcs_crc64_cal

    _local_file(args.file)
    ctx.emit({"file": args.file, "crc64Value": str(file_crc64(args.file))})
    return ExitStatus.SUCCESS


def cmd_bucketstat(args: argparse.Namespace, ctx: Context) -> int:
    names = args.buckets.strip()
    if not names or any(not name.strip() for name in names.split("|")):
        raise InvalidArgument("expected bucket names separated by '|', got %r" % args.buckets)
    today = datetime.date.today()
    # Official defaults: from yesterday to today.
    startdate = getattr(args, "startdate", None) or (today - datetime.timedelta(days=1)).isoformat()
    enddate = getattr(args, "enddate", None) or today.isoformat()
    if startdate > enddate:
        raise InvalidArgument("--startdate %s is after --enddate %s" % (startdate, enddate))
    kwargs: Dict[str, Any] = {}
    if getattr(args, "islistdetails", None):
        kwargs["isListDetails"] = args.islistdetails
    if getattr(args, "storagetype", None):
        kwargs["storageType"] = args.storagetype
    return ctx.emit_result(ctx.client(*NEEDS_MGR).bucket_stat(names, startdate, enddate, **kwargs))


_OBJ = ("uri", {"metavar": "wcs://BUCKET/OBJECT"})
COMMANDS: List[Command] = [
    Command("list", "List objects", "wcs://BUCKET RESFILE", cmd_list,
            (("bucket", {"metavar": "wcs://BUCKET"}), ("resfile", {"metavar": "RESFILE"}))),
    Command("listall", "List all files in the bucket.", "wcs://BUCKET RESFILE", cmd_listall,
            (("bucket", {"metavar": "wcs://BUCKET"}), ("resfile", {"metavar": "RESFILE"}))),
    Command("listbucket", "List buckets", "", cmd_listbucket, ()),
    Command("get", "Download file", "URL [FILENAME]", cmd_get,
            (("url", {"metavar": "URL"}), ("filename", {"metavar": "FILENAME", "nargs": "?"}))),
    Command("del", "Delete a file", "wcs://BUCKET/OBJECT", cmd_del, (_OBJ,)),
    Command("mv", "Move a file from src bucket to des bucket",
            "wcs://srcBUCKET/srcOBJECT wcs://dstBUCKET/desOBJECT", cmd_mv,
            (("src", {"metavar": "wcs://srcBUCKET/srcOBJECT"}), ("dst", {"metavar": "wcs://dstBUCKET/desOBJECT"}))),
    Command("cp", "Copy a file from src bucket to des bucket",
            "wcs://srcBUCKET/srcOBJECT wcs://dstBUCKET/desOBJECT", cmd_cp,
            (("src", {"metavar": "wcs://srcBUCKET/srcOBJECT"}), ("dst", {"metavar": "wcs://dstBUCKET/desOBJECT"}))),
    Command("setdeadline", "Set deadline of file", "wcs://BUCKET/OBJECT deadline", cmd_setdeadline,
            (_OBJ, ("days", {"metavar": "deadline"}))),
    Command("stat", "Get file info", "wcs://BUCKET/OBJECT", cmd_stat, (_OBJ,)),
    Command("put", "Upload a local file to WCS", "wcs://BUCKET/OBJECT LOCALFILE", cmd_put,
            (_OBJ, ("localfile", {"metavar": "LOCALFILE"}))),
    Command("multiput", "Multipart upload a local file to WCS", "wcs://BUCKET/OBJECT LOCALFILE", cmd_multiput,
            (_OBJ, ("localfile", {"metavar": "LOCALFILE"}))),
    Command("deletePrefix", "Delete multiple files according to prefix", "wcs://BUCKET PREFIX", cmd_deletePrefix,
            (("bucket", {"metavar": "wcs://BUCKET"}), ("prefix", {"metavar": "PREFIX"}))),
    Command("fops", "Fops audio/video processing", "wcs://BUCKET/OBJECT fopsparm", cmd_fops,
            (_OBJ, ("fops", {"metavar": "fopsparm"}))),
    Command("fopsStatus", "Get fops task results", "persistentId", cmd_fopsStatus,
            (("persistent_id", {"metavar": "persistentId"}),)),
    Command("fmgrStatus", "Get fmgrStatus task results", "persistentId", cmd_fmgrStatus,
            (("persistent_id", {"metavar": "persistentId"}),)),
    Command("crc64", "Calculating 64-bit CRC value", "filePath", cmd_crc64, (("file", {"metavar": "filePath"}),)),
    Command("bucketstat", "Get bucket storage", '"bucket1|bucket2|..."', cmd_bucketstat,
            (("buckets", {"metavar": '"bucket1|bucket2|..."'}),)),
]


def _commands_help() -> str:
    lines = ["Commands:"]
    for command in COMMANDS:
        lines.append("  %s" % command.label)
        lines.append("      %s %s %s" % (PROG, command.name, command.params))
    return "\n".join(line.rstrip() for line in lines)


def build_parser() -> argparse.ArgumentParser:
    """The whole command line: every official option, accepted before or after the arguments."""
    common = _common_options()
    epilog = "\n\n".join([_commands_help(), OUTPUT_HELP, EXIT_STATUS_HELP,
                          "For more information, visit WCS website: https://wcs.chinanetcenter.com/index"])
    parser = _Parser(prog=PROG, usage="%(prog)s [options] COMMAND [parameters]", description=DESCRIPTION,
                     epilog=epilog, parents=[common], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version="%(prog)s " + __version__)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser, help=argparse.SUPPRESS,
                               prog=PROG)
    for command in COMMANDS:
        usage = "%s %s %s [options]" % (PROG, command.name, command.params)
        sp = sub.add_parser(command.name, parents=[common], usage=usage.replace("  ", " "),
                            description=command.label, epilog=EXIT_STATUS_HELP,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
        for dest, kwargs in command.positionals:
            sp.add_argument(dest, **kwargs)
        sp.set_defaults(func=command.func)
    return parser


_DEBUG_VALUES = ("0", "1", "true", "false", "yes", "no", "on", "off")


def normalize_argv(argv: Sequence[str]) -> List[str]:
    """Accept the official ``--debug VALUE`` (optparse took a value) alongside the ``--debug`` flag."""
    out: List[str] = []
    i = 0
    while i < len(argv):
        word = argv[i]
        value = None
        if word == "--debug" and i + 1 < len(argv) and argv[i + 1].lower() in _DEBUG_VALUES:
            value = argv[i + 1].lower()
            i += 1
        elif word.startswith("--debug="):
            value = word.split("=", 1)[1].lower()
        if value is None:
            out.append(word)
        elif value in ("1", "true", "yes", "on"):
            out.append("--debug")
        elif value not in _DEBUG_VALUES:
            raise UsageError("argument --debug: expected 1/0 or true/false, got %r" % value, PROG)
        i += 1
    return out


def overrides_from(args: argparse.Namespace) -> List[Override]:
    """``(--option, config key, value)`` for each config option given on the command line."""
    found = []
    for option in OPTIONS:
        if option.key is not None and hasattr(args, option.dest):
            found.append((option.flags[-1], option.key, getattr(args, option.dest)))
    return found


# -- the error boundary ------------------------------------------------------------------------

_LOGGERS = ("wcs", "urllib3")


def _attach_logging(debug: bool, ctx: Context) -> Tuple[logging.Handler, Dict[str, int]]:
    """Library warnings always reach stderr (one masked line each); everything with ``--debug``."""
    handler = logging.StreamHandler(ctx.stderr)
    handler.setFormatter(MaskingFormatter(ctx.mask, PROG + (": %(levelname)s: %(name)s: %(message)s"
                                                            if debug else ": %(levelname)s: %(message)s")))
    handler.setLevel(logging.DEBUG if debug else logging.WARNING)
    levels = {}
    for name in _LOGGERS if debug else _LOGGERS[:1]:
        logger = logging.getLogger(name)
        logger.addHandler(handler)
        if debug:
            levels[name] = logger.level
            logger.setLevel(logging.DEBUG)
    return handler, levels


def _detach_logging(handler: logging.Handler, levels: Dict[str, int]) -> None:
    for name in _LOGGERS:
        logging.getLogger(name).removeHandler(handler)
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


UNVERIFIED_TLS_NOTE = "TLS certificate verification is off (isverify = False)"


@contextlib.contextmanager
def _unverified_tls_note(ctx: Context) -> Iterator[None]:
    """Turn urllib3's ``InsecureRequestWarning`` (two lines, repeated per host) into one note line.

    Only for the CLI's run: the library leaves warnings to the application. The category is
    recognised by name so that commands which never make a request do not import urllib3.
    """
    lock = threading.Lock()
    noted = []

    def show(message: Any, category: Any, filename: str, lineno: int, file: Any = None, line: Any = None) -> None:
        if category.__name__ == "InsecureRequestWarning" and category.__module__.startswith("urllib3"):
            with lock:  # block uploads warn from several threads
                if not noted:
                    noted.append(True)
                    ctx.line(UNVERIFIED_TLS_NOTE, "warning")
            return
        previous(message, category, filename, lineno, file, line)

    with warnings.catch_warnings():  # restores the filters and showwarning afterwards
        previous = warnings.showwarning
        warnings.showwarning = show
        # Reach show() even where the warning would be ignored or shown once per place.
        warnings.filterwarnings("always", message="Unverified HTTPS request")
        yield


def _run(args: argparse.Namespace, ctx: Context, parser: argparse.ArgumentParser) -> int:
    if getattr(args, "configure", False):
        from wcs.cli.configure import run_configure
        from wcs.commons.config import DEFAULT_PATH

        return run_configure(ctx.config_path or os.path.expanduser(DEFAULT_PATH), ctx.stdin, ctx.stderr)
    if getattr(args, "dump_config", False):
        ctx.config().dump_config(ctx.stdout)  # the one place the secret key is shown
        return ExitStatus.SUCCESS
    if getattr(args, "func", None) is None:
        parser.print_help(ctx.stderr)
        raise UsageError("no command given", PROG)
    return args.func(args, ctx)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run ``wcscmd`` with ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    stdout, stderr = sys.stdout, sys.stderr
    debug = "--debug" in argv or any(a.startswith("--debug=") and a[8:].lower() in ("1", "true", "yes", "on")
                                     for a in argv)
    ctx = Context(prog=PROG, config_path=None, overrides=(), quiet=False, stdout=stdout, stderr=stderr,
                  stdin=sys.stdin, environ=os.environ)
    logs = None
    try:
        parser = build_parser()
        try:
            args = parser.parse_args(normalize_argv(argv))
        except SystemExit as exc:  # --help / --version print and "exit"
            return int(exc.code or 0)
        debug = bool(getattr(args, "debug", False))
        ctx = Context(prog=PROG, config_path=getattr(args, "config", None), overrides=overrides_from(args),
                      quiet=bool(getattr(args, "quiet", False)), stdout=stdout, stderr=stderr,
                      stdin=sys.stdin, environ=os.environ, argv=argv)
        logs = _attach_logging(debug, ctx)
        with _unverified_tls_note(ctx):
            return int(_run(args, ctx, parser))
    except KeyboardInterrupt:
        ctx.line("interrupted", "error")
        if ctx.hint:
            ctx.line(ctx.hint)
        return ExitStatus.INTERRUPTED
    except Exception as exc:  # the one boundary: any failure -> one line + status
        status = status_for(exc)
        if isinstance(exc, ServiceError) and exc.result is not None and not ctx.emitted:
            from wcs.cli.context import result_document

            ctx.emit(result_document(exc.result))
        if debug:
            ctx.stderr.write(ctx.mask("".join(traceback.format_exception(type(exc), exc, exc.__traceback__))))
        ctx.line(_message(exc, status, ctx, debug), "error")
        if ctx.hint and status in _RESUMABLE:
            ctx.line(ctx.hint)
        return status
    finally:
        if logs is not None:
            _detach_logging(*logs)
        ctx.close()


# Failures after which running the same multiput again with --upload-id can succeed.
_RESUMABLE = (ExitStatus.SERVICE, ExitStatus.NETWORK, ExitStatus.INTEGRITY, ExitStatus.ERROR)

_CONNECT_HOST_RE = re.compile(r"host='([^']*)', port=(\d+)")
_CONNECT_REASON_RE = re.compile(r"(\[Errno -?\d+\] [^'\")]*|Failed to resolve '[^']*'|timed out|Read timed out)")


def network_message(text: str) -> str:
    """``cannot reach HOST:PORT: REASON`` out of a urllib3/requests error text, else the text.

    The full chain (``HTTPConnectionPool(...): Max retries exceeded ... NewConnectionError(...)``) is
    kept for ``--debug`` and in the JSON body; a person needs the host and the reason.
    """
    host = _CONNECT_HOST_RE.search(text)
    reason = _CONNECT_REASON_RE.search(text)
    if not (host and reason):
        return text
    return "cannot reach %s:%s: %s" % (host.group(1), host.group(2), reason.group(1).strip())


def _message(exc: BaseException, status: ExitStatus, ctx: Context, debug: bool) -> str:
    text = str(exc) or type(exc).__name__
    if isinstance(exc, UsageError):
        return "%s (see '%s --help')" % (text, exc.prog)
    if status == ExitStatus.CONFIG:
        return "%s; %s" % (text, ctx.configure_hint())
    if status == ExitStatus.NETWORK and not debug:
        return network_message(text)
    if status == ExitStatus.LOCAL_FILE and isinstance(exc, OSError) and exc.filename \
            and not isinstance(exc, LocalFileError):
        return "%s: %s" % (exc.filename, exc.strerror or text)
    if status == ExitStatus.ERROR and not isinstance(exc, ServiceError):
        return "unexpected %s: %s%s" % (type(exc).__name__, text,
                                        "" if debug else " (run with --debug for details)")
    return text


if __name__ == "__main__":
    sys.exit(main())
