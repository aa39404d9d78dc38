"""Where a listing can be cut (wcs.services.keyspace): bounds, forged markers, and cut plans."""

import random

import pytest

from wcs.commons.util import urlsafe_base64_encode
from wcs.services import keyspace


def test_prefix_end_and_request_prefix():
    assert keyspace.prefix_end("abc") == "abd"
    assert keyspace.prefix_end("") is None
    assert keyspace.prefix_end("a\U0010ffff") == "b"
    assert keyspace.prefix_end("a\ud7ff") == "a\ue000"  # no surrogate in between
    assert keyspace.request_prefix("objects/001", "objects/002", "") == "objects/001"  # a whole prefix
    assert keyspace.request_prefix("dir01/", "dir010", "") == "dir01/"
    assert keyspace.request_prefix("ab5", "ac", "") == "ab"  # every key from ab5 up to ac starts with ab
    assert keyspace.request_prefix("ab5", "ad", "") == "a"
    assert keyspace.request_prefix("photos/x", None, "photos/") == "photos/"
    assert keyspace.request_prefix("photos/a", "photos/b0", "photos/") == "photos/"


@pytest.mark.parametrize("key", ["b", "photos/img_0001", "a\x00", "x\ue000", "\U0001f600z"])
def test_just_below_sits_below_the_key_and_above_every_shorter_key_before_it(key):
    below = keyspace.just_below(key)
    assert below < key
    # Nothing a key would hold lies between: the keys just under `key` all sort below `below`.
    before = keyspace.just_below(key)[:-1]  # the character before, surrogates skipped
    for other in (key[:-1], before, before + "zz", before + "\uffff"):
        if other < key:
            assert other <= below


def test_forged_markers_are_the_emulators_format_and_recognised():
    assert keyspace.marker_after("a/b") == urlsafe_base64_encode("f:a/b")
    assert keyspace.marker_names(urlsafe_base64_encode("f:a/b"), "a/b")
    assert not keyspace.marker_names(urlsafe_base64_encode("f:a/c"), "a/b")
    assert not keyspace.marker_names("opaque-token-42", "a/b")
    assert not keyspace.marker_names("!!", "a/b")


def _check_cut(sample, stop, base, most):
    cut = keyspace.plan_cut(sample, stop, base, 1000, most)
    assert len(cut.starts) == len(cut.sizes) <= most
    assert cut.starts == sorted(set(cut.starts))
    for start in cut.starts:
        assert start > sample[-1] and start.startswith(base)
        assert stop is None or start < stop
    return cut


def test_a_cut_of_sequential_names_falls_on_the_next_digits():
    sample = ["objects/%06d.txt" % i for i in range(1000)]
    cut = _check_cut(sample, None, "", 16)
    # About a page (the rest of 000, then 001) goes on in the range being listed, then each range twice as
    # large: next digits first, the tens of thousands further off.
    assert cut.starts[0] == "objects/002" and 1000 <= cut.rest <= 2000
    assert any(len(start) == len("objects/01") for start in cut.starts[:6])


def test_a_cut_of_random_names_spreads_over_the_first_character():
    rng = random.Random(3)
    keys = sorted("".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(12)) for _ in range(50000))
    cut = _check_cut(keys[:1000], None, "", 32)
    assert sum(1 for start in cut.starts if len(start) == 1) >= 4  # the first level is cut, not only the near one
    assert cut.sizes[-1] > cut.sizes[0]  # far ranges are the larger ones
    bounded = _check_cut(keys[3000:3100], "2", "", 8)  # inside a range: only what lies below its end
    assert all(start < "2" for start in bounded.starts)


def test_a_cut_never_makes_more_ranges_than_asked_and_nothing_after_the_stop():
    sample = ["IMG_%04d.jpg" % i for i in range(100)]
    assert keyspace.plan_cut(sample, "IMG_0100", "", 1000, 8).starts == []  # nothing lies between
    assert keyspace.plan_cut(sample, None, "", 1000, 0).starts == []
    _check_cut(sample, "J", "", 3)


def test_group_grows_ranges_further_off_and_keeps_folders_even():
    candidates = [("k%02d" % i, 600.0) for i in range(20)]
    grown = keyspace.group(1000.0, candidates, 1000, 8)
    assert grown.starts[0] == "k00"  # the rest already holds a page
    for size, goal in zip(grown.sizes[:-1], (2000, 4000, 8000)):
        assert goal <= size < goal + 600
    even = keyspace.group(1000.0, [(name, 1000.0) for name, _ in candidates], 1000, 100, grow=False)
    assert even.starts == [name for name, _ in candidates]


def test_folders_around_and_their_sizes():
    last = "logs/2024/01/04/host-028/event-1.json"
    assert keyspace.folders_around(last, None, "") == [
        "", "logs/", "logs/2024/", "logs/2024/01/", "logs/2024/01/04/", "logs/2024/01/04/host-028/"]
    # Below a stop inside the day only the day's own folders can hold what follows.
    assert keyspace.folders_around(last, "logs/2024/01/05/", "") == [
        "logs/2024/01/", "logs/2024/01/04/", "logs/2024/01/04/host-028/"]
    sample = ["d%02d/k%d" % (d, i) for d in range(5) for i in range(7)]
    assert keyspace.folder_sizes(sample, "") == 7.0  # d01..d03 are whole in the sample
    assert keyspace.folder_sizes(sample[:9], "") == 7.0  # none whole: the largest seen, a lower bound
