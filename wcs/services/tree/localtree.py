"""The files of a local folder, streamed in the order the service lists keys.

:class:`LocalTree` yields one :class:`LocalFile` per regular file below its root, its ``rel`` the
path relative to the root with ``/`` between folders on every OS and the names kept exactly as
the file system gives them (Unicode included). The order is the order of ``rel`` as a string,
which is the order of the UTF-8 bytes of the keys, the order ``/list`` answers in: so two sorted
streams, this walk and a listing, can be merged without holding either (:mod:`.plan`).

Sorting whole relative paths does not need the whole tree: inside one folder, the entries are
sorted by name, a sub-folder counting as ``name/`` (every path below it starts with that), and
sub-folders are walked when their turn comes. Memory holds one sorted folder per level.

Skipped, each with a note (``on_note(path, kind, message)``): symlinks unless ``follow_symlinks`` (followed ones are
guarded against loops), FIFOs, devices and sockets, names that are not valid UTF-8 (they cannot
be keys). Empty folders yield nothing. The staging folders of this program's downloads are left out
silently: they are not the user's files (those of downloads that cannot be resumed are listed in
:attr:`LocalTree.abandoned` for removal). Only folders that carry this program's mark count
(:mod:`wcs.commons.staging`); a file or folder merely named like a temporary file is the user's,
like any other. A folder that cannot be read is reported through ``on_error`` and makes
:attr:`LocalTree.complete` False.
"""

import logging
import os
import stat
from typing import Callable, Iterator, List, NamedTuple, Optional, Tuple, Union, cast

from wcs.commons import staging
from wcs.commons.errors import LocalFileError

log = logging.getLogger(__name__)

Note = Callable[[str, str], None]
SkipNote = Callable[[str, str, str], None]  # (path, kind, message)


class LocalFile(NamedTuple):
    """A regular file of the tree: its relative key, its path and what identifies its content.

    A named tuple (immutable, compared by value) rather than a dataclass: a walk makes one per file,
    and a tuple is made in one step.
    """

    rel: str
    path: str
    size: int
    mtime_ns: int
    ctime_ns: int
    dev: int
    ino: int

    @classmethod
    def from_stat(cls, rel: str, path: str, st: os.stat_result) -> "LocalFile":
        return _new(cls, (rel, path, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_dev, st.st_ino))

    @property
    def identity(self) -> Tuple[int, int, int, int, int]:
        """(device, inode, size, mtime_ns, ctime_ns): equal identities mean the content was not rewritten.

        ``ctime_ns`` is there because ``mtime`` can be set back by anyone (``touch -d``, ``cp -p``,
        ``rsync -t``): a same-size edit with the old mtime restored still changes ``ctime``.
        """
        return (self.dev, self.ino, self.size, self.mtime_ns, self.ctime_ns)


_new = tuple.__new__
_Folder = Tuple[str, Tuple[int, int]]
_Entry = Tuple[str, Union[LocalFile, _Folder]]
_KIND = 0o170000  # stat.S_IFMT's mask
_REGULAR = stat.S_IFREG
_FOLDER = stat.S_IFDIR


def check_local_dir(path: str) -> str:
    """``path`` as an absolute folder path.

    Raises:
        LocalFileError: missing or not a folder.
    """
    full = os.path.abspath(os.fspath(path))
    if not os.path.exists(full):
        raise LocalFileError("%s: no such directory" % path)
    if not os.path.isdir(full):
        raise LocalFileError("%s: not a directory" % path)
    return full


def _ignore(where: str, message: str) -> None:
    log.info("%s: %s", where, message)


def _ignore_skip(where: str, kind: str, message: str) -> None:
    log.info("%s: %s", where, message)


class LocalTree:
    """The regular files under ``root`` in key order (see the module docstring); iterate once."""

    def __init__(self, root: str, *, follow_symlinks: bool = False, on_note: Optional[SkipNote] = None,
                 on_error: Optional[Note] = None) -> None:
        self.root = os.path.abspath(os.fspath(root))
        self.follow_symlinks = follow_symlinks
        self.on_note = on_note or _ignore_skip
        self.on_error = on_error or _ignore
        self.complete = True
        self.count = 0
        self.abandoned: List[str] = []  # staging folders of interrupted downloads (never resumable)

    def __iter__(self) -> Iterator[LocalFile]:
        for _, f in self.entries():
            yield f

    def entries(self) -> Iterator[Tuple[str, LocalFile]]:
        """Instead of iterating: ``(rel, file)`` pairs, the merge's shape (:mod:`.plan`)."""
        try:
            root_st = os.stat(self.root)
        except OSError as exc:
            raise LocalFileError("%s: %s" % (self.root, exc.strerror or exc)) from None
        # A stack of (entries still to visit, (dev, ino) of the folders above): no recursion, any depth.
        stack: List[Tuple[Iterator[_Entry], List[Tuple[int, int]]]] = [
            (iter(self._read(self.root, "")), [(root_st.st_dev, root_st.st_ino)])]
        while stack:
            entries, ancestors = stack[-1]
            for rel, item in entries:
                if type(item) is LocalFile:
                    self.count += 1
                    yield rel, item
                    continue
                path, ident = cast(_Folder, item)
                if ident in ancestors:
                    self.on_note(path, "symlink-loop", "symlink loop: folder already being walked, skipped")
                    continue
                stack.append((iter(self._read(path, rel)), ancestors + [ident]))
                break  # into the folder; the entries after it are taken up when it is done
            else:
                stack.pop()

    def _read(self, directory: str, rel_prefix: str) -> List[_Entry]:
        """The entries of one folder as ``(rel, file)`` or ``(rel + "/", (path, (dev, ino)))``, sorted by key."""
        try:
            with os.scandir(directory) as scan:
                found = list(scan)
        except OSError as exc:
            self.complete = False
            self.on_error(directory, "cannot read the folder: %s" % (exc.strerror or exc))
            return []
        entries: List[_Entry] = []
        append = entries.append
        for item in found:
            name = item.name
            if not name.isascii():  # (an ASCII name is valid UTF-8: the common case skips the encoding)
                try:
                    name.encode("utf-8")
                except UnicodeEncodeError:
                    self.on_note(item.path, "not-utf8", "name is not valid UTF-8 (cannot be a key), skipped")
                    continue
            if name[:5] == ".wcs-" and staging.NAME_RE.match(name):
                kind = staging.kind_of(item.path)
                if kind is not None:
                    log.debug("%s: the staging folder of a download, skipped", item.path)
                    if kind == staging.TEMPORARY:
                        self.abandoned.append(item.path)
                    continue
            try:
                if item.is_symlink():
                    if not self.follow_symlinks:
                        self.on_note(item.path, "symlink", "symlink, skipped (--follow-symlinks follows symlinks)")
                        continue
                    st = os.stat(item.path)
                else:
                    st = item.stat(follow_symlinks=False)
            except FileNotFoundError:
                if item.is_symlink():
                    self.on_note(item.path, "broken-symlink", "broken symlink, skipped")
                continue  # vanished since the folder was read: nothing to send
            except OSError as exc:
                self.complete = False
                self.on_error(item.path, "cannot stat: %s" % (exc.strerror or exc))
                continue
            mode = st.st_mode & _KIND
            if mode == _REGULAR:
                rel = rel_prefix + name  # (LocalFile.from_stat, inline: once per file)
                append((rel, _new(LocalFile, (rel, item.path, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_dev,
                                              st.st_ino))))
            elif mode == _FOLDER:
                append((rel_prefix + name + "/", (item.path, (st.st_dev, st.st_ino))))
            else:
                self.on_note(item.path, "special", "not a regular file (FIFO, device or socket), skipped")
        # Names are unique in a folder, and a folder's key ends with "/": no two keys are equal, so the
        # pairs sort by key alone.
        entries.sort()
        return entries

