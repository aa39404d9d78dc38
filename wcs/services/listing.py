"""Listings that stream: items handed out one by one, in key order, while the next pages are fetched.

:class:`ObjectListing` turns slices of pages (a page and its items that belong to the listing) into
items: the service's dicts, or typed :class:`~wcs.commons.result.ObjectInfo`. The slices come from
one chain of pages, fetched one ahead in a background thread (:func:`prefetched`, :func:`page_slices`:
two pages in memory), or from many key ranges fetched at once (:mod:`wcs.services.listing_ranges`:
a bounded number of pages in memory). Either way memory does not grow with the bucket.
"""

from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from typing import Any, Dict, Generator, Iterable, Iterator, List, Optional, Tuple, TypeVar, cast

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


class ObjectListing(Iterator[Any]):
    """An iterator over the items of list pages, in key order, that tells which page they came from.

    ``reqid`` is the ``X-Reqid`` of the page whose items were reached last (after a complete
    iteration, the last page of the listing; None before the first page); ``pages`` counts the
    pages (or parts of pages) reached. ``close()`` stops the fetching early.

    Raises:
        ServiceError, NetworkError: from ``next()``, when a failed page is reached.
    """

    def __init__(self, slices: Iterable[Slice], typed: bool = False) -> None:
        self.reqid: Optional[str] = None
        self.pages = 0
        self._typed = typed
        self._items = self._generate(slices)

    def _generate(self, slices: Iterable[Slice]) -> Generator[Any, None, None]:
        source = iter(slices)
        try:
            for page, items in source:
                self.pages += 1
                self.reqid = page.reqid
                page.raise_for_status()
                if self._typed:
                    yield from map(ObjectInfo.from_item, items)
                else:
                    yield from items
        finally:
            close = getattr(source, "close", None)
            if close is not None:
                close()

    def __iter__(self) -> "ObjectListing":
        return self

    def __next__(self) -> Any:
        return next(self._items)

    def close(self) -> None:
        self._items.close()
