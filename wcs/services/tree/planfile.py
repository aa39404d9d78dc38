"""``sync --plan``: a tree run's decisions written as a plan (:mod:`wcs.services.plans`).

The tree engine runs as a dry run (nothing changes; files of equal size are still compared by
etag, through the cache), and :class:`PlanObserver` writes each final decision it reports with the
facts of both sides: the local file's size and modification time, the object's size, hash and put
time, or the absence the decision relied on. A planned deletion is reported by the engine by path
only, so its facts are read at that moment (a ``stat`` of the object, an ``lstat`` of the file).

Between two prefixes (:data:`~.plan.REMOTE`) an action carries the source object only: a copy's
destination is absent for reason ``missing``, else read by a ``stat``; a skipped object's
destination is the same object as its source (equal size and etag, which is why it was skipped).
"""

import os
from dataclasses import replace
from typing import Any, Callable, Dict, Optional

from wcs.commons.http import Result
from wcs.commons.result import ObjectInfo
from wcs.services.plans import PlanWriter, local_facts, stat_facts, wcs_facts
from wcs.services.tree.model import Remote
from wcs.services.tree.plan import DELETE, REFUSE, REMOTE, SKIP, TRANSFER, UPLOAD, Action

Stat = Callable[[str, str], Result]


class PlanObserver:
    """A tree observer writing a plan; the calls are passed on to ``inner`` (the progress display).

    Args:
        writer: the open plan. direction: ``upload``, ``download`` or ``remote``.
        bucket, prefix: the remote side, the destination between two prefixes (``prefix`` with its
            ``/``). root: the local folder. source: the source prefix between two prefixes.
        stat: ``stat(bucket, key)`` for the facts of objects planned for deletion (and copies' destinations).
    """

    def __init__(self, writer: PlanWriter, direction: str, bucket: str, prefix: str, root: str, stat: Stat,
                 inner: Any = None, source: Optional[Remote] = None) -> None:
        self.writer = writer
        self.direction = direction
        self.bucket = bucket
        self.prefix = prefix
        self.root = os.path.abspath(root)
        self.stat = stat
        self.inner = inner
        self.source = source
        if inner is not None and callable(getattr(inner, "on_total", None)):
            self.on_total = inner.on_total  # only then: it costs the engine a second walk

    def _pass(self, method: str, *args: Any) -> None:
        call = getattr(self.inner, method, None)
        if call is not None:
            call(*args)

    def _local(self, action: Action) -> Dict[str, Any]:
        path = os.path.join(self.root, *action.rel.split("/"))
        f = action.local
        return local_facts(path, f.size, f.mtime_ns) if f is not None else local_facts(path)

    def _remote(self, action: Action) -> Dict[str, Any]:
        return wcs_facts(self.bucket, self.prefix + action.rel, action.remote)

    def _stat(self, rel: str) -> Dict[str, Any]:
        key = self.prefix + rel
        result = self.stat(self.bucket, key)
        info = ObjectInfo.from_item(result.data, key) if result.ok and isinstance(result.data, dict) else None
        return wcs_facts(self.bucket, key, info)

    def _deleted(self, rel: str) -> Dict[str, Any]:
        if self.direction in (UPLOAD, REMOTE):
            return self._stat(rel)
        return stat_facts(os.path.join(self.root, *rel.split("/")))

    def _between_prefixes(self, action: Action) -> None:
        assert self.source is not None
        src = wcs_facts(self.source.bucket, self.source.key_prefix + action.rel, action.remote)
        if action.op == TRANSFER:
            dst: Optional[Dict[str, Any]] = (self._remote(replace(action, remote=None)) if action.reason == "missing"
                                             else self._stat(action.rel))
            self.writer.add("copy", action.rel, action.reason, src, dst)
        elif action.op == SKIP:
            same = action.reason == "same" and action.remote is not None
            dst = dict(src, bucket=self.bucket, key=self.prefix + action.rel, put_time=None) if same else None
            self.writer.add("skip", action.rel, action.reason, src, dst)
        elif action.op == DELETE:
            self.writer.add("delete", action.rel, action.reason, None, self._deleted(action.rel))

    def on_action(self, action: Action) -> None:
        self._pass("on_action", action)
        if self.direction == REMOTE:
            self._between_prefixes(action)
            return
        upload = self.direction == UPLOAD
        src, dst = (self._local(action), self._remote(action)) if upload else (self._remote(action),
                                                                                  self._local(action))
        if action.op == TRANSFER:
            self.writer.add(self.direction, action.rel, action.reason, src, dst,
                            moves=action.source_size(self.direction))
        elif action.op == SKIP:
            self.writer.add("skip", action.rel, action.reason, src, dst)
        elif action.op == REFUSE:
            self.writer.add("skip", action.rel, "refused: %s" % action.reason, src, dst)
        elif action.op == DELETE:
            self.writer.add("delete", action.rel, action.reason, None, self._deleted(action.rel))

    def on_done(self, action: Action, error: Optional[str]) -> None:
        self._pass("on_done", action, error)

    def on_note(self, where: str, message: str) -> None:
        self._pass("on_note", where, message)

    def on_error(self, where: str, message: str) -> None:
        self._pass("on_error", where, message)
