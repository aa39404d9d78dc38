"""Local files written all-or-nothing, the one way every part of the package does it.

A new file is written under a unique temporary sibling name, flushed and fsynced, renamed over the
target (``os.replace``, atomic on POSIX) and the folder fsynced, so a crash or an error at any
moment leaves either the old file or the complete new one, never half of one. Two kinds of target
are not replaced, because replacing them would be wrong:

* a symlink: its destination is written (the link stays, as ``open(path, "w")`` would do);
* a FIFO, a character device or a socket (``/dev/null``, a named pipe): it is opened and streamed
  into; it cannot hold a "partial" file and must never become a regular one;
* a descriptor of this process (``/dev/stdout``, ``/dev/stderr``, ``/dev/fd/N``,
  ``/proc/self/fd/N``, or a symlink to one of them): the descriptor itself is written through (a
  duplicate of it), at its own offset and with its own flags. Opening the path again would not do:
  on Linux it opens whatever the descriptor refers to afresh, so ``>> log.txt`` would be written
  from its first byte, and a pipe cannot be reopened by name at all.

Temporary files are created exclusively (``O_EXCL``, never through a symlink) under a name that
fits the file system's limit whatever the length of the target's name, with mode ``0o666`` (the
umask applies as for any new file) unless a private mode is asked for, and an existing target keeps
its permission bits. (Downloads use staging folders instead: :mod:`wcs.commons.staging`.)
"""

import contextlib
import os
import secrets
import stat
from typing import IO, Any, BinaryIO, Iterator, Optional, Tuple

from wcs.commons.errors import LocalFileError

_OPEN_FLAGS = os.O_WRONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
NAME_MAX_BYTES = 255
# Where a path names a descriptor of this process (their real paths: /dev/fd is /proc/self/fd on Linux).
_DESCRIPTOR_FOLDERS = ("/dev/fd", "/proc/self/fd", "/proc/thread-self/fd")
_MAX_LINKS = 40  # as the kernel's own limit on symlinks followed in one lookup


def descriptor_of(path: str) -> Optional[int]:
    """The descriptor of this process that ``path`` names (``/dev/stdout`` -> 1, ``/dev/fd/3`` -> 3,
    a symlink to either...), else None.

    Symlinks are followed one at a time and never through the last step: ``/proc/self/fd/1`` is
    itself a link to whatever descriptor 1 refers to (a regular file when stdout is redirected),
    which is exactly what must not be taken for the target.
    """
    path = os.path.abspath(path)
    try:
        mode = os.lstat(path).st_mode
    except (OSError, ValueError):
        return None
    if not (stat.S_ISLNK(mode) or stat.S_ISCHR(mode)):
        return None  # /proc/self/fd/N are links, /dev/fd/N character devices (BSD, macOS): not this
    folders = {os.path.realpath(folder) for folder in _DESCRIPTOR_FOLDERS if os.path.isdir(folder)}
    for _ in range(_MAX_LINKS):
        directory, name = os.path.split(path)
        directory = os.path.realpath(directory)
        if directory in folders and name.isdigit():
            return int(name)
        try:
            link = os.readlink(path)
        except (OSError, ValueError):
            return None  # not a symlink (or gone): a plain file system object
        path = os.path.normpath(os.path.join(directory, link))
    return None


def resolve_target(path: str) -> str:
    """The file a write to ``path`` lands in: the destination of a symlink, else ``path`` (absolute).

    A path naming a descriptor (:func:`descriptor_of`) is returned as it is: it is written through.
    """
    path = os.path.abspath(path)
    if os.path.islink(path) and descriptor_of(path) is None:
        return os.path.realpath(path)
    return path


def is_special(path: str) -> bool:
    """``path`` names a descriptor of this process, or exists and is neither a regular file nor a
    directory (a FIFO, a device, a socket): it is written through, never replaced."""
    if descriptor_of(path) is not None:
        return True
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def open_special(path: str) -> int:
    """A write-only descriptor for the special target ``path`` (:func:`is_special`): a duplicate of the
    descriptor it names, else ``path`` opened for writing (no truncation: a device or a FIFO).

    Raises:
        OSError: the descriptor is not open, or ``path`` cannot be opened.
    """
    number = descriptor_of(path)
    if number is not None:
        fd = os.dup(number)
        if hasattr(os, "set_inheritable"):
            os.set_inheritable(fd, False)
        return fd
    return os.open(path, _OPEN_FLAGS)


def fitting_name(name: str, extra: int) -> str:
    """``name`` shortened (whole characters) so that it and ``extra`` more bytes fit in one file name."""
    room = NAME_MAX_BYTES - extra
    while name and len(os.fsencode(name)) > room:
        name = name[:-1]
    return name


def fsync_directory(path: str) -> None:
    """Make a rename in ``path`` durable (not possible on every platform, harmless to skip there)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def create_temp_sibling(path: str, mode: int = 0o666, suffix: str = ".tmp") -> Tuple[int, str]:
    """Create and open (write-only) a new, uniquely named ``.<name>.<random><suffix>`` beside ``path``.

    Unlike ``tempfile.mkstemp`` (always 0600) the mode is ``mode``, which the kernel reduces by the
    umask exactly as for any new file; no process-wide umask is read or changed. ``<name>`` is cut
    short when the whole would be longer than a file name may be.
    """
    directory, name = os.path.split(os.path.abspath(path))
    for _ in range(100):
        token = secrets.token_hex(6)
        short = fitting_name(name, len(".." + token + suffix))
        tmp = os.path.join(directory, ".%s.%s%s" % (short, token, suffix))
        try:
            return os.open(tmp, _OPEN_FLAGS | os.O_CREAT | os.O_EXCL | _NOFOLLOW, mode), tmp
        except FileExistsError:
            continue
    raise FileExistsError("no free temporary name in %s" % directory)


def keep_mode_of(path: str, tmp: str) -> None:
    """Give ``tmp`` the permission bits of an existing regular file ``path`` (as overwriting it would)."""
    try:
        st = os.stat(path)
    except OSError:
        return  # a new file: the mode it was created with stands
    if stat.S_ISREG(st.st_mode):
        os.chmod(tmp, stat.S_IMODE(st.st_mode))


def commit_temp(tmp: str, path: str, *, fileobj: Optional[IO[Any]] = None, keep_mode: bool = True) -> None:
    """Flush and fsync ``fileobj`` (when given), keep ``path``'s mode, rename ``tmp`` onto it, fsync the folder."""
    if fileobj is not None:
        fileobj.flush()
        os.fsync(fileobj.fileno())
    if keep_mode:
        keep_mode_of(path, tmp)
    os.replace(tmp, path)
    fsync_directory(os.path.dirname(path))


def discard(path: Optional[str]) -> None:
    """Remove ``path`` if it exists (cleanup on a failure path: errors are not interesting there)."""
    if path:
        with contextlib.suppress(OSError):
            os.unlink(path)


@contextlib.contextmanager
def atomic_write(path: str, *, binary: bool = False, mode: int = 0o666, encoding: str = "utf-8",
                 private: bool = False) -> Iterator[IO[Any]]:
    """Open ``path`` for writing; a regular target is replaced only if the ``with`` block succeeds.

    Args:
        binary: yield a binary stream instead of a text one (``newline="\\n"``).
        mode: permission bits of a new file.
        private: the file holds secrets: created ``0o600`` whatever ``mode`` and the umask say.

    Symlinks are written through and FIFOs/devices streamed into (see the module docstring).

    Raises:
        IsADirectoryError: ``path`` is a directory.
        OSError: the folder is missing or not writable, or writing failed (the target is untouched).
    """
    target = resolve_target(path)
    if os.path.isdir(target):
        raise IsADirectoryError(21, "Is a directory", path)
    if private:
        mode = 0o600
    if is_special(target):
        fd = open_special(target)
        with _fdopen(fd, binary, encoding) as stream:
            yield stream
        return
    fd, tmp = create_temp_sibling(target, mode)
    try:
        if private and hasattr(os, "fchmod"):
            os.fchmod(fd, mode)  # a private file stays private whatever the umask
        with _fdopen(fd, binary, encoding) as stream:
            yield stream
            commit_temp(tmp, target, fileobj=stream, keep_mode=not private)
    except BaseException:
        discard(tmp)
        raise


def _fdopen(fd: int, binary: bool, encoding: str) -> IO[Any]:
    if binary:
        return os.fdopen(fd, "wb")
    return os.fdopen(fd, "w", encoding=encoding, newline="\n")


def read_regular(path: str, limit: int) -> Optional[bytes]:
    """The content of the regular file ``path``, at most ``limit`` bytes; None when it does not exist.

    Opened without following a final symlink and without blocking, then checked on the open file, so
    a FIFO (which would hang a reader), a device such as ``/dev/zero`` (endless) or a file swapped in
    after a check is never read.

    Raises:
        ValueError: ``path`` is not a regular file, or is larger than ``limit``.
        OSError: it cannot be opened or read.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0) | \
        getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if os.path.islink(path):
            raise ValueError("%s is a symbolic link, not a regular file" % path) from None
        raise exc
    with os.fdopen(fd, "rb") as fp:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise ValueError("%s is not a regular file" % path)
        if st.st_size > limit:
            raise ValueError("%s is larger than %d bytes" % (path, limit))
        data = fp.read(limit + 1)
    if len(data) > limit:
        raise ValueError("%s is larger than %d bytes" % (path, limit))
    return data


def open_text(path: str, what: str) -> IO[str]:
    """The UTF-8 text file ``path`` the user named as ``what`` (``"the batch file"``), opened for reading.

    Raises:
        LocalFileError: it cannot be opened (the message says what it is and why).
    """
    try:
        return open(path, encoding="utf-8")
    except OSError as exc:
        raise LocalFileError("cannot read %s %s: %s" % (what, path, exc.strerror or exc)) from None


def open_regular(path: str, buffering: int = -1) -> BinaryIO:
    """``path`` opened for reading (``buffering`` as for ``open``) if it is a regular file (symlinks
    followed), without ever blocking.

    Opened with ``O_NONBLOCK`` and checked on the open file: a FIFO swapped in for the file after it
    was listed (which a plain open would wait on until something writes to it) or a device is refused
    instead of read.

    Raises:
        FileNotFoundError: it does not exist.
        LocalFileError: it is not a regular file.
        OSError: it cannot be opened.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise LocalFileError("cannot read %s: not a regular file (a FIFO, device or socket)" % path)
        if flags & getattr(os, "O_NONBLOCK", 0) and hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)  # no meaning for a regular file; do not leave it set
        return os.fdopen(fd, "rb", buffering=buffering)
    except BaseException:
        os.close(fd)
        raise


def replace_refusal(path: str) -> Optional[str]:
    """Why replacing the existing regular file ``path`` with a new file would be wrong, or None.

    Replacing renames a new file over it, which needs only the folder's permission and gives the file
    this user as owner. Like ``open(path, "wb")``, it is refused when the file's permission bits do
    not let this user write it (the owner's bits for the owner, the group's for a member, else the
    others'); and when the file belongs to another user, since the replacement would change its
    owner. Root gets no exemption from either: the bits are read, not ``os.access``.
    """
    getuid = getattr(os, "getuid", None)
    if descriptor_of(path) is not None:
        return None  # written through, never replaced
    try:
        st = os.stat(path)
    except OSError:
        return None
    if not stat.S_ISREG(st.st_mode):
        return None
    if getuid is None:  # no POSIX owners: the read-only attribute is all there is
        return None if st.st_mode & stat.S_IWRITE else "it is read-only"
    uid = getuid()
    if st.st_uid == uid:
        writable = st.st_mode & stat.S_IWUSR
    elif st.st_gid == os.getegid() or st.st_gid in os.getgroups():
        writable = st.st_mode & stat.S_IWGRP
    else:
        writable = st.st_mode & stat.S_IWOTH
    if not writable:
        return "permission denied (mode %03o)" % stat.S_IMODE(st.st_mode)
    if st.st_uid != uid:
        return "it belongs to another user (uid %d); replacing it would make it yours" % st.st_uid
    return None
