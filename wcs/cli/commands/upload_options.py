"""What ``--mime-type``, ``--no-guess-mime-type`` and ``--no-clobber`` mean for ``put`` and ``multiput``.

The content type is ``--mime-type`` when given; otherwise it is guessed from the extension of the
object's key (what the object will be served as) with Python's own table, so the answer is the same
on every machine whatever ``/etc/mime.types`` says; ``--no-guess-mime-type`` sends none, so the
service decides, as with the official tool.
``--no-clobber`` asks ``stat`` before anything is read or sent: an existing key is skipped, said on
stderr, and the command succeeds with the stat's answer plus ``"skipped": "exists"``.
"""

import argparse
import functools
import mimetypes
import os
from typing import Any, Optional

from wcs.cli import uri
from wcs.cli.argtypes import UsageError
from wcs.cli.context import Context, result_document
from wcs.cli.status import ExitStatus

# A compressed file's type is the compressor's: a .tar.gz is stored as gzip data, not as a tar.
_ENCODED = {"gzip": "application/gzip", "bzip2": "application/x-bzip2", "xz": "application/x-xz",
            "compress": "application/x-compress", "br": "application/x-brotli"}


@functools.lru_cache(maxsize=None)
def _table() -> mimetypes.MimeTypes:
    """Built-in defaults only (a fresh instance reads no system files), built when first asked: a command
    that guesses no type (``sync``...) does not pay for it."""
    return mimetypes.MimeTypes()


def guess_mime_type(name: str) -> Optional[str]:
    """The content type for a file called ``name``, from its extension; None when unknown."""
    kind, encoding = _table().guess_type(os.path.basename(name), strict=False)
    if encoding:
        return _ENCODED.get(encoding, "application/octet-stream")
    return kind


def mime_type(args: argparse.Namespace, name: str) -> Optional[str]:
    """The ``mime_type=`` of an upload to the key ``name``: what the object will be served as."""
    given = getattr(args, "mime_type", None)
    if given is not None:
        if not given.strip() or "\n" in given or "\r" in given:
            raise UsageError("--mime-type: expected a content type such as text/html, got %r" % given,
                             "wcscmd %s" % args.command)
        return given.strip()
    if getattr(args, "no_guess_mime_type", False):
        return None
    return guess_mime_type(name)


def check_no_clobber(args: argparse.Namespace) -> bool:
    """Whether ``--no-clobber`` was given (refused beside ``--overwrite 1``, which says the opposite)."""
    if not getattr(args, "no_clobber", False):
        return False
    if getattr(args, "overwrite", 0):
        raise UsageError("--no-clobber and --overwrite 1 contradict each other: give one",
                         "wcscmd %s" % args.command)
    return True


def skip_existing(args: argparse.Namespace, ctx: Context, client: Any, bucket: str, key: str) -> Optional[int]:
    """With ``--no-clobber`` and an existing object: say so, print the stat's answer and return SUCCESS.

    None when the upload should go ahead: no ``--no-clobber``, the object is missing, or ``stat``
    could not tell (the upload then reports its own answer).
    """
    if not check_no_clobber(args):
        return None
    stat = client.stat(bucket, key)
    if stat.code != 200:
        return None
    ctx.line("%s exists: not uploaded (--no-clobber)" % uri.show(bucket, key), "note")
    ctx.emit(result_document(stat, skipped="exists"))
    return ExitStatus.SUCCESS
