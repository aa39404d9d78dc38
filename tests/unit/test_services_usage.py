"""``du`` aggregation and ``rm`` target parsing, on hand-made listings (no I/O)."""

import tracemalloc

import pytest

from wcs.commons.errors import InvalidArgument
from wcs.commons.result import ObjectInfo
from wcs.services.removal import KEY, PATTERN, PREFIX, Target, compile_pattern, is_pattern, literal_prefix
from wcs.services.usage import usage


def listing(*keys, size=10):
    return [ObjectInfo(key=key, size=size, hash="F") for key in keys]


def rows(found):
    return [(u.prefix, u.depth, u.objects, u.bytes) for u in found]


def test_depth_zero_is_one_total():
    assert rows(usage(listing("p/a", "p/b/c"), "p/")) == [("p/", 0, 2, 20)]


def test_sub_prefixes_come_when_complete_children_before_parents():
    keys = ("p/a", "p/b/1", "p/b/c/2", "p/b/c/3", "p/b/d/4", "p/b0", "p/e/5")
    assert rows(usage(listing(*keys), "p/", depth=2)) == [
        ("p/b/c/", 2, 2, 20), ("p/b/d/", 2, 1, 10), ("p/b/", 1, 4, 40), ("p/e/", 1, 1, 10), ("p/", 0, 7, 70)]
    # depth 1 folds the deeper levels into their parent
    assert rows(usage(listing(*keys), "p/", depth=1)) == [("p/b/", 1, 4, 40), ("p/e/", 1, 1, 10), ("p/", 0, 7, 70)]


def test_an_empty_listing_is_a_zero_total():
    assert rows(usage([], "x/", depth=3)) == [("x/", 0, 0, 0)]


def test_a_bad_depth_is_refused():
    with pytest.raises(InvalidArgument):
        list(usage([], "", depth=-1))


def test_memory_stays_flat_with_the_number_of_keys():
    def many():
        for i in range(8000):
            yield ObjectInfo(key="p/%03d/%06d" % (i // 80, i), size=1, hash="F")

    tracemalloc.start()
    try:
        found = 0
        for _row in usage(many(), "p/", depth=1):
            found += 1
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # 8,000 rows of ~300 bytes kept would be ~2.4 MB
    assert found == 101 and peak < 256 * 1024, peak


@pytest.mark.parametrize("pattern, prefix", [("www/*.html", "www/"), ("www/in?ex", "www/in"), ("a[bc]", "a"),
                                             ("*", ""), (r"lit\*eral/*", "lit*eral/")])
def test_literal_prefix_stops_at_the_first_wildcard(pattern, prefix):
    assert literal_prefix(pattern) == prefix and is_pattern(pattern)


@pytest.mark.parametrize("pattern, key, matches", [
    ("www/*.html", "www/index.html", True), ("www/*.html", "www/sub/index.html", False),
    ("www/**.html", "www/sub/index.html", True), ("www/*.html", "xwww/index.html", False),
    ("www/?.txt", "www/a.txt", True), ("www/[ab].txt", "www/c.txt", False),
    (r"odd\*name", "odd*name", True), (r"odd\*name", "oddXname", False),
])
def test_patterns_match_whole_keys(pattern, key, matches):
    assert bool(compile_pattern(pattern).fullmatch(key)) is matches


def test_targets():
    assert Target(PREFIX, "www").base == "www/" and Target(PREFIX, "www/").base == "www/"
    assert Target(PATTERN, "www/*.css").base == "www/" and Target(KEY, "a/b").base == ""
    assert not is_pattern("plain/key.txt")
    for bad in ("", "/", "//"):
        with pytest.raises(InvalidArgument):
            Target(PREFIX, bad)
    with pytest.raises(InvalidArgument):
        Target(KEY, "")
    with pytest.raises(InvalidArgument):
        Target(PATTERN, "www/[abc")
