"""Listings cut into key ranges (wcs.services.listing_ranges): every key once, in order, bounded, failing in place.

The service is the emulator's own page logic over an in-memory key list (tests.helpers.listing_service),
with its markers readable (forged ones work) or opaque (only folders can be cut).
"""

import random
import uuid

import pytest

from tests.helpers.listing_service import KeyService
from wcs.commons.errors import InvalidArgument, ServiceError
from wcs.services.listing import ObjectListing
from wcs.services.listing_ranges import RangeListing
from wcs.services.scheduler import Scheduler


@pytest.fixture(scope="module")
def pool():
    scheduler = Scheduler(16, name="test-listing")
    yield scheduler
    scheduler.close()


def _varied(count, seed=5):
    rng = random.Random(seed)
    words = "alpha beta gamma report photo backup log data".split()
    names = set()
    while len(names) < count:
        kind = rng.randrange(5)
        if kind == 0:
            names.add("IMG_%04d%s.jpg" % (rng.randrange(10000), rng.choice("ABC")))
        elif kind == 1:
            names.add(uuid.UUID(int=rng.getrandbits(128)).hex)
        elif kind == 2:
            names.add("%s-%s-%d.pdf" % (rng.choice(words), rng.choice(words), rng.randrange(10 ** 5)))
        elif kind == 3:
            names.add("%s_%d.txt" % (rng.choice(words).capitalize(), rng.randrange(10 ** 7)))
        else:
            names.add("".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(rng.randrange(4, 16))))
    return sorted(names)


KEY_SETS = {
    "sequential": ["objects/%06d.txt" % i for i in range(12000)],
    "varied": _varied(12000),
    "folders": ["dir%02d/obj_%05d.dat" % (i // 400, i) for i in range(12000)],
    "deep": sorted({"logs/%02d/%02d/host-%02d/e%d.json" % (i % 6, i % 28, i % 30, i) for i in range(12000)}),
    "files-beside-folders": sorted(["top%04d" % i for i in range(0, 6000, 7)]
                                   + ["top%04d/x%d" % (i, j) for i in range(0, 6000, 250) for j in range(300)]),
    "unicode": sorted({"照片/%s-%05d" % (chr(0x4E00 + i % 500), i) for i in range(5000)}
                      | {"\U0001f600%d" % i for i in range(3000)}),
    "exact-pages": ["p/%05d" % i for i in range(4000)],
    "one-page": ["k%03d" % i for i in range(1000)],
    "tiny": ["a", "b", "c"],
    "empty": [],
}


def _listed(service, pool, prefix="", marker=None, limit=1000, parallel=8):
    listing = RangeListing(service.fetch, pool, prefix, marker, limit, parallel=parallel)
    keys = [item["key"] for page, items in listing.slices() for item in items]
    return keys, listing


@pytest.mark.parametrize("name", sorted(KEY_SETS))
@pytest.mark.parametrize("opaque", [False, True], ids=["forged-markers", "opaque-markers"])
def test_every_key_once_in_order(pool, name, opaque):
    keys = KEY_SETS[name]
    service = KeyService(keys, opaque=opaque)
    listed, _ = _listed(service, pool)
    assert listed == sorted(keys)
    if opaque:  # a marker it did not hand out would have been a 400, and a failed listing
        assert all(marker is None or marker.startswith("t") for _, marker, _, _ in service.requests)


def test_a_prefix_and_a_marker_start_where_asked(pool):
    keys = KEY_SETS["folders"] + ["zz/%05d" % i for i in range(3000)]
    listed, _ = _listed(KeyService(keys), pool, prefix="dir1")
    assert listed == [key for key in sorted(keys) if key.startswith("dir1")]
    service = KeyService(keys)
    first = service.fetch(None, None, 1000, None)
    listed, _ = _listed(service, pool, marker=first.body["marker"])
    assert listed == sorted(keys)[1000:]


def test_large_listings_run_in_parallel_and_small_ones_stay_one_chain(pool):
    folders = KeyService(KEY_SETS["folders"], delay=0.005)
    _listed(folders, pool)
    assert folders.most_at_once >= 4 and folders.folder_requests >= 1
    # Folders of less than a page go a few together; what a page reads past its range is the margin it asks for.
    assert folders.items_sent <= 1.4 * len(KEY_SETS["folders"])
    varied = KeyService(KEY_SETS["varied"], delay=0.005)
    _listed(varied, pool)
    assert varied.most_at_once >= 4
    small = KeyService(["k%d" % i for i in range(5)])
    _listed(small, pool, limit=2)
    assert len(small.requests) == 3  # pages of two keys: too few keys seen to cut anything


def test_a_folder_alone_in_its_range_is_listed_by_its_prefix(pool):
    # Folders of more than half a page each: a range per folder, asked for by the folder's prefix, so no
    # page reads past the folder's end (what a forged marker and a guessed limit would).
    keys = ["tree/d%02d/f%04d.bin" % (folder, i) for folder in range(20) for i in range(500)]
    service = KeyService(keys)
    listed, _ = _listed(service, pool)
    assert listed == keys
    by_prefix = [request for request in service.requests if request[0] and request[0].endswith("/")
                 and request[0] != "tree/" and request[1] is None]
    assert len(by_prefix) == 18 and service.items_sent <= len(keys) + 10  # d02..d19; d00 and d01: the first page


def test_no_folders_and_opaque_markers_is_one_chain(pool):
    service = KeyService(KEY_SETS["varied"], opaque=True)
    listed, _ = _listed(service, pool)
    assert listed == KEY_SETS["varied"]
    assert len(service.requests) == 12 and service.folder_requests == 0


def test_held_pages_stay_within_the_budget(pool):
    service = KeyService(KEY_SETS["sequential"] + KEY_SETS["varied"])
    listing = RangeListing(service.fetch, pool, "", None, 1000, parallel=8)
    most = 0
    for _ in listing.slices():  # a consumer that never gets ahead: everything fetched waits for it
        most = max(most, listing.held)
    assert most <= 3 * listing.budget  # the budget, plus the small first pages of far ranges


def test_a_failed_page_raises_where_it_belongs(pool):
    keys = KEY_SETS["sequential"]
    service = KeyService(keys, fail_key="objects/008500.txt")  # whichever range reaches it fails
    listing = ObjectListing(RangeListing(service.fetch, pool, "", None, 1000, parallel=8).slices())
    got = []
    with pytest.raises(ServiceError) as failure:
        for item in listing:
            got.append(item["key"])
    assert failure.value.code == 500
    assert got == keys[:len(got)] and len(got) >= 1000  # everything before the failed page, in order


def test_closing_early_cancels_what_is_queued(pool):
    service = KeyService(KEY_SETS["varied"], delay=0.01)
    slices = RangeListing(service.fetch, pool, "", None, 1000, parallel=8).slices()
    next(slices)
    slices.close()  # waits for the requests in flight
    sent = len(service.requests)
    assert service.at_once == 0
    assert len(service.requests) == sent < 12 + 8


def test_item_lists_hand_out_the_untyped_items_and_fail_in_place(pool):
    keys = KEY_SETS["sequential"]
    listing = ObjectListing(RangeListing(KeyService(keys).fetch, pool, "", None, 1000, parallel=8).slices(), typed=True)
    assert listing.flat
    got = [item["key"] for items in listing.item_lists() for item in items]
    assert got == keys and listing.pages >= 12 and not listing.flat
    failing = ObjectListing(RangeListing(KeyService(keys, fail_key="objects/004500.txt").fetch, pool, "", None, 1000,
                                         parallel=8).slices(), typed=True)
    got = []
    with pytest.raises(ServiceError):
        for items in failing.item_lists():
            got.extend(item["key"] for item in items)
    assert got == keys[:len(got)] and len(got) >= 1000
    started = ObjectListing(RangeListing(KeyService(keys).fetch, pool, "", None, 1000, parallel=8).slices(), typed=True)
    next(started)
    with pytest.raises(InvalidArgument):
        started.item_lists()  # its first page is half handed out already
    started.close()
    by_directory = ObjectListing(iter(()), typed=True, mode=1)
    assert not by_directory.flat
    with pytest.raises(InvalidArgument):
        by_directory.item_lists()
