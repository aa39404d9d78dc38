"""The streaming merge and the decision rule of tree transfers (no I/O: hand-made listings)."""

import pytest

from wcs.commons.result import ObjectInfo
from wcs.services.tree.filters import FilterRules, make_rule
from wcs.services.tree.localtree import LocalFile
from wcs.services.tree.plan import DOWNLOAD, UPLOAD, ListingOrderError, Planner, remote_entries


def local(rel, size=1):
    return rel, LocalFile(rel, "/src/" + rel, size, 0, 0, 1, hash(rel) & 0xFFFF)


def remote(rel, size=1, etag="Fhash"):
    return rel, ObjectInfo(key="p/" + rel, size=size, hash=etag)


def decisions(planner):
    return [(a.op, a.rel, a.reason) for a in planner]


def test_sync_decision_rule():
    src = [local("a"), local("b", 2), local("c"), local("e")]
    dst = [remote("b", 3), remote("c"), remote("d"), remote("e")]
    planner = Planner(UPLOAD, src, dst)
    assert decisions(planner) == [("transfer", "a", "missing"), ("transfer", "b", "size"),
                                  ("compare", "c", "compare"), ("compare", "e", "compare")]
    assert planner.done and planner.source_count == 4


def test_size_only_delete_and_filters():
    src = [local("a"), local("keep.tmp"), local("x.tmp")]
    dst = [remote("a"), remote("gone"), remote("old.tmp")]
    planner = Planner(UPLOAD, src, dst, size_only=True, delete=True,
                      filters=FilterRules([make_rule("+", "keep.tmp"), make_rule("-", "*.tmp")]))
    assert decisions(planner) == [("skip", "a", "same-size"), ("delete", "gone", "extra"),
                                  ("transfer", "keep.tmp", "missing"),
                                  ("skip", "x.tmp", "excluded")]
    # old.tmp is excluded: the filters protect it from --delete


def test_copy_and_skip_existing():
    src = [local("a"), local("b")]
    assert decisions(Planner(UPLOAD, src, None, sync=False)) == [("transfer", "a", "copy"),
                                                                 ("transfer", "b", "copy")]
    assert decisions(Planner(UPLOAD, src, [remote("a", 5)], sync=False, skip_existing=True)) == [
        ("skip", "a", "exists"), ("transfer", "b", "missing")]
    # A copy onto a file the destination listing shows says so.
    assert decisions(Planner(UPLOAD, src, [remote("a", 5)], sync=False)) == [
        ("transfer", "a", "replace"), ("transfer", "b", "copy")]


@pytest.mark.parametrize("rel", ["../x", "a/../../b", "/etc/x", "a//b", "./a", "a\0b"])
def test_download_refuses_unsafe_keys(rel):
    (action,) = list(Planner(DOWNLOAD, [(rel, ObjectInfo(key=rel, size=1, hash="F"))], []))
    assert action.op == "refuse" and action.reason.startswith("unsafe key")


def test_download_sides_are_swapped():
    src = [remote("a"), remote("b", 2)]
    dst = [local("b", 3), local("c")]
    actions = list(Planner(DOWNLOAD, src, dst, delete=True))
    assert [(a.op, a.rel, a.reason) for a in actions] == [("transfer", "a", "missing"), ("transfer", "b", "size"),
                                                          ("delete", "c", "extra")]
    assert actions[1].remote.size == 2 and actions[1].local.size == 3
    assert actions[0].source_size(DOWNLOAD) == 1


def test_out_of_order_listing_is_refused():
    with pytest.raises(ListingOrderError):
        list(Planner(UPLOAD, [local("b"), local("a")], []))
    with pytest.raises(ListingOrderError):
        list(Planner(UPLOAD, [], [remote("a"), remote("a")]))


def test_remote_entries_strip_prefix_and_drop_folder_markers():
    objects = [ObjectInfo("p/", 0, "F"), ObjectInfo("p/a/", 0, "F"), ObjectInfo("p/a/b", 3, "F"),
               ObjectInfo("p/c/", 5, "F")]
    assert [rel for rel, _ in remote_entries(objects, "p/")] == ["a/b", "c/"]
    with pytest.raises(ListingOrderError):
        list(remote_entries([ObjectInfo("q/x", 1, "F")], "p/"))


def test_the_merge_is_lazy():
    """Items are pulled one by one: the plan of an endless pair of streams starts at once."""
    def endless(make):
        i = 0
        while True:
            yield make("k%012d" % i)
            i += 1

    planner = iter(Planner(UPLOAD, endless(local), endless(remote)))
    first = [next(planner) for _ in range(3)]
    assert [a.rel for a in first] == ["k000000000000", "k000000000001", "k000000000002"]
