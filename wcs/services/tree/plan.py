"""What to do with each file of a tree: a streaming merge of two key-sorted listings.

The source and the destination are each a stream of ``(rel, item)`` sorted by ``rel`` (the path
below the root or prefix): a :class:`~.localtree.LocalTree` walk and a ``/list`` listing, which
are in the same order (:mod:`.localtree`). :class:`Planner` walks both at once like the merge step
of a merge sort, so memory stays flat whatever the number of files, and emits one :class:`Action`
per path, in key order. What a re-sync mostly finds, files of one size on both sides, is handed out
in :class:`Compares` batches instead (:meth:`Planner.steps`): a triple per file, and listing items
read untyped (:func:`listed_entries`), so that an unchanged file costs no object of its own.

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
from typing import TYPE_CHECKING, Any, Dict, Generator, Iterable, Iterator, List, Optional, Tuple, Union, cast

from wcs.commons.errors import WcsError
from wcs.commons.result import ObjectInfo
from wcs.services.listing import Listed
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


def listed_entries(lists: Iterable[List[Dict[str, Any]]], prefix: str) -> Iterator[Tuple[str, Listed]]:
    """What :func:`remote_entries` gives, from untyped items (:meth:`~wcs.services.listing.ObjectListing.item_lists`):
    ``(key without prefix, Listed)``, typed only when an action is made of it (:func:`typed`).

    Each item's key, size and hash are read as :meth:`~wcs.commons.result.ObjectInfo.from_item` reads
    them (the wire's ``fsize`` is text)."""
    cut = len(prefix)
    new, listed = tuple.__new__, Listed
    for items in lists:
        for item in items:
            key = item.get("key")
            if type(key) is not str:
                key = _key(item)
            if key[:cut] != prefix:
                raise ListingOrderError("the listing of %r returned %r, outside the prefix" % (prefix, key))
            size: Any = item.get("fsize")
            if type(size) is not int:
                try:
                    size = int(size) or 0
                except (TypeError, ValueError):
                    size = 0
            rel = key[cut:]
            if not rel or (rel[-1] == "/" and not size):
                continue  # "folder" placeholder objects: no file to make, nothing to delete
            etag = item.get("hash")
            yield rel, new(listed, (size, etag if type(etag) is str else str(etag or ""), item))


def _key(item: Dict[str, Any]) -> str:
    """An item's key when it is not plain text, as ObjectInfo.from_item reads it."""
    key = item.get("key", item.get("name"))
    return key if type(key) is str else str(key or "")


def typed(remote: Any) -> Any:
    """The :class:`~wcs.commons.result.ObjectInfo` of a listed object (:class:`~wcs.services.listing.Listed`
    typed); anything else as it is."""
    return remote.info() if type(remote) is Listed else remote


def local_entries(files: Iterable[LocalFile]) -> Iterator[Entry]:
    for f in files:
        yield f.rel, f


class Compares(List[Tuple[str, Any, Any]]):
    """Files both sides hold with one size, to be decided by etag (a ``COMPARE`` each), in key order:
    ``(rel, local, remote)`` triples. :meth:`Planner.steps` hands them out :data:`COMPARE_BATCH` at a
    time, so that a tree of unchanged files costs a list entry per file, not an :class:`Action`."""


COMPARE_BATCH = 500  # files of equal size handed out (and looked up in the etag cache) at once


class Planner:
    """The actions for one run, in key order (see the module docstring).

    Args:
        direction: :data:`UPLOAD` (source local, destination remote), :data:`DOWNLOAD`, or
            :data:`REMOTE` (both remote).
        source, destination: ``(rel, item)`` streams sorted by ``rel``; ``destination`` None when
            nothing needs to be known about it (``put -r`` without ``skip_existing``).
        case_claims: downloads into a case-insensitive folder: the keys seen so far by folded case
            (closed when the plan ends).

    Raises:
        ListingOrderError: from the iteration, when a stream is not in key order.
    """

    def __init__(self, direction: str, source: Iterable[Entry], destination: Optional[Iterable[Entry]], *,
                 sync: bool = True, skip_existing: bool = False, size_only: bool = False, delete: bool = False,
                 filters: Optional[FilterRules] = None, case_claims: Optional["CaseClaims"] = None) -> None:
        self.direction = direction
        self.source = iter(source)
        self.destination = iter(destination if destination is not None else ())
        self.sync = sync
        self.skip_existing = skip_existing
        self.size_only = size_only
        self.delete = delete
        self.filters = filters or FilterRules()
        # Rules that let everything through are not asked about each path.
        self._included = None if type(self.filters) is FilterRules and not self.filters.rules else self.filters.included
        self.case_claims = case_claims
        # An upload's files of equal size on both sides go to the etag comparison without a call per file.
        self._inline = direction == UPLOAD and sync and not skip_existing and not size_only and self._included is None
        self.source_count = 0  # source files taking part (filters applied)
        self.done = False  # both streams ran to their end

    def __iter__(self) -> Iterator[Action]:
        """One :class:`Action` per path (a ``COMPARE`` for each file of :meth:`steps`' batches)."""
        steps = self.steps()
        try:
            for step in steps:
                if type(step) is Compares:
                    for rel, local, remote in step:
                        yield Action(COMPARE, rel, "compare", local, typed(remote))
                else:
                    yield cast(Action, step)
        finally:
            steps.close()

    def steps(self) -> Generator[Union[Action, Compares], None, None]:
        """The plan in key order: an :class:`Action` per path, but the files to compare by etag, which come
        in :class:`Compares` batches (a batch is handed out before any action that follows it)."""
        try:
            yield from self._merge()
        finally:
            if self.case_claims is not None:
                self.case_claims.close()

    def _merge(self) -> Generator[Union[Action, Compares], None, None]:
        source, destination, inline = self.source, self.destination, self._inline
        end: Any = (None, None)
        srel: Any
        drel: Any
        rel: Any
        srel, here = next(source, end)
        drel, there = next(destination, end)
        batch = Compares()
        step: Any
        # The order checks are made here, as each entry is taken (no generator layer per stream).
        while srel is not None or drel is not None:
            if srel == drel:  # on both sides: what a re-sync mostly finds
                rel = srel
                if inline and here.size == there.size:
                    self.source_count += 1
                    batch.append((rel, here, there))
                    step = batch if len(batch) >= COMPARE_BATCH else None
                else:
                    step = self._decide(rel, here, there)
                srel, here = next(source, end)
                if srel is not None and srel <= rel:
                    raise _disorder("source listing", srel, rel)
                drel, there = next(destination, end)
                if drel is not None and drel <= rel:
                    raise _disorder("destination listing", drel, rel)
            elif drel is None or (srel is not None and srel < drel):
                rel = srel
                step = self._decide(rel, here, None)
                srel, here = next(source, end)
                if srel is not None and srel <= rel:
                    raise _disorder("source listing", srel, rel)
            else:
                rel = drel
                step = self._decide(rel, None, there)
                drel, there = next(destination, end)
                if drel is not None and drel <= rel:
                    raise _disorder("destination listing", drel, rel)
            if step is None:
                continue
            if type(step) is tuple:  # a comparison that _decide made
                batch.append(step)
                if len(batch) < COMPARE_BATCH:
                    continue
                step = batch
            if step is not batch:
                if batch:
                    yield batch  # what came before the action, first
                    batch = Compares()
                yield step
                continue
            yield batch
            batch = Compares()
        if batch:
            yield batch
        self.done = True

    def _act(self, op: str, rel: str, reason: str, src: Any, dst: Any) -> Action:
        if self.direction == REMOTE:
            return Action(op, rel, reason, None, typed(src if src is not None else dst))
        if self.direction == UPLOAD:
            return Action(op, rel, reason, src, typed(dst))
        return Action(op, rel, reason, dst, typed(src))

    def _decide(self, rel: str, src: Any, dst: Any) -> Union[Action, Tuple[str, Any, Any], None]:
        """The action for ``rel``, or for a comparison by etag the ``(rel, local, remote)`` of :class:`Compares`."""
        if self._included is not None and not self._included(rel):
            return self._act(SKIP, rel, "excluded", src, dst) if src is not None else None
        if src is None:
            return self._act(DELETE, rel, "extra", src, dst) if self.delete else None
        self.source_count += 1
        if self.direction == DOWNLOAD:
            try:
                key_segments(rel)
            except UnsafeKey as exc:
                return self._act(REFUSE, rel, "unsafe key: %s" % exc, src, dst)
            first = self.case_claims.claim(rel) if self.case_claims is not None else None
            if first is not None:
                return self._act(REFUSE, rel, "differs only in case from %r: the local folder ignores case, so both "
                                 "would be one file (%r is kept)" % (first, first), src, dst)
        if dst is None:
            return self._act(TRANSFER, rel, "missing" if self.sync or self.skip_existing else "copy", src, dst)
        if self.skip_existing:
            return self._act(SKIP, rel, "exists", src, dst)
        if not self.sync:
            return self._act(TRANSFER, rel, "replace", src, dst)
        if src.size != dst.size:
            return self._act(TRANSFER, rel, "size", src, dst)
        if self.size_only:
            return self._act(SKIP, rel, "same-size", src, dst)
        if self.direction == REMOTE:
            same = bool(src.hash) and src.hash == dst.hash
            return self._act(SKIP if same else TRANSFER, rel, "same" if same else "hash", src, dst)
        return (rel, src, dst) if self.direction == UPLOAD else (rel, dst, src)


def _disorder(what: str, rel: str, previous: str) -> ListingOrderError:
    return ListingOrderError("the %s is not in key order (%r after %r): cannot compare the trees"
                             % (what, rel, previous))
