"""Where one user's multipart resume records live, so that no other user can plant or change them.

The configured ``tmp_record_folder`` (the official default is ``/tmp/multipart/``) is used as it is
when it is private: a directory of this user that nobody else may write. A folder others can write,
that belongs to someone else or that would be made in a shared place such as ``/tmp`` gets a
subfolder per user, ``<folder>/<uid>``, of mode 0700, and records are kept there; if that subfolder is
not this user's private directory (a link, another owner, loose permissions that cannot be fixed),
records are refused with :class:`~wcs.commons.errors.ResumeError` rather than trusted.

On systems without POSIX ownership (Windows) the folder is used as it is.
"""

import os
import stat
from typing import Optional

from wcs.commons.errors import ResumeError

_SHARED_MODE = 0o1777
"""Mode of a shared folder this user creates (like ``/tmp``: everyone adds their own subfolder)."""


def _uid() -> Optional[int]:
    getuid = getattr(os, "getuid", None)
    return None if getuid is None else getuid()


def _lstat(path: str) -> Optional[os.stat_result]:
    try:
        return os.lstat(path)
    except FileNotFoundError:
        return None


def _private(st: os.stat_result, uid: int) -> bool:
    return stat.S_ISDIR(st.st_mode) and st.st_uid == uid and not st.st_mode & 0o022


def _in_shared_place(path: str) -> bool:
    """The nearest existing parent of ``path`` is writable by others (e.g. ``/tmp``)."""
    parent = os.path.dirname(path)
    while True:
        st = _lstat(parent)
        if st is not None:
            return bool(st.st_mode & 0o002)
        if os.path.dirname(parent) == parent:
            return False
        parent = os.path.dirname(parent)


def record_folder(folder: str) -> str:
    """The folder this user's records live in for the configured ``folder`` (nothing is created)."""
    base = os.path.abspath(os.path.expanduser(folder))
    uid = _uid()
    if uid is None:
        return base
    st = _lstat(base)
    if st is None:
        return os.path.join(base, str(uid)) if _in_shared_place(base) else base
    return base if _private(st, uid) else os.path.join(base, str(uid))


def ensure_record_folder(folder: str) -> str:
    """:func:`record_folder`, created if needed and checked to be this user's private directory.

    Raises:
        ResumeError: it cannot be made, or it is not private to this user.
    """
    where = record_folder(folder)
    uid = _uid()
    base = os.path.abspath(os.path.expanduser(folder))
    try:
        if uid is None:
            os.makedirs(where, exist_ok=True)
            return where
        if where != base and _lstat(base) is None:
            os.makedirs(base, exist_ok=True)
            os.chmod(base, _SHARED_MODE)  # made here for every user: each keeps a subfolder in it
        if _lstat(where) is None:
            os.makedirs(where, mode=0o700, exist_ok=True)
        st = os.lstat(where)
        if stat.S_ISDIR(st.st_mode) and st.st_uid == uid and st.st_mode & 0o077:
            os.chmod(where, 0o700)
            st = os.lstat(where)
    except OSError as exc:
        raise ResumeError("cannot create the resume record folder %s: %s" % (where, exc.strerror or exc)) from None
    if not _private(st, uid):
        raise ResumeError("resume record folder %s is not a private directory of this user (uid %d); "
                          "set tmp_record_folder to a folder of your own" % (where, uid))
    return where


def check_record_folder(where: str) -> None:
    """Raise unless ``where`` (a :func:`record_folder` result that exists) is private to this user.

    Raises:
        ResumeError: another user could have written the records in it.
    """
    uid = _uid()
    st = _lstat(where)
    if uid is None or st is None:
        return
    if not _private(st, uid):
        raise ResumeError("resume record folder %s is writable by others or not this user's: its records "
                          "are not trusted; set tmp_record_folder to a folder of your own" % where)
