"""The streaming merge and the decision rule of tree transfers (no I/O: hand-made listings)."""

import pytest

from wcs.commons.result import ObjectInfo
from wcs.services.listing import Listed
from wcs.services.tree.filters import FilterRules, make_rule
from wcs.services.tree.localtree import LocalFile
from wcs.services.tree.plan import (
    COMPARE,
    COMPARE_BATCH,
    DELETE,
    DOWNLOAD,
    TRANSFER,
    UPLOAD,
    Compares,
    ListingOrderError,
    Planner,
    listed_entries,
    remote_entries,
    typed,
)


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


def test_files_to_compare_come_in_batches_between_the_actions_in_key_order():
    src = [local("a"), local("b"), local("c", 2), local("d"), local("e")]
    dst = [remote("a"), remote("b"), remote("c"), remote("d"), remote("e")]
    steps = list(Planner(UPLOAD, src, dst).steps())
    assert [[rel for rel, _, _ in step] if isinstance(step, Compares) else step.rel for step in steps] == \
        [["a", "b"], "c", ["d", "e"]]
    assert steps[0][0][1].rel == "a" and steps[0][0][2].key == "p/a"  # (rel, local, remote)
    many = [local("k%04d" % i) for i in range(COMPARE_BATCH + 3)]
    batches = list(Planner(UPLOAD, many, [remote(rel) for rel, _ in many]).steps())
    assert [len(batch) for batch in batches] == [COMPARE_BATCH, 3]
    # Downloads too: the local file first, then the object.
    (batch,) = list(Planner(DOWNLOAD, [remote("a")], [local("a")]).steps())
    assert isinstance(batch[0][1], LocalFile) and isinstance(batch[0][2], ObjectInfo)


def _items(*specs):
    return [dict(spec) for spec in specs]


ODD_ITEMS = _items({"key": "p/a", "fsize": "12", "hash": "Fa"}, {"key": "p/b", "fsize": 7},
                   {"key": "p/c", "fsize": "x", "hash": None}, {"key": "p/d/"}, {"key": "p/e/", "fsize": "3"},
                   {"key": "p/", "fsize": "0"}, {"name": "p/f", "fsize": 1.0}, {"key": "p/g", "fsize": None})


def test_untyped_items_are_read_as_typed_objects_are():
    typed_entries = [(rel, (info.size, info.hash))
                     for rel, info in remote_entries(map(ObjectInfo.from_item, ODD_ITEMS), "p/")]
    listed = list(listed_entries([ODD_ITEMS[:3], [], ODD_ITEMS[3:]], "p/"))
    assert [(rel, (item.size, item.hash)) for rel, item in listed] == typed_entries
    assert [rel for rel, _ in listed] == ["a", "b", "c", "e/", "f", "g"]
    assert all(typed(item) == ObjectInfo.from_item(item.item) for _, item in listed)
    with pytest.raises(ListingOrderError, match="outside the prefix"):
        list(listed_entries([_items({"key": "q/x", "fsize": "1"})], "p/"))


def test_a_listed_object_is_typed_only_when_an_action_is_made_of_it():
    lists = [_items({"key": "p/a", "fsize": "1", "hash": "F1"}, {"key": "p/b", "fsize": "9", "hash": "F2"},
                    {"key": "p/c", "fsize": "1", "hash": "F3"})]
    steps = list(Planner(UPLOAD, [local("a"), local("b")], listed_entries(lists, "p/"), delete=True).steps())
    compares, size, extra = steps
    assert isinstance(compares[0][2], Listed) and compares[0][2].hash == "F1"  # compared untyped
    assert (size.op, size.reason, size.remote) == (TRANSFER, "size", ObjectInfo("p/b", 9, "F2"))
    assert (extra.op, extra.rel, type(extra.remote)) == (DELETE, "c", ObjectInfo)
    (action,) = Planner(UPLOAD, [local("a")], listed_entries(lists[:1], "p/"))  # a COMPARE action: typed
    assert (action.op, action.remote) == (COMPARE, ObjectInfo("p/a", 1, "F1"))


def test_a_full_batch_of_downloads_to_compare_keeps_its_place():
    many = [local("k%04d" % i) for i in range(COMPARE_BATCH + 1)]
    src = [remote(rel) for rel, _ in many] + [remote("z")]
    steps = list(Planner(DOWNLOAD, src, many).steps())
    assert [len(step) if isinstance(step, Compares) else step.rel for step in steps] == [COMPARE_BATCH, 1, "z"]
    assert all(isinstance(f, LocalFile) and isinstance(info, ObjectInfo) for _, f, info in steps[0])
