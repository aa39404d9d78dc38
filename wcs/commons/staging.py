"""Private staging folders: where a download is written before it is renamed onto its name.

A download never opens a predictable name in its target's folder (a symlink planted under that
name would be followed out of the folder) and never uses a name a key could also produce (the
two would overwrite each other). It makes a folder of its own beside the target with ``mkdir``
(exclusive, mode 0700), creates its file in it with ``O_CREAT | O_EXCL | O_NOFOLLOW`` under a
short fixed name, renames that file onto the target (same file system, atomic) and removes the
folder. The folder's name is short whatever the target's (a 255-byte name can be restored):

* ``.wcs-tmp-<24 hex>``: random, for downloads that cannot be resumed; the downloads under way into
  one folder share one (:class:`StagingPool`: made by the first, removed by the last), each with a
  file of its own in it, so a tree of small files makes one per folder rather than one per file;
* ``.wcs-dl-<24 hex>``: a digest of the target's name, for a ranged download, so that the next
  run finds the partial file and its checkpoint. If that name is taken by anything that is not
  such a folder of ours, the download takes a random one (it then cannot be resumed).

**What is ours.** A name proves nothing: a key can be called anything. Each folder holds a symlink
:data:`MARK` whose text names the folder's own device and inode. A download never creates a
symlink, so no key can produce one; a copy of the folder (``cp -a``, ``tar``, ``rsync``) has another
inode and is not recognised; nor is a folder of another user or one that others may write. Only
a folder that carries this mark (:func:`kind_of`) is treated as this program's: left out of
uploads, never deleted as a local extra, removed when abandoned; everything else, whatever its
name, is the user's. (Where symlinks cannot be made, on Windows
without the privilege, the mark is a small file with the same text.)
"""

import contextlib
import hashlib
import os
import re
import secrets
import stat
import threading
from typing import Dict, Iterator, List, Optional, Tuple

MARK = ".wcs-staging"
TEMPORARY = "tmp"
RESUMABLE = "dl"
NAME_RE = re.compile(r"^\.wcs-(tmp|dl)-[0-9a-f]{24}$")
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_FLAGS = os.O_RDWR | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0) | _NOFOLLOW


def _private(st: os.stat_result) -> bool:
    """Made by this user and open to nobody else (as :meth:`Staging.create` makes them)."""
    getuid = getattr(os, "getuid", None)
    return getuid is None or (st.st_uid == getuid() and not st.st_mode & 0o077)


def _mark_text(st: os.stat_result) -> str:
    return "wcs-staging %d:%d" % (st.st_dev, st.st_ino)


def resumable_name(target_name: str) -> str:
    """The staging folder name of a resumable download of ``target_name`` (the same at every run)."""
    digest = hashlib.sha256(os.fsencode(target_name)).hexdigest()[:24]
    return ".wcs-%s-%s" % (RESUMABLE, digest)


def kind_of(path: str) -> Optional[str]:
    """:data:`TEMPORARY` or :data:`RESUMABLE` when ``path`` is a staging folder this program made
    (see the module docstring), else None."""
    match = NAME_RE.match(os.path.basename(path))
    if match is None:
        return None
    try:
        st = os.lstat(path)
        if not stat.S_ISDIR(st.st_mode) or not _private(st):
            return None
        mark = os.path.join(path, MARK)
        if os.path.islink(mark):
            text = os.readlink(mark)
        elif os.name == "nt" and os.path.isfile(mark):
            with open(mark, encoding="utf-8") as fp:
                text = fp.read(100)
        else:
            return None
    except (OSError, ValueError):
        return None
    return match.group(1) if text == _mark_text(st) else None


def remove(path: str) -> None:
    """Remove the staging folder ``path`` (its files, its mark, itself); errors are ignored: what
    cannot be removed stays, and is recognised and removed next time."""
    with contextlib.suppress(OSError):
        with os.scandir(path) as entries:
            names = [entry.name for entry in entries if not entry.is_dir(follow_symlinks=False)]
        for name in names:
            with contextlib.suppress(OSError):
                os.unlink(os.path.join(path, name))
        os.rmdir(path)


class Staging:
    """One staging folder (see the module docstring): ``Staging.create(folder)``,
    ``Staging.for_target(path)``; :meth:`new_file`, :meth:`open_file`, :meth:`remove`."""

    def __init__(self, path: str, kind: str, reused: bool = False) -> None:
        self.path = path
        self.kind = kind
        self.reused = reused  # an existing folder of ours (a resumable download's earlier run)

    @classmethod
    def create(cls, directory: str, name: Optional[str] = None) -> "Staging":
        """A new folder in ``directory`` (``name``, else a random temporary one).

        Raises:
            FileExistsError: ``name`` is taken.
            OSError: the folder cannot be made.
        """
        for _ in range(100):
            path = os.path.join(directory, name or ".wcs-%s-%s" % (TEMPORARY, secrets.token_hex(12)))
            try:
                os.mkdir(path, 0o700)
            except FileExistsError:
                if name:
                    raise
                continue
            try:
                _make_mark(path)
            except BaseException:
                remove(path)
                raise
            return cls(path, RESUMABLE if name else TEMPORARY)
        raise FileExistsError("no free staging folder name in %s" % directory)

    @classmethod
    def for_target(cls, target: str) -> "Staging":
        """The resumable staging folder of ``target``: the one an earlier run left, else a new one
        (a random temporary one when the name is taken by something not ours).

        Raises:
            OSError: no folder can be made beside ``target``.
        """
        directory, name = os.path.split(target)
        path = os.path.join(directory, resumable_name(name))
        if kind_of(path) == RESUMABLE:
            return cls(path, RESUMABLE, reused=True)
        try:
            return cls.create(directory, resumable_name(name))
        except FileExistsError:
            return cls.create(directory)  # the name is the user's: this download cannot be resumed

    def file(self, name: str) -> str:
        return os.path.join(self.path, name)

    def new_file(self, name: str, mode: int = 0o666) -> int:
        """Create ``name`` in the folder (exclusively, never through a symlink); a read-write descriptor."""
        return os.open(self.file(name), _FLAGS | os.O_CREAT | os.O_EXCL, mode)

    def open_file(self, name: str) -> int:
        """Open the existing regular file ``name`` of the folder read-write (never through a symlink).

        Raises:
            FileNotFoundError: it does not exist.
            OSError: it is not a regular file with one link, or cannot be opened.
        """
        fd = os.open(self.file(name), _FLAGS | getattr(os, "O_NONBLOCK", 0))
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_nlink != 1:
            os.close(fd)
            raise OSError("%s is not a regular file of this download" % self.file(name))
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return fd

    def new_temporary_file(self, mode: int = 0o666) -> Tuple[int, str]:
        """A new, uniquely named file in the folder (:meth:`new_file`): its descriptor and path."""
        for _ in range(100):
            name = "part-" + secrets.token_hex(8)
            try:
                return self.new_file(name, mode), self.file(name)
            except FileExistsError:
                continue
        raise FileExistsError("no free temporary name in %s" % self.path)

    def remove(self) -> None:
        remove(self.path)


class StagingPool:
    """The temporary staging folders of the downloads under way, one per target folder, shared."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._in_use: Dict[str, List] = {}  # folder -> [Staging, users]

    @contextlib.contextmanager
    def folder(self, directory: str) -> Iterator[Staging]:
        """The staging folder for a download into ``directory`` while the ``with`` block runs.

        Raises:
            OSError: it cannot be made.
        """
        with self._lock:
            entry = self._in_use.get(directory)
            if entry is None:
                entry = [Staging.create(directory), 0]
                self._in_use[directory] = entry
            entry[1] += 1
        try:
            yield entry[0]
        finally:
            with self._lock:
                entry[1] -= 1
                last = entry[1] == 0
                if last:
                    del self._in_use[directory]
            if last:
                entry[0].remove()


def _make_mark(path: str) -> None:
    text = _mark_text(os.lstat(path))
    mark = os.path.join(path, MARK)
    try:
        os.symlink(text, mark)
    except (OSError, NotImplementedError):
        if os.name != "nt":
            raise
        fd = os.open(mark, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fp:
            fp.write(text)
