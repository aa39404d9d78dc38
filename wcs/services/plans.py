"""Plans a person can review: every action a sync would take, with its reason and the facts it relied on.

A plan is a JSON Lines file (UTF-8, one JSON object per line), written all at once
(:func:`wcs.commons.fsutil.atomic_write`: a plan is never half written) by ``sync --plan`` and
read by ``apply`` and ``batch``:

* the first line is the header, ``{"wcs_plan": 1, "command", "source", "destination", "created",
  "options"}`` (``local_root``: the local folder of a local sync);
* then one line per action, in key order of ``rel`` (whatever order they were decided in: a tree
  run decides compared files when their etag is known): ``{"op", "reason", "rel", "src", "dst"}``. ``op`` is one of
  :data:`OPS`: ``upload`` (local file to WCS), ``download`` (WCS to a local file), ``fetch`` (the
  service fetches a URL), ``copy`` / ``move`` (WCS to WCS, server-side; ``move`` removes the
  source; local to WCS and back, it removes the source file or object once the copy is checked),
  ``delete`` (``dst`` is deleted), ``skip`` (nothing is done; refused keys are skips whose reason
  starts with ``refused``). ``rel`` is the path below the roots (what a person reads);
* the last line is the footer, ``{"end": true, "actions": {<op>: <count>}, "bytes": <bytes to
  move>, "delete": <what --delete decided>}``; a file without it was cut short and is refused.

``src`` and ``dst`` are the facts of each side, one of :data:`FACT_KINDS` by the fields they hold:

* a WCS object: ``{"bucket", "key", "size", "hash", "put_time"}``, or ``{"bucket", "key",
  "exists": false}`` when the plan relied on its absence;
* a local file: ``{"path", "size", "mtime_ns"}``, or ``{"path", "exists": false}``;
* an object of another store (fsspec): ``{"url", "size", "etag", "mtime", "md5"}`` (``url`` with its
  protocol: ``s3://bucket/key``, ``https://host/path``; ``md5`` only where the store offers a plain
  MD5; absent values are ``null``).

``apply`` checks each action's facts again before it acts (:mod:`wcs.services.planrun`): an object
whose facts changed since the plan is skipped and reported, never overwritten blindly. Facts left
out (a ``batch`` line says only where from and where to) are not checked.
"""

import datetime
import json
import os
import sqlite3
import stat
import tempfile
import threading
from typing import Any, Dict, Iterator, Optional, Tuple

from wcs.commons.errors import InvalidArgument, LocalFileError
from wcs.commons.fsutil import atomic_write

VERSION = 1
OPS = ("upload", "download", "fetch", "copy", "move", "delete", "skip")
FACT_KINDS = ("wcs", "local", "url")

Facts = Dict[str, Any]


def wcs_facts(bucket: str, key: str, info: Any = None) -> Facts:
    """The facts of a WCS object (an :class:`~wcs.commons.result.ObjectInfo`), or of its absence (None)."""
    if info is None:
        return {"bucket": bucket, "key": key, "exists": False}
    return {"bucket": bucket, "key": key, "size": info.size, "hash": info.hash or None,
            "put_time": info.put_time}


def local_facts(path: str, size: Optional[int] = None, mtime_ns: Optional[int] = None) -> Facts:
    """The facts of a local file (its size and modification time), or of its absence (``size`` None)."""
    if size is None:
        return {"path": path, "exists": False}
    return {"path": path, "size": size, "mtime_ns": mtime_ns}


def stat_facts(path: str) -> Facts:
    """The facts of the local ``path`` as it is now (a missing path, or one that is no regular file,
    is absent)."""
    try:
        st = os.lstat(path)
    except OSError:
        return local_facts(path)
    if not stat.S_ISREG(st.st_mode):
        return dict(local_facts(path), kind="not a regular file")
    return local_facts(path, st.st_size, st.st_mtime_ns)


def kind_of(facts: Optional[Facts]) -> Optional[str]:
    """``"wcs"``, ``"local"`` or ``"url"`` (see the module docstring), None for no facts."""
    if not facts:
        return None
    if "bucket" in facts:
        return "wcs"
    if "path" in facts:
        return "local"
    if "url" in facts:
        return "url"
    raise InvalidArgument("plan facts name no object: %r" % (facts,))


def exists(facts: Facts) -> bool:
    return facts.get("exists", True) is not False


def describe(facts: Optional[Facts]) -> str:
    """How messages name one side: ``wcs://b/k``, a path, a URL."""
    kind = kind_of(facts)
    if kind is None or facts is None:
        return "-"
    if kind == "wcs":
        return "wcs://%s/%s" % (facts["bucket"], facts["key"])
    return str(facts["path"] if kind == "local" else facts["url"])


def action(op: str, rel: str, reason: str, src: Optional[Facts] = None, dst: Optional[Facts] = None) -> Dict[str, Any]:
    """One action line (see the module docstring).

    Raises:
        InvalidArgument: an unknown op, or facts that name nothing.
    """
    if op not in OPS:
        raise InvalidArgument("unknown plan op %r (one of %s)" % (op, ", ".join(OPS)))
    kind_of(src)
    kind_of(dst)
    return {"op": op, "reason": reason, "rel": rel, "src": src, "dst": dst}


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class PlanWriter:
    """Writes a plan (use as a context manager: the file appears, complete, when the block succeeds).

    Actions may be added in any order: they wait in a temporary sqlite table (memory stays flat with
    the number of actions) and are written sorted by ``rel`` when the block ends.

    Args:
        path: where the plan goes (replaced atomically; a symlink's target is written).
        command, source, destination, options: the header (options: plain JSON values).
    """

    def __init__(self, path: str, *, command: str, source: str, destination: str,
                 options: Optional[Dict[str, Any]] = None, **header: Any) -> None:
        self.path = path
        self.header: Dict[str, Any] = dict({"wcs_plan": VERSION, "command": command, "source": source,
                                            "destination": destination, "created": _now(),
                                            "options": options or {}}, **header)
        self.counts: Dict[str, int] = {}
        self.bytes = 0
        self.delete_status = "not requested"
        self._lock = threading.Lock()
        self._db: Optional[sqlite3.Connection] = None
        self._dir: Optional[str] = None

    def __enter__(self) -> "PlanWriter":
        folder = os.path.dirname(os.path.abspath(self.path))
        if not os.path.isdir(folder):
            raise LocalFileError("cannot write the plan %s: no such folder %s" % (self.path, folder))
        self._dir = tempfile.mkdtemp(prefix="wcs-plan-")
        self._db = sqlite3.connect(os.path.join(self._dir, "actions.sqlite"), check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=OFF")
        self._db.execute("PRAGMA synchronous=OFF")
        self._db.execute("CREATE TABLE actions (rel TEXT NOT NULL, seq INTEGER PRIMARY KEY, line TEXT NOT NULL)")
        return self

    def add(self, op: str, rel: str, reason: str, src: Optional[Facts] = None, dst: Optional[Facts] = None,
            moves: int = 0) -> None:
        """Add one action; ``moves``: the bytes it would transfer (summed in the footer). Thread-safe."""
        line = _json(action(op, rel, reason, src, dst))
        with self._lock:
            assert self._db is not None, "a PlanWriter is used in a with block"
            self._db.execute("INSERT INTO actions (rel, line) VALUES (?, ?)", (rel, line))
            self.counts[op] = self.counts.get(op, 0) + 1
            self.bytes += moves

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        db, self._db = self._db, None
        try:
            if exc_type is None and db is not None:
                self._write(db)
        finally:
            if db is not None:
                db.close()
            if self._dir is not None:
                for name in os.listdir(self._dir):
                    os.unlink(os.path.join(self._dir, name))
                os.rmdir(self._dir)

    def _write(self, db: sqlite3.Connection) -> None:
        try:
            with atomic_write(self.path) as fp:
                fp.write(_json(self.header) + "\n")
                for (line,) in db.execute("SELECT line FROM actions ORDER BY rel, seq"):
                    fp.write(line + "\n")
                fp.write(_json({"end": True, "actions": dict(sorted(self.counts.items())), "bytes": self.bytes,
                                "delete": self.delete_status}) + "\n")
        except OSError as exc:
            raise LocalFileError("cannot write the plan %s: %s" % (self.path, exc.strerror or exc)) from None


def _json(document: Dict[str, Any]) -> str:
    return json.dumps(document, ensure_ascii=False, separators=(", ", ": "))


class PlanError(InvalidArgument):
    """A plan file that cannot be carried out as it is: not a plan, cut short, or a malformed line."""


def read_plan(path: str) -> Tuple[Dict[str, Any], Iterator[Dict[str, Any]]]:
    """The header of the plan at ``path`` and an iterator of its actions (streamed; the footer was
    checked first).

    Raises:
        PlanError: no header, no footer (cut short), a line that is not a JSON object, an unknown op.
        LocalFileError: the file cannot be read.
    """
    header: Optional[Dict[str, Any]] = None
    footer: Optional[Dict[str, Any]] = None
    try:
        with open(path, encoding="utf-8") as fp:
            for number, line in enumerate(fp, 1):
                if not line.strip():
                    continue
                document = _parse(line, path, number)
                if header is None:
                    if document.get("wcs_plan") != VERSION:
                        raise PlanError("%s is not a plan (version %d): its first line has no \"wcs_plan\": %d"
                                        % (path, VERSION, VERSION))
                    header = document
                footer = document
    except OSError as exc:
        raise LocalFileError("cannot read the plan %s: %s" % (path, exc.strerror or exc)) from None
    except UnicodeDecodeError:
        raise PlanError("%s is not a plan: not UTF-8 text" % path) from None
    if header is None:
        raise PlanError("%s is empty: no plan" % path)
    if footer is None or footer is header or footer.get("end") is not True:
        raise PlanError("%s was cut short: its last line is not the plan's end; make the plan again" % path)
    return header, _actions(path)


def _parse(line: str, path: str, number: int) -> Dict[str, Any]:
    try:
        document = json.loads(line)
    except ValueError:
        raise PlanError("%s line %d: not JSON" % (path, number)) from None
    if not isinstance(document, dict):
        raise PlanError("%s line %d: not a JSON object" % (path, number))
    return document


def _actions(path: str) -> Iterator[Dict[str, Any]]:
    with open(path, encoding="utf-8") as fp:
        first = True
        for number, line in enumerate(fp, 1):
            if not line.strip():
                continue
            document = _parse(line, path, number)
            if first:
                first = False
                continue
            if document.get("end") is True:
                return
            try:
                yield action(str(document.get("op")), str(document.get("rel") or ""), str(document.get("reason") or ""),
                             document.get("src"), document.get("dst"))
            except InvalidArgument as exc:
                raise PlanError("%s line %d: %s" % (path, number, exc)) from None


def differences(planned: Optional[Dict[str, Any]], now: Optional[Dict[str, Any]]) -> Optional[str]:
    """What differs between the facts a plan relied on and the facts now (None: nothing it recorded).

    Only the facts the plan recorded are compared (a batch line records none but names).
    """
    if not planned or now is None:
        return None
    if planned.get("exists") is False:
        return None if now.get("exists") is False else "%s exists now" % describe(planned)
    recorded = [name for name in ("size", "hash", "etag", "md5", "mtime_ns") if planned.get(name) is not None]
    if not recorded:
        return None
    if now.get("exists") is False:
        return "%s is gone" % describe(planned)
    for name in recorded:
        if now.get(name) != planned[name]:
            return "%s: %s was %r, is %r" % (describe(planned), name, planned[name], now.get(name))
    if planned.get("etag") is None and planned.get("mtime") is not None and now.get("mtime") != planned["mtime"]:
        return "%s: modified at %s, not %s" % (describe(planned), now.get("mtime"), planned["mtime"])
    return None
