"""The many-object and cp/mv methods against the emulator (issue 22): ``list_entries`` (ls),
``disk_usage`` (du), ``remove`` (rm), ``copy_object``/``move_object``/``put_object``/``get_object``
(cp and mv of one object or file) and their overwrite rule."""

import io
import os

import pytest

from wcs.commons.errors import InvalidArgument, LocalFileError
from wcs.commons.result import Result
from wcs.commons.util import etag
from wcs.services.listing import CommonPrefix
from wcs.services.tree import TreeObserver


def put(client, bucket, key, data):
    client.upload_fileobj(io.BytesIO(data), bucket, key, size=len(data), overwrite=1).raise_for_status()


def keys(emulator, bucket, prefix=""):
    return sorted(info.key for info in emulator.store.keys_under(bucket, prefix))


@pytest.fixture
def site(client, bucket):
    for key in ("www/index.html", "www/about.html", "www/a.css", "www/img/logo.png", "www/img/x/deep.html",
                "www2/other.html", "top.txt"):
        put(client, bucket, key, key.encode())
    return bucket


class Recorder(TreeObserver):
    def __init__(self):
        self.planned, self.errors = [], []

    def on_action(self, action):
        self.planned.append(action.rel)

    def on_error(self, where, message):
        self.errors.append((where, message))


# -- ls ---------------------------------------------------------------------------------------


def test_list_entries_one_level_gives_directories_first_then_objects(client, site):
    entries = list(client.list_entries(site, "www", recursive=False))
    assert entries[0] == CommonPrefix("www/img/")
    assert [e.key for e in entries[1:]] == ["www/a.css", "www/about.html", "www/index.html"]
    assert entries[1].size == len("www/a.css") and entries[1].hash
    top = list(client.list_entries(site, "", recursive=False))
    assert [getattr(e, "prefix", None) or e.key for e in top] == ["www/", "www2/", "top.txt"]


def test_list_entries_recursive_is_every_key_under_the_prefix(client, site):
    assert [o.key for o in client.list_entries(site, "www/img")] == ["www/img/logo.png", "www/img/x/deep.html"]


def test_a_one_level_listing_of_many_pages_keeps_its_order(client, bucket):
    for i in range(5):
        put(client, bucket, "d/sub%d/x" % i, b"x")
        put(client, bucket, "d/f%d" % i, b"f")
    listing = client.bucket_manager().iter_objects(bucket, prefix="d/", limit=3, mode=1, typed=True, prefixes=True)
    names = [getattr(e, "prefix", None) or e.key for e in listing]
    assert names == ["d/sub%d/" % i for i in range(5)] + ["d/f%d" % i for i in range(5)]
    assert listing.pages == 4


# -- du ---------------------------------------------------------------------------------------


def test_disk_usage_totals_and_per_sub_prefix(client, site):
    (total,) = list(client.disk_usage(site, "www"))
    sizes = [len(k) for k in ("www/index.html", "www/about.html", "www/a.css", "www/img/logo.png",
                              "www/img/x/deep.html")]
    assert (total.prefix, total.objects, total.bytes) == ("www/", 5, sum(sizes))
    rows = [(u.prefix, u.depth, u.objects) for u in client.disk_usage(site, "", depth=2)]
    assert rows == [("www/img/", 2, 2), ("www/", 1, 5), ("www2/", 1, 1), ("", 0, 7)]
    with pytest.raises(InvalidArgument):
        client.disk_usage(site, "", depth=-1)


# -- rm ---------------------------------------------------------------------------------------


def test_remove_a_glob_matches_client_side_one_level(client, emulator, site):
    summary = client.remove(site, patterns=["www/*.html"])
    assert summary.ok and summary.deleted == 2 and summary.failed == 0
    assert keys(emulator, site, "www/") == ["www/a.css", "www/img/logo.png", "www/img/x/deep.html"]
    deep = client.remove(site, patterns=["www/**.html"])
    assert deep.deleted == 1 and keys(emulator, site, "www2/") == ["www2/other.html"]


def test_remove_keys_missing_one_is_a_failure(client, emulator, site):
    summary = client.remove(site, ["top.txt", "www/a.css", "no/such.key"])
    assert summary.deleted == 2 and summary.failed == 1 and not summary.ok
    assert summary.errors == [("no/such.key", "no such object")]
    assert "top.txt" not in keys(emulator, site)
    assert summary.to_json()["errors"] == [{"key": "no/such.key", "error": "no such object"}]


def test_remove_a_prefix_in_batched_jobs_and_verified(client, emulator, bucket):
    for i in range(23):
        put(client, bucket, "logs/%02d" % i, b"l")
    put(client, bucket, "logs2/keep", b"k")
    emulator.reset_counters()
    summary = client.remove(bucket, prefixes=["logs"], batch=10)
    assert summary.ok and summary.deleted == 23 and keys(emulator, bucket) == ["logs2/keep"]
    assert emulator.counters["mgr"] < 23  # jobs of 10, not a request per key
    with pytest.raises(InvalidArgument, match="whole bucket"):
        client.remove(bucket, prefixes=["/"])


def test_remove_dry_run_lists_and_deletes_nothing(client, emulator, site):
    rec = Recorder()
    summary = client.remove(site, patterns=["www/*.html"], prefixes=["www/img"], dry_run=True, observer=rec)
    assert summary.planned == 4 and summary.deleted == 0 and summary.ok
    assert rec.planned == ["www/about.html", "www/index.html", "www/img/logo.png", "www/img/x/deep.html"]
    assert len(keys(emulator, site)) == 7


# -- cp / mv of one object or file -----------------------------------------------------------


def test_copy_object_replaces_and_says_so_no_clobber_skips(client, emulator, bucket):
    put(client, bucket, "a", b"new content")
    put(client, bucket, "b", b"x" * 10240)
    placed = client.copy_object(bucket, "a", bucket, "b")
    assert placed.action == "copied" and placed.replaced and placed.ok
    assert emulator.store.get(bucket, "b").fsize == len(b"new content")
    fresh = client.copy_object(bucket, "a", bucket, "c")
    assert fresh.action == "copied" and not fresh.replaced
    put(client, bucket, "c", b"keep me")
    kept = client.copy_object(bucket, "a", bucket, "c", no_clobber=True)
    assert kept.action == "skipped" and emulator.store.get(bucket, "c").fsize == 7
    missing = client.copy_object(bucket, "nope", bucket, "d")
    assert missing.action == "failed" and missing.result.code == 404


def test_move_object_on_the_service(client, emulator, bucket):
    put(client, bucket, "m", b"move me")
    placed = client.move_object(bucket, "m", bucket, "moved/m")
    assert placed.action == "moved" and placed.source_removed and keys(emulator, bucket) == ["moved/m"]


def test_put_object_move_removes_the_file_only_after_a_verified_upload(client, emulator, bucket, tmp_path):
    path = tmp_path / "f.txt"
    path.write_bytes(b"hello file")
    placed = client.put_object(str(path), bucket, "up/f.txt", move=True)
    assert placed.action == "moved" and placed.source_removed and not path.exists()
    assert emulator.store.get(bucket, "up/f.txt").hash == placed.hash

    path.write_bytes(b"second")
    kept = client.put_object(str(path), bucket, "up/f.txt", no_clobber=True, move=True)
    assert kept.action == "skipped" and path.exists()

    # The upload is refused: the file stays.
    real = client.form_uploader

    def refusing(*args, **kwargs):
        service = real(*args, **kwargs)
        service.upload_file = lambda *a, **k: Result(403, {"code": 403, "message": "no"}, {"x-reqid": "r"})
        return service

    client.form_uploader = refusing
    failed = client.put_object(str(path), bucket, "up/g.txt", move=True)
    assert failed.action == "failed" and failed.result.code == 403 and path.exists()


def test_put_object_large_files_go_in_blocks(client, emulator, bucket, tmp_path):
    path = tmp_path / "big.bin"
    path.write_bytes(os.urandom(5 * 1024 * 1024))
    emulator.reset_counters()
    placed = client.put_object(str(path), bucket, "big.bin", multipart_threshold=4 * 1024 * 1024)
    assert placed.action == "uploaded" and placed.hash == etag(str(path))
    assert emulator.counters.get("mkfile") == 1 and not emulator.counters.get("upload")


def test_put_object_refuses_a_folder(client, bucket, tmp_path):
    with pytest.raises(LocalFileError, match="not a regular file"):
        client.put_object(str(tmp_path), bucket, "x")


def test_get_object_move_deletes_the_object_after_a_verified_download(client, emulator, bucket, tmp_path):
    put(client, bucket, "dl/x.bin", b"download me")
    target = tmp_path / "x.bin"
    target.write_bytes(b"old")
    placed = client.get_object(bucket, "dl/x.bin", str(target), move=True)
    assert placed.action == "moved" and placed.replaced and target.read_bytes() == b"download me"
    assert keys(emulator, bucket) == []
    put(client, bucket, "dl/y", b"y")
    target.write_bytes(b"mine")
    assert client.get_object(bucket, "dl/y", str(target), no_clobber=True).action == "skipped"
    assert target.read_bytes() == b"mine"


def test_copy_onto_itself_is_refused(client, bucket):
    put(client, bucket, "a", b"a")
    with pytest.raises(InvalidArgument, match="the same object"):
        client.copy_object(bucket, "a", bucket, "a")
    assert client.copy_object(bucket, "missing", bucket, "missing").result.code == 404  # the source first


def test_remove_a_key_whose_stat_fails_is_that_keys_failure(client, emulator, bucket):
    put(client, bucket, "a", b"a")
    put(client, bucket, "b", b"b")
    real = client.bucket_manager

    def failing_stat_of_a():
        service = real()
        stat = service.stat
        service.stat = lambda b, k: Result(503, {"code": 503, "message": "busy"}, {}) if k == "a" else stat(b, k)
        return service

    client.bucket_manager = failing_stat_of_a
    summary = client.remove(bucket, ["a", "b"])
    assert summary.deleted == 1 and summary.errors == [("a", "stat failed: HTTP 503: busy")]
    assert keys(emulator, bucket) == ["a"]
