"""Resource management on the management domain: stat, delete, move, copy, retention, listings, usage.

Each call is one signed request whose answer comes back as a :class:`~wcs.commons.result.Result`;
only caller mistakes (a ``limit`` outside 1..1000, an unknown ``mode``) raise. Whole flat listings
(:meth:`BucketManager.iter_objects`, :meth:`BucketManager.list_all`) given a pool list key ranges in
parallel and hand out the items in key order (:mod:`wcs.services.listing_ranges`); a listing by
directory (``mode``), filtered by upload time, or without a pool of at least two threads is one chain
of pages, the next one fetched while the caller works through the current one
(:mod:`wcs.services.listing`).
"""

import logging
from contextlib import closing
from typing import Any, Dict, Generator, Iterator, List, Optional, Union

from wcs.commons.auth import Auth
from wcs.commons.errors import InvalidArgument
from wcs.commons.http import HttpClient, Result
from wcs.commons.settings import Endpoints
from wcs.commons.util import entry, urlsafe_base64_encode
from wcs.services.base import Service, form_body
from wcs.services.listing import ObjectListing, Slice, page_slices
from wcs.services.listing_ranges import RangeListing
from wcs.services.scheduler import Scheduler

log = logging.getLogger(__name__)

MAX_LIMIT = 1000
FLAT_MODE = 3  # the official SDK's config value for "no mode parameter": a flat listing
MAX_LIST_PARALLEL = 16  # requests of one listing at once (the pool's threads, up to this)


def check_limit(limit: Any) -> int:
    """``limit`` as an int in 1..1000.

    Raises:
        InvalidArgument: not an integer, or out of range.
    """
    try:
        value = int(limit)
    except (TypeError, ValueError):
        raise InvalidArgument("invalid limit %r: must be an integer from 1 to %d" % (limit, MAX_LIMIT)) from None
    if isinstance(limit, bool) or not 1 <= value <= MAX_LIMIT:
        raise InvalidArgument("invalid limit %r: must be from 1 to %d" % (limit, MAX_LIMIT))
    return value


def check_mode(mode: Any) -> Optional[int]:
    """``mode`` as sent: 0 or 1, or None (omitted) for the flat listing (None or 3).

    Raises:
        InvalidArgument: any other value.
    """
    if mode is None or mode == "":
        return None
    try:
        value = int(mode)
    except (TypeError, ValueError):
        value = -1
    if value == FLAT_MODE:
        return None
    if value not in (0, 1):
        raise InvalidArgument("invalid mode %r: 0 (files first), 1 (directories first) or 3 (flat)" % (mode,))
    return value


class BucketManager(Service):
    """Object and bucket management (the official ``BucketManager``).

    Args:
        scheduler: the pool whole listings fetch their pages on, in parallel (None: one chain of pages).
    """

    def __init__(self, http: HttpClient, auth: Optional[Auth], endpoints: Endpoints,
                 scheduler: Optional[Scheduler] = None) -> None:
        super().__init__(http, auth, endpoints)
        self.scheduler = scheduler

    def stat(self, bucket: str, key: str) -> Result:
        """Metadata of one object: ``fsize``, ``hash``, ``mimeType``, ``putTime``..."""
        return self.mgr_get("/stat/" + entry(bucket, key))

    def delete(self, bucket: str, key: str) -> Result:
        """Delete one object."""
        return self.mgr_post("/delete/" + entry(bucket, key))

    def move(self, srcbucket: str, srckey: str, dstbucket: str, dstkey: Optional[str] = None) -> Result:
        """Move (rename) an object; ``dstkey`` defaults to ``srckey``. An existing destination is replaced."""
        return self.mgr_post("/move/%s/%s" % (entry(srcbucket, srckey), entry(dstbucket, dstkey or srckey)))

    def copy(self, srcbucket: str, srckey: str, dstbucket: str, dstkey: Optional[str] = None) -> Result:
        """Copy an object; ``dstkey`` defaults to ``srckey``."""
        return self.mgr_post("/copy/%s/%s" % (entry(srcbucket, srckey), entry(dstbucket, dstkey or srckey)))

    def setdeadline(self, bucket: str, key: str, deadline: Union[int, str],
                    relevance: Optional[int] = None) -> Result:
        """Keep the object ``deadline`` days (0: delete soon, -1: forever).

        Raises:
            InvalidArgument: ``deadline`` is not an integer (an int or a numeric string).
        """
        try:
            days = int(str(deadline).strip())
        except ValueError:
            raise InvalidArgument("invalid deadline %r: a number of days, or -1" % (deadline,)) from None
        if days < -1:
            raise InvalidArgument("invalid deadline %r: a number of days, or -1" % (deadline,))
        pairs = [("bucket", urlsafe_base64_encode(bucket)), ("key", urlsafe_base64_encode(key)),
                 ("deadline", days)]
        if relevance is not None:
            pairs.append(("relevance", int(relevance)))
        return self.mgr_post("/setdeadline", form_body(pairs))

    def list_buckets(self) -> Result:
        """All buckets of the account: ``body["buckets"]`` is a list of ``{"name": ...}``."""
        return self.mgr_get("/bucket/list")

    def list_page(self, bucket: str, prefix: Optional[str] = None, marker: Optional[str] = None,
                  limit: Optional[int] = None, mode: Optional[int] = None, starttime: Any = None,
                  endtime: Any = None) -> Result:
        """One page of ``/list``: ``items``, ``commonPrefixes`` and the ``marker`` of the next page.

        Arguments are sent as given (the :class:`~wcs.services.client.Client` fills defaults from
        the config): ``prefix`` is Base64-encoded, ``mode`` None or 3 means a flat listing.

        Raises:
            InvalidArgument: ``limit`` outside 1..1000 or an unknown ``mode``.
        """
        query: List = [("bucket", bucket)]
        if limit is not None:
            query.append(("limit", check_limit(limit)))
        if prefix:
            query.append(("prefix", urlsafe_base64_encode(prefix)))
        sent_mode = check_mode(mode)
        if sent_mode is not None:
            query.append(("mode", sent_mode))
        if marker:
            query.append(("marker", marker))
        if starttime not in (None, ""):
            query.append(("startTime", starttime))
        if endtime not in (None, ""):
            query.append(("endTime", endtime))
        return self.mgr_get("/list", query)

    def iter_pages(self, bucket: str, prefix: Optional[str] = None, marker: Optional[str] = None,
                   limit: Optional[int] = None, mode: Optional[int] = None, starttime: Any = None,
                   endtime: Any = None) -> Iterator[Result]:
        """Every page from ``marker`` on, following markers; stops after the first failed page."""
        while True:
            result = self.list_page(bucket, prefix, marker, limit, mode, starttime, endtime)
            yield result
            if result.code != 200 or not isinstance(result.body, dict):
                return
            next_marker = result.body.get("marker")
            if not next_marker or next_marker == marker:
                # An unchanged marker would loop forever; the listing cannot progress.
                return
            marker = next_marker

    def slices(self, bucket: str, prefix: Optional[str] = None, marker: Optional[str] = None,
               limit: Optional[int] = None, mode: Optional[int] = None, starttime: Any = None,
               endtime: Any = None) -> Generator[Slice, None, None]:
        """The pages of a whole listing as ``(page, items)`` in key order: key ranges in parallel for a
        flat listing when there is a pool, else one chain of pages.

        Raises:
            InvalidArgument: ``limit`` outside 1..1000 or an unknown ``mode`` (at once).
        """
        size = check_limit(limit) if limit is not None else MAX_LIMIT
        flat = check_mode(mode) is None and starttime in (None, "") and endtime in (None, "")
        workers = self.scheduler.workers if self.scheduler is not None else 0
        if flat and workers >= 2 and self.scheduler is not None:
            def fetch(part: Optional[str], after: Optional[str], count: int, by_dir: Optional[int]) -> Result:
                return self.list_page(bucket, part, after, count, by_dir)

            listing = RangeListing(fetch, self.scheduler, prefix or "", marker or None, size,
                                   parallel=min(workers, MAX_LIST_PARALLEL))
            return listing.slices()
        return page_slices(self.iter_pages(bucket, prefix, marker, limit, mode, starttime, endtime))

    def list_all(self, bucket: str, prefix: Optional[str] = None, marker: Optional[str] = None,
                 limit: Optional[int] = None, mode: Optional[int] = None, starttime: Any = None,
                 endtime: Any = None) -> Result:
        """All pages merged into one result (``items`` and ``commonPrefixes``); a failed page is returned as is."""
        items: List[Dict[str, Any]] = []
        prefixes: List[str] = []
        last: Optional[Result] = None
        with closing(self.slices(bucket, prefix, marker, limit, mode, starttime, endtime)) as pages:
            for page, part in pages:
                if page.code != 200 or not isinstance(page.body, dict):
                    return page
                items.extend(part)
                for name in page.body.get("commonPrefixes") or []:
                    if name not in prefixes:
                        prefixes.append(name)
                last = page
        assert last is not None
        body = dict(last.body)
        body["items"] = items
        body["marker"] = ""
        if prefixes or "commonPrefixes" in body:
            body["commonPrefixes"] = prefixes
        return Result(last.code, body, last.headers, text=last.text)

    def iter_objects(self, bucket: str, prefix: Optional[str] = None, marker: Optional[str] = None,
                     limit: Optional[int] = None, mode: Optional[int] = None, starttime: Any = None,
                     endtime: Any = None, typed: bool = False, prefixes: bool = False) -> ObjectListing:
        """Every item in key order, as an :class:`ObjectListing` iterator, fetched while it is consumed
        (see :meth:`slices`; a bounded number of pages in memory). Items are the service's dicts, or
        :class:`~wcs.commons.result.ObjectInfo` with ``typed``; with ``prefixes`` and a ``mode`` of
        0 or 1, the common prefixes too (:class:`~wcs.services.listing.CommonPrefix`).

        Raises:
            InvalidArgument: bad ``limit`` or ``mode``.
            ServiceError, NetworkError: a page failed (raised when that page is reached).
        """
        slices = self.slices(bucket, prefix, marker, limit, mode, starttime, endtime)
        return ObjectListing(slices, typed=typed, mode=check_mode(mode) if prefixes else None)

    def listing(self, bucket: str, prefix: str = "", *, recursive: bool = True) -> ObjectListing:
        """A :class:`~wcs.services.listing.ListFunction`: every object under ``prefix`` (typed, key
        order: key ranges in parallel), or with ``recursive=False`` the objects and sub-directories of
        the directory ``prefix`` (``a`` is ``a/``; directories first, as ``mode=1`` lists them).

        Raises:
            ServiceError, NetworkError: a page failed (when that page is reached).
        """
        if recursive:
            return self.iter_objects(bucket, prefix=prefix or None, limit=MAX_LIMIT, typed=True)
        directory = prefix if not prefix or prefix.endswith("/") else prefix + "/"
        return self.iter_objects(bucket, prefix=directory or None, limit=MAX_LIMIT, mode=1, typed=True,
                                 prefixes=True)

    def image_detect(self, image: str, dtype: str, bucket: str) -> Result:
        """``POST /imageDetect`` (content moderation of the image at URL ``image``; ``dtype`` e.g. ``porn``)."""
        return self.mgr_post("/imageDetect", form_body([("image", urlsafe_base64_encode(image)), ("type", dtype),
                                                        ("bucket", bucket)]))

    def bucket_stat(self, name: str, startdate: str, enddate: str, isListDetails: str = "false",
                    storageType: Optional[str] = None) -> Result:
        """Daily storage use of one or more buckets (``name`` may join several with ``|``)."""
        query = [("name", urlsafe_base64_encode(name)), ("startdate", startdate), ("enddate", enddate),
                 ("isListDetails", isListDetails)]
        if storageType:
            query.append(("storageType", storageType))
        return self.mgr_get("/bucket/stat", query)

    def bucket_statistics(self, name: str, stype: str, startdate: str, enddate: str,
                          isListDetails: str = "false") -> Result:
        """Usage statistics of type ``stype`` (e.g. ``uploadRequest``); undocumented by the service."""
        query = [("name", urlsafe_base64_encode(name)), ("type", stype), ("startdate", startdate),
                 ("enddate", enddate)]
        if isListDetails and isListDetails != "false":
            query.append(("isListDetails", isListDetails))
        return self.mgr_get("/bucket/statistics", query)
