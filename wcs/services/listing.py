"""Listings that stream: pages fetched one ahead in a background thread, items handed out one by one.

Memory stays at two pages whatever the bucket size: :func:`prefetched` produces the next page while
the caller works through the current one, and :class:`ObjectListing` turns pages into items (the
service's dicts, or typed :class:`~wcs.commons.result.ObjectInfo`).
"""

from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from typing import Any, Generator, Iterable, Iterator, Optional, TypeVar, cast

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


class ObjectListing(Iterator[Any]):
    """An iterator over the items of consecutive list pages that tells which page they came from.

    ``reqid`` is the ``X-Reqid`` of the page whose items were reached last (after a complete
    iteration, the last page of the listing; None before the first page); ``pages`` counts the
    pages reached. ``close()`` stops the background fetch early.

    Raises:
        ServiceError, NetworkError: from ``next()``, when a failed page is reached.
    """

    def __init__(self, pages: Iterable[Result], typed: bool = False) -> None:
        self.reqid: Optional[str] = None
        self.pages = 0
        self._typed = typed
        self._items = self._generate(pages)

    def _generate(self, pages: Iterable[Result]) -> Generator[Any, None, None]:
        with closing(prefetched(pages)) as fetched:
            for page in fetched:
                self.pages += 1
                self.reqid = page.reqid
                page.raise_for_status()
                items = (page.body.get("items") or []) if isinstance(page.body, dict) else ()
                if self._typed:
                    yield from (ObjectInfo.from_item(item) for item in items)
                else:
                    yield from items

    def __iter__(self) -> "ObjectListing":
        return self

    def __next__(self) -> Any:
        return next(self._items)

    def close(self) -> None:
        self._items.close()
