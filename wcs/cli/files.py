"""Local output files written all-or-nothing: a temporary sibling, renamed over the target on success.

A command that fails half-way (network drop during ``listall``, Ctrl-C during ``--configure``)
therefore never leaves a truncated file under the name the user asked for, and an existing file is
only replaced by a complete new one.
"""

import contextlib
import os
import secrets
from typing import IO, Iterator

from wcs.commons.errors import LocalFileError


def _local_error(action: str, path: str, exc: OSError) -> LocalFileError:
    return LocalFileError("cannot %s %s: %s" % (action, path, exc.strerror or exc))


@contextlib.contextmanager
def atomic_output(path: str, *, mode: int = 0o666, encoding: str = "utf-8") -> Iterator[IO[str]]:
    """Open a text stream whose content replaces ``path`` only if the ``with`` block succeeds.

    Args:
        mode: permission bits of the new file; ``0o600`` for files holding secrets. The bits are
            set at creation (``os.open``), so the file is never readable by others, not even briefly.

    Raises:
        LocalFileError: the directory is missing or not writable, or ``path`` is a directory.
    """
    path = os.path.abspath(path)
    if os.path.isdir(path):
        raise LocalFileError("cannot write %s: it is a directory" % path)
    directory, name = os.path.split(path)
    tmp = os.path.join(directory, ".%s.%s.tmp" % (name, secrets.token_hex(4)))
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except OSError as exc:
        raise _local_error("write", path, exc) from None
    try:
        if mode & 0o077 == 0 and hasattr(os, "fchmod"):
            os.fchmod(fd, mode)  # a private file stays private whatever the umask
        with os.fdopen(fd, "w", encoding=encoding, newline="\n") as stream:
            yield stream  # errors of the caller's block propagate unchanged (after the cleanup below)
            try:
                stream.flush()
                os.fsync(stream.fileno())
            except OSError as exc:
                raise _local_error("write", path, exc) from None
        try:
            os.replace(tmp, path)
        except OSError as exc:
            raise _local_error("rename a temporary file to", path, exc) from None
    except BaseException:
        _discard(tmp)
        raise


def _discard(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)
