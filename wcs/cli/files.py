"""Local output files of the CLI (RESFILE, the config file): :func:`wcs.commons.fsutil.atomic_write`
with its failures told as one-line :class:`~wcs.commons.errors.LocalFileError` messages.

A command that fails half-way (network drop during ``listall``, Ctrl-C during ``--configure``)
therefore never leaves a truncated file under the name the user asked for, and an existing file is
only replaced by a complete new one. A symlink is written through, a FIFO or device streamed into,
and a path naming a descriptor (``/dev/stderr``, ``/dev/fd/3``) written through that descriptor.
A path naming the command's own stdout (``/dev/stdout``) is the same as ``-``
(:func:`names_stdout`): the data goes to stdout as the command's output.
"""

import contextlib
import os
from typing import IO, Any, Iterator

from wcs.commons.errors import LocalFileError, WcsError
from wcs.commons.fsutil import atomic_write, descriptor_of


def names_stdout(path: str, stdout: Any) -> bool:
    """Whether ``path`` (``/dev/stdout``, ``/dev/fd/1``, a symlink to them...) is the descriptor of
    ``stdout``: the command then writes to ``stdout`` as it does for ``-``."""
    try:
        number = stdout.fileno()
    except (AttributeError, OSError, ValueError):
        return False  # not a real stream (a test's capture): the path is written through by itself
    return descriptor_of(path) == number


@contextlib.contextmanager
def atomic_output(path: str, *, private: bool = False) -> Iterator[IO[str]]:
    """Open a text stream whose content replaces ``path`` only if the ``with`` block succeeds.

    Args:
        private: the file holds secrets: mode 0600 from its creation, whatever the umask.

    Raises:
        LocalFileError: the folder is missing or not writable, ``path`` is a directory, or writing
            failed. Errors raised by the caller's block propagate unchanged.
    """
    shown = os.path.abspath(path)
    if os.path.isdir(shown):
        raise LocalFileError("cannot write %s: it is a directory" % shown)
    in_block = False
    try:
        with atomic_write(path, private=private) as stream:
            in_block = True
            yield stream
            in_block = False
    except OSError as exc:
        if in_block and (isinstance(exc, WcsError) or exc.errno is None):
            raise  # the caller's own failure (e.g. a NetworkError while listing)
        # A write that failed (ENOSPC, EIO...) inside the block, or the commit: name the file.
        raise LocalFileError("cannot write %s: %s" % (shown, exc.strerror or exc)) from None
