"""What to do with each file of a tree: a streaming merge of two key-sorted listings.

The source and the destination are each a stream of ``(rel, item)`` sorted by ``rel`` (the path
below the root or prefix): a :class:`~.localtree.LocalTree` walk and a ``/list`` listing, which
are in the same order (:mod:`.localtree`). :class:`Planner` walks both at once like the merge step
of a merge sort, so memory stays flat whatever the number of files, and emits one :class:`Action`
per path, in key order.

The decision rule (``sync``):

1. not in the destination: transfer, reason ``missing``;
2. sizes differ: transfer, reason ``size``;
3. ``size_only``: skip, reason ``same-size``;
4. otherwise compare etags (``compare``; the engine computes or looks up the local etag): equal -
   skip, reason ``same``; different - transfer, reason ``hash``. Between two bucket prefixes
   (:data:`REMOTE`) both listings carry the etags, so the plan decides at once (an etag missing on
   either side counts as different).

``put -r`` / ``get -r`` (``sync=False``) transfer every file (reason ``copy``, or ``replace`` when
the destination was listed and has it), or with ``skip_existing`` skip those the destination has
(reason ``exists``) whatever their content.
Source files excluded by the filters are skipped (``excluded``); destination files the source lacks
are deleted with ``delete`` (reason ``extra``), unless excluded (filters protect them). Keys that
cannot be local file names (``../x``...) are refused (``unsafe``) when downloading, and so is a key
that differs only in case from an earlier one when the local folder ignores case (``case_claims``,
:mod:`.casefold`): it would overwrite the first one's file.
"""

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Optional, Tuple

from wcs.commons.errors import WcsError
from wcs.commons.result import ObjectInfo
from wcs.services.tree.filters import FilterRules
from wcs.services.tree.localtree import LocalFile
from wcs.services.tree.safepath import UnsafeKey, key_segments

if TYPE_CHECKING:  # pragma: no cover - the claims (and sqlite3) come with a download run, not with the client
    from wcs.services.tree.casefold import CaseClaims

UPLOAD = "upload"
DOWNLOAD = "download"
REMOTE = "remote"  # between two bucket prefixes, copied by the service

# Action ops.
TRANSFER = "transfer"
COMPARE = "compare"
SKIP = "skip"
DELETE = "delete"
REFUSE = "refuse"

Entry = Tuple[str, Any]


class ListingOrderError(WcsError):
    """A listing is not in key order, so it cannot be merged (nothing is deleted after this)."""


@dataclass(frozen=True)
class Action:
    """One decision: ``op`` (transfer, compare, skip, delete, refuse), why, and the two sides.

    Between two bucket prefixes (:data:`REMOTE`) ``remote`` is the source object (the destination's
    for a deletion) and ``local`` is None.
    """

    op: str
    rel: str
    reason: str
    local: Optional[LocalFile] = None
    remote: Optional[ObjectInfo] = None

    def source_size(self, direction: str) -> int:
        """Bytes a transfer of this file moves."""
        item = self.local if direction == UPLOAD else self.remote
        return item.size if item is not None else 0


def remote_entries(objects: Iterable[ObjectInfo], prefix: str) -> Iterator[Entry]:
    """``(key without prefix, info)`` for each listed object; folder markers (``a/``, empty) left out."""
    for info in objects:
        if not info.key.startswith(prefix):
            raise ListingOrderError("the listing of %r returned %r, outside the prefix" % (prefix, info.key))
        rel = info.key[len(prefix):]
        if not rel or (rel.endswith("/") and info.size == 0):
            continue  # "folder" placeholder objects: no file to make, nothing to delete
        yield rel, info


def local_entries(files: Iterable[LocalFile]) -> Iterator[Entry]:
    for f in files:
        yield f.rel, f


def _ordered(entries: Iterable[Entry], what: str) -> Iterator[Entry]:
    previous: Optional[str] = None
    for rel, item in entries:
        if previous is not None and rel <= previous:
            raise ListingOrderError("the %s is not in key order (%r after %r): cannot compare the trees"
                                    % (what, rel, previous))
        previous = rel
        yield rel, item


class Planner:
    """The actions for one run, in key order (see the module docstring).

    Args:
        direction: :data:`UPLOAD` (source local, destination remote), :data:`DOWNLOAD`, or
            :data:`REMOTE` (both remote).
        source, destination: ``(rel, item)`` streams sorted by ``rel``; ``destination`` None when
            nothing needs to be known about it (``put -r`` without ``skip_existing``).
        case_claims: downloads into a case-insensitive folder: the keys seen so far by folded case
            (closed when the plan ends).
    """

    def __init__(self, direction: str, source: Iterable[Entry], destination: Optional[Iterable[Entry]], *,
                 sync: bool = True, skip_existing: bool = False, size_only: bool = False, delete: bool = False,
                 filters: Optional[FilterRules] = None, case_claims: Optional["CaseClaims"] = None) -> None:
        self.direction = direction
        self.source = _ordered(source, "source listing")
        self.destination = _ordered(destination if destination is not None else (), "destination listing")
        self.sync = sync
        self.skip_existing = skip_existing
        self.size_only = size_only
        self.delete = delete
        self.filters = filters or FilterRules()
        # Rules that let everything through are not asked about each path.
        self._included = None if type(self.filters) is FilterRules and not self.filters.rules else self.filters.included
        self.case_claims = case_claims
        self.source_count = 0  # source files taking part (filters applied)
        self.done = False  # both streams ran to their end

    def __iter__(self) -> Iterator[Action]:
        try:
            yield from self._merge()
        finally:
            if self.case_claims is not None:
                self.case_claims.close()

    def _merge(self) -> Iterator[Action]:
        end = object()
        src: Any = next(self.source, end)
        dst: Any = next(self.destination, end)
        while src is not end or dst is not end:
            if dst is end or (src is not end and src[0] < dst[0]):
                action = self._decide(src[0], src[1], None)
                src = next(self.source, end)
            elif src is end or dst[0] < src[0]:
                action = self._decide(dst[0], None, dst[1])
                dst = next(self.destination, end)
            else:
                action = self._decide(src[0], src[1], dst[1])
                src = next(self.source, end)
                dst = next(self.destination, end)
            if action is not None:
                yield action
        self.done = True

    def _sides(self, src: Any, dst: Any) -> Tuple[Optional[LocalFile], Optional[ObjectInfo]]:
        if self.direction == REMOTE:
            return None, src if src is not None else dst
        return (src, dst) if self.direction == UPLOAD else (dst, src)

    def _decide(self, rel: str, src: Any, dst: Any) -> Optional[Action]:
        local, remote = self._sides(src, dst)
        if self._included is not None and not self._included(rel):
            return Action(SKIP, rel, "excluded", local, remote) if src is not None else None
        if src is None:
            return Action(DELETE, rel, "extra", local, remote) if self.delete else None
        self.source_count += 1
        if self.direction == DOWNLOAD:
            try:
                key_segments(rel)
            except UnsafeKey as exc:
                return Action(REFUSE, rel, "unsafe key: %s" % exc, local, remote)
            first = self.case_claims.claim(rel) if self.case_claims is not None else None
            if first is not None:
                return Action(REFUSE, rel, "differs only in case from %r: the local folder ignores case, so both "
                              "would be one file (%r is kept)" % (first, first), local, remote)
        if dst is None:
            return Action(TRANSFER, rel, "missing" if self.sync or self.skip_existing else "copy", local, remote)
        if self.skip_existing:
            return Action(SKIP, rel, "exists", local, remote)
        if not self.sync:
            return Action(TRANSFER, rel, "replace", local, remote)
        if src.size != dst.size:
            return Action(TRANSFER, rel, "size", local, remote)
        if self.size_only:
            return Action(SKIP, rel, "same-size", local, remote)
        if self.direction == REMOTE:
            same = bool(src.hash) and src.hash == dst.hash
            return Action(SKIP, rel, "same", local, remote) if same else Action(TRANSFER, rel, "hash", local, remote)
        return Action(COMPARE, rel, "compare", local, remote)
