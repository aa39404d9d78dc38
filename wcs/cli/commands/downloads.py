"""Commands that bring objects to local files or stdout: ``get`` (one object or URL) and ``cat``; and what
``cp`` and ``get -r`` share with them (the file name a URL gives, the target path, stdout).

A download is written all-or-nothing by the client, into folders this module creates and removes again
if the download failed. ``get URL -`` and ``get URL /dev/stdout`` (the command's own stdout, however
it is named) stream the object to stdout: the bytes are the output, written where stdout is (a pipe,
or appended to a file opened with ``>>``).
"""

import argparse
import contextlib
import os
from typing import Any, Dict, Iterator, Optional
from urllib.parse import unquote

from wcs.cli import uri
from wcs.cli.context import NEEDS_MGR, Context
from wcs.cli.files import names_stdout
from wcs.cli.status import ExitStatus
from wcs.commons.errors import InvalidArgument, LocalFileError


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
    return safe_name(name, url)


def safe_name(name: str, source: str) -> str:
    """``name`` if it is a file name that stays in the current directory; else InvalidArgument (give FILENAME)."""
    segments = name.split("/")
    if not name or not segments[-1] or os.path.isabs(name) or ".." in segments or "\0" in name:
        raise InvalidArgument("cannot derive a safe file name from %r; give FILENAME" % source)
    return name


def cmd_get(args: argparse.Namespace, ctx: Context) -> int:
    source = args.url
    ctx.subject = source
    if args.filename == "-" or (args.filename and names_stdout(args.filename, ctx.stdout)):
        return to_stdout(source, ctx)
    if uri.is_wcs_uri(source):
        bucket, key = uri.parse_object(source)
        client = ctx.client(*NEEDS_MGR)
        client.download_url(bucket, key)  # no download domain: a config error before any request
        # Objects are named after the key's last segment, as a URL without query would be.
        name = safe_name(key.rsplit("/", 1)[-1], source)
    else:
        _check_http(source)
        client = ctx.client()
        name = default_filename(source)
    target = target_path(args.filename, name)
    from wcs.cli.progress import open_progress

    # The official name rule may keep the URL's folders; folders made for a failed download go again.
    with parent_dirs(target), \
            open_progress(None, os.path.basename(target), quiet=ctx.quiet, stream=ctx.stderr, ctx=ctx) as bar:
        if uri.is_wcs_uri(source):
            # stat first (inside download_file): a missing object fails before any local file is
            # touched, and its size and hash choose the method and verify the bytes end to end.
            result = client.download_file(bucket, key, target, subscribers=bar.subscribers())
        else:
            result = client.download(source, target, subscribers=bar.subscribers())
    extra: Dict[str, Any] = {}
    if result.ok:
        extra = {"file": target, "size": result.body.get("fsize") if isinstance(result.body, dict) else None}
    return ctx.emit_result(result, **extra)


def cmd_cat(args: argparse.Namespace, ctx: Context) -> int:
    uri.parse_object(args.uri)
    return to_stdout(args.uri, ctx)


def _check_http(source: str) -> None:
    if not source.lower().startswith(("http://", "https://")):
        raise InvalidArgument("expected an http(s):// URL or wcs://BUCKET/KEY, got %r" % source)


def target_path(filename: Optional[str], name: str) -> str:
    """Where ``get`` writes: FILENAME, or the default name inside FILENAME when it is a directory (as ``cp``)."""
    if not filename:
        return os.path.abspath(name)
    if filename.endswith(("/", os.sep)) or os.path.isdir(filename):
        if not os.path.isdir(filename):
            raise LocalFileError("%s: no such directory" % filename)
        return os.path.abspath(os.path.join(filename, os.path.basename(name)))
    return os.path.abspath(filename)


def to_stdout(source: str, ctx: Context) -> int:
    """Stream an object to stdout (the data is the output: no JSON document); progress on stderr."""
    out = getattr(ctx.stdout, "buffer", None)
    if out is None:
        raise LocalFileError("stdout cannot take binary data")
    ctx.stdout.flush()
    ctx.emitted = True  # stdout holds the object: no JSON document, failures get their one stderr line
    from wcs.cli.progress import open_progress

    # No bar over the data when both go to one terminal; piped, the bar shows on a terminal's stderr.
    with open_progress(None, "stdout", quiet=ctx.quiet or _isatty(ctx.stdout), stream=ctx.stderr, ctx=ctx) as bar:
        if uri.is_wcs_uri(source):
            bucket, key = uri.parse_object(source)
            client = ctx.client(*NEEDS_MGR)
            client.download_url(bucket, key)
            if bar.callback is not None:
                bar.set_total(_size_of(client, bucket, key))
            result = client.download_fileobj(bucket, key, out, subscribers=bar.subscribers())
        else:
            _check_http(source)
            result = ctx.client().download_stream(source, out, subscribers=bar.subscribers())
    out.flush()
    result.raise_for_status()
    return ExitStatus.SUCCESS


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


def _size_of(client: Any, bucket: str, key: str) -> Optional[int]:
    """The object's size for the bar's total (None when stat cannot tell: the download reports its own)."""
    stat = client.stat(bucket, key)
    return _int_or_none(stat.body.get("fsize")) if stat.ok and isinstance(stat.body, dict) else None


@contextlib.contextmanager
def parent_dirs(target: str) -> Iterator[None]:
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
