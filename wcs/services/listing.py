"""Listings that stream: items handed out one by one, in key order, while the next pages are fetched.

:class:`ObjectListing` turns slices of pages (a page and its items that belong to the listing) into
items: the service's dicts, or typed :class:`~wcs.commons.result.ObjectInfo`; with ``prefixes``, the
common prefixes of a listing by directory too, as :class:`CommonPrefix`, in the order the page gives
them. The slices come from one chain of pages, fetched one ahead in a background thread
(:func:`prefetched`, :func:`page_slices`: two pages in memory), or from many key ranges fetched at once
(:mod:`wcs.services.listing_ranges`: a bounded number of pages in memory). Either way memory does not
grow with the bucket.

:data:`ListFunction` is the one shape every whole listing of the engine is asked through (the tree
runs, ``rm``, ``du``, ``ls``): the facade hands its own listing method to them, so how a listing is
produced (key ranges in parallel, :meth:`~wcs.services.bucket.BucketManager.slices`) is decided in
one place.
"""

from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from typing import (
    Any,
    Dict,
    Generator,
    Iterable,
    Iterator,
    List,
    NamedTuple,
    Optional,
    Protocol,
    Tuple,
    TypeVar,
    Union,
    cast,
)

from wcs.commons.errors import InvalidArgument
from wcs.commons.result import ObjectInfo, Result

T = TypeVar("T")
_END = object()


def prefetched(items: Iterable[T]) -> Generator[T, None, None]:
    """Yield what ``items`` yields, in order, producing item n+1 in a background thread while the
    caller holds item n.

    At most one item is produced ahead, so memory stays bounded. An exception raised while producing
    an item is raised here when that item is reached. Closing this generator early (``break``, garbage
    collection) waits for the item being produced, drops it and closes ``items``: no thread outlives it.
    """
    source = iter(items)
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="wcs-prefetch")
    try:
        ahead = pool.submit(next, source, _END)
        while True:
            item = ahead.result()
            if item is _END:
                return
            ahead = pool.submit(next, source, _END)
            yield cast(T, item)
    finally:
        pool.shutdown(wait=True)
        close = getattr(source, "close", None)
        if close is not None:
            close()


Slice = Tuple[Result, List[Dict[str, Any]]]


def page_slices(pages: Iterable[Result]) -> Generator[Slice, None, None]:
    """Each page of one chain with all its items, the next page fetched while this one is used."""
    with closing(prefetched(pages)) as fetched:
        for page in fetched:
            items = (page.body.get("items") or []) if isinstance(page.body, dict) else []
            yield page, items


class CommonPrefix(NamedTuple):
    """A "directory" of a listing by directory (``mode`` 0 or 1): ``prefix`` ends with ``/``."""

    prefix: str


Entry = Union[ObjectInfo, CommonPrefix]
"""What a listing by directory yields: an object or a sub-directory."""


class ListFunction(Protocol):
    """``listing(bucket, prefix, recursive=True)``: every object whose key starts with ``prefix`` as
    typed :class:`~wcs.commons.result.ObjectInfo` in key order (``recursive``), or the objects and
    :class:`CommonPrefix` directories of the one directory ``prefix`` (directories first). The
    iterator raises ``ServiceError``/``NetworkError`` when a page fails and has ``close()``."""

    def __call__(self, bucket: str, prefix: str = "", *, recursive: bool = True) -> "ObjectListing":
        ...  # pragma: no cover - a protocol


class ObjectListing(Iterator[Any]):
    """An iterator over the items of list pages, in key order, that tells which page they came from.

    ``mode`` 0 or 1 (a listing by directory): the common prefixes come too, as :class:`CommonPrefix`,
    after the files (0) or before them (1), as the service orders them. ``reqid`` is the
    ``X-Reqid`` of the page whose items were reached last (after a complete
    iteration, the last page of the listing; None before the first page); ``pages`` counts the
    pages (or parts of pages) reached. ``close()`` stops the fetching early.

    Raises:
        ServiceError, NetworkError: from ``next()``, when a failed page is reached.
    """

    def __init__(self, slices: Iterable[Slice], typed: bool = False, mode: Optional[int] = None) -> None:
        self.reqid: Optional[str] = None
        self.pages = 0
        self._typed = typed
        self._mode = mode
        self._pages = self._read(slices)
        self._items = self._generate()

    def _read(self, slices: Iterable[Slice]) -> Generator[Slice, None, None]:
        source = iter(slices)
        try:
            for page, items in source:
                self.pages += 1
                self.reqid = page.reqid
                page.raise_for_status()
                yield page, items
        finally:
            close = getattr(source, "close", None)
            if close is not None:
                close()

    def _generate(self) -> Generator[Any, None, None]:
        for page, items in self._pages:
            if self._mode not in (0, 1):
                yield from (map(ObjectInfo.from_item, items) if self._typed else items)
                continue
            body = page.body if isinstance(page.body, dict) else {}
            common = [CommonPrefix(str(name)) for name in body.get("commonPrefixes") or []]
            entries: List[Any] = [ObjectInfo.from_item(item) for item in items] if self._typed else items
            # Across the pages the service gives every directory before every file (mode 1) or
            # the other way round (mode 0); one page holds the end of one kind and the start of
            # the other, so the page's two lists are joined in the listing's order.
            first, then = (common, entries) if self._mode == 1 else (entries, common)
            yield from first
            yield from then

    @property
    def flat(self) -> bool:
        """Objects only (no :class:`CommonPrefix`), none handed out yet: :meth:`item_lists` may be asked."""
        return self._mode not in (0, 1) and not self.pages

    def item_lists(self) -> Iterator[List[Dict[str, Any]]]:
        """Instead of iterating: the service's item dicts, untyped, a list per page (or part of a page)
        as it is reached, for a consumer that types only the objects it keeps (the tree planner:
        :func:`~wcs.services.tree.plan.listed_entries`). Only while :attr:`flat`.

        Raises:
            InvalidArgument: not :attr:`flat` (a listing by directory, or one already iterated).
        """
        if not self.flat:
            raise InvalidArgument("item_lists() is for a listing of objects not iterated yet")
        return (items for _, items in self._pages)

    def __iter__(self) -> "ObjectListing":
        return self

    def __next__(self) -> Any:
        return next(self._items)

    def close(self) -> None:
        self._items.close()
        self._pages.close()


class Listed(NamedTuple):
    """A listing item before it is typed: what a comparison needs, and the item.

    ``size`` and ``hash`` are read as :meth:`~wcs.commons.result.ObjectInfo.from_item` reads them;
    :meth:`info` types the item (only for an object that is acted on: a tree of unchanged objects
    is compared without an :class:`~wcs.commons.result.ObjectInfo` per object;
    :func:`wcs.services.tree.plan.listed_entries` makes them).
    """

    size: int
    hash: str
    item: Dict[str, Any]

    def info(self) -> ObjectInfo:
        return ObjectInfo.from_item(self.item)
