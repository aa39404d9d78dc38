"""Where a key lands under a local folder, refusing every key that would land anywhere else.

A download of ``prefix/REL`` goes to ``LOCAL_DIR/REL``; REL comes from the service, so it is not
trusted. :func:`local_path` refuses (:class:`UnsafeKey`) what is not a plain relative path of
file names: absolute keys (``/etc/x``), ``.`` and ``..`` segments (``../x``, ``a/../../b``), empty
segments (``a//b``), NUL, text that is not valid Unicode (an unpaired surrogate, which no UTF-8
name can hold), names longer than a file name may be, and on Windows drive letters, ``\\``,
reserved names (``CON``, ``NUL``...), ``<>:"|?*`` and trailing dots or spaces.

:func:`prepare_parent` then creates the folders one by one from LOCAL_DIR down, and refuses to go
through anything that leads out of it: a symlinked folder inside LOCAL_DIR pointing elsewhere, or a
file in the way, or the staging folder of a download (:mod:`wcs.commons.staging`), whose files
are the download's own. Nothing is created outside LOCAL_DIR, not even an empty folder.
"""

import errno
import os
import re
import stat
from typing import List

from wcs.commons import staging
from wcs.commons.errors import LocalFileError

NAME_MAX_BYTES = 255
_WINDOWS_RESERVED = re.compile(r"^(?:CON|PRN|AUX|NUL|COM[0-9]|LPT[0-9])(?:\..*)?$", re.IGNORECASE)
_WINDOWS_BAD_CHARS = re.compile(r'[<>:"|?*\\\x00-\x1f]')


class UnsafeKey(LocalFileError):
    """A key that cannot be written under the local folder (it would escape it, or is no file name)."""


def key_segments(rel: str, *, windows: bool = os.name == "nt") -> List[str]:
    """The file names of a relative key, each checked (see the module docstring).

    Raises:
        UnsafeKey: naming what is wrong.
    """
    if not rel:
        raise UnsafeKey("empty name")
    if "\0" in rel:
        raise UnsafeKey("contains a NUL character")
    try:
        rel.encode("utf-8")
    except UnicodeEncodeError:
        raise UnsafeKey("not valid Unicode (an unpaired surrogate): no file name can hold it") from None
    if rel.startswith("/"):
        raise UnsafeKey("absolute path")
    segments = rel.split("/")
    for segment in segments:
        if segment in ("", ".", ".."):
            raise UnsafeKey("contains a %r path segment" % segment)
        if len(segment.encode("utf-8")) > NAME_MAX_BYTES:
            raise UnsafeKey("a path segment is longer than %d bytes" % NAME_MAX_BYTES)
        if windows:
            if _WINDOWS_BAD_CHARS.search(segment):
                raise UnsafeKey("%r cannot be a Windows file name" % segment)
            if _WINDOWS_RESERVED.match(segment) or segment[-1] in ". ":
                raise UnsafeKey("%r cannot be a Windows file name" % segment)
    return segments


def local_path(root: str, rel: str, *, windows: bool = os.name == "nt") -> str:
    """``root`` joined with the checked segments of ``rel`` (absolute; never outside ``root``).

    Raises:
        UnsafeKey: ``rel`` is not a safe relative file path.
    """
    segments = key_segments(rel, windows=windows)
    root = os.path.abspath(root)
    path = os.path.join(root, *segments)
    if os.path.commonpath([root, path]) != root:  # belt and braces: segments above cannot escape
        raise UnsafeKey("outside the local folder")
    return path


def _inside(root_real: str, path: str) -> bool:
    real = os.path.realpath(path)
    return real == root_real or os.path.commonpath([root_real, real]) == root_real


def prepare_parent(root: str, path: str) -> None:
    """Create the folders between ``root`` and ``path`` (a :func:`local_path`), one at a time.

    Each existing step must be a folder whose real location is inside ``root``'s, so a symlink in
    the tree that points out of it is never written through.

    Raises:
        UnsafeKey: a step is a file, or leads outside ``root``.
        LocalFileError: a folder cannot be created.
    """
    root = os.path.abspath(root)
    root_real = os.path.realpath(root)
    rel = os.path.relpath(os.path.dirname(path), root)
    current = root
    for name in ([] if rel == os.curdir else rel.split(os.sep)):
        current = os.path.join(current, name)
        try:
            os.mkdir(current)
            continue
        except FileExistsError:
            pass
        except OSError as exc:
            if exc.errno != errno.EEXIST:
                raise LocalFileError("cannot create %s: %s" % (current, exc.strerror or exc)) from None
        if not os.path.isdir(current):
            raise UnsafeKey("%s is in the way (not a folder)" % current)
        if os.path.islink(current) and not _inside(root_real, current):
            raise UnsafeKey("%s is a symlink leading outside the local folder" % current)
        if staging.NAME_RE.match(name) and staging.kind_of(current) is not None:
            raise UnsafeKey("%s is the staging folder of a download (its files are the download's)" % current)


def check_target(root: str, path: str, *, follow_symlinks: bool = False) -> None:
    """Refuse to write ``path`` when it is a folder, a FIFO or device, or a symlink (unless followed and
    leading to a file inside ``root``).

    Raises:
        UnsafeKey: naming the problem.
    """
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise LocalFileError("cannot stat %s: %s" % (path, exc.strerror or exc)) from None
    if stat.S_ISLNK(st.st_mode):
        if not follow_symlinks:
            raise UnsafeKey("%s is a symlink (not followed without --follow-symlinks)" % path)
        if not _inside(os.path.realpath(root), path):
            raise UnsafeKey("%s is a symlink leading outside the local folder" % path)
        try:
            st = os.stat(path)
        except OSError:
            return  # a broken link inside the folder: the download creates its destination
    if stat.S_ISDIR(st.st_mode):
        raise UnsafeKey("%s is a folder" % path)
    if not stat.S_ISREG(st.st_mode):
        raise UnsafeKey("%s is not a regular file (FIFO, device or socket)" % path)
