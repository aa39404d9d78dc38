"""``mv -r`` between a local folder and a bucket prefix (issue 22): each source file or object is
removed only once its copy on the other side is verified."""

import io
import os

from tests.helpers.files import make_tree


def put(client, bucket, key, data):
    client.upload_fileobj(io.BytesIO(data), bucket, key, size=len(data), overwrite=1).raise_for_status()


def test_move_up_removes_each_uploaded_file(client, emulator, bucket, tmp_path):
    src = make_tree(tmp_path / "src", {"a.txt": b"a", "sub/b.txt": b"bb"})
    summary = client.upload_tree(src, bucket, "up", move=True, hash_cache=None)
    assert summary.ok and summary.transferred_files == 2 and summary.sources_deleted == 2
    assert sorted(i.key for i in emulator.store.keys_under(bucket, "up/")) == ["up/a.txt", "up/sub/b.txt"]
    assert [name for _, _, names in os.walk(src) for name in names] == []


def test_move_up_keeps_a_file_whose_upload_failed(client, emulator, bucket, tmp_path):
    src = make_tree(tmp_path / "src", {"a.txt": b"a", "b.txt": b"b"})
    real = client.form_uploader

    def refusing_b(*args, **kwargs):
        service = real(*args, **kwargs)
        upload = service.upload_file

        def upload_file(path, bucket_name, key, **options):
            if key.endswith("b.txt"):
                from wcs.commons.result import Result
                return Result(403, {"code": 403, "message": "refused"}, {"x-reqid": "r"})
            return upload(path, bucket_name, key, **options)

        service.upload_file = upload_file
        return service

    client.form_uploader = refusing_b
    summary = client.upload_tree(src, bucket, "up", move=True, hash_cache=None)
    assert summary.failed == 1 and summary.sources_deleted == 1
    assert os.listdir(src) == ["b.txt"]


def test_move_down_deletes_the_objects_after_the_run(client, emulator, bucket, tmp_path):
    for key in ("d/x", "d/y/z"):
        put(client, bucket, key, key.encode())
    put(client, bucket, "d2/stays", b"s")
    dst = str(tmp_path / "dst")
    summary = client.download_tree(bucket, "d", dst, move=True, hash_cache=None)
    assert summary.ok and summary.sources_deleted == 2 and summary.transferred_files == 2
    assert open(os.path.join(dst, "y", "z"), "rb").read() == b"d/y/z"
    assert [i.key for i in emulator.store.keys_under(bucket, "")] == ["d2/stays"]


def test_move_down_keeps_an_object_replaced_during_the_run(client, emulator, bucket, tmp_path):
    put(client, bucket, "d/x", b"first")
    put(client, bucket, "d/y", b"y")
    real = client.downloader

    def replacing(*args, **kwargs):
        service = real(*args, **kwargs)
        fetch = service.fetch

        def fetch_then_replace(url, path, **options):
            result = fetch(url, path, **options)
            if options.get("key") == "d/x":
                put(client, bucket, "d/x", b"second version")
            return result

        service.fetch = fetch_then_replace
        return service

    client.downloader = replacing
    summary = client.download_tree(bucket, "d", str(tmp_path / "dst"), move=True, hash_cache=None)
    assert summary.sources_deleted == 1 and summary.failed == 1 and not summary.ok
    assert emulator.store.get(bucket, "d/x").fsize == len(b"second version")
    assert emulator.store.get(bucket, "d/y") is None
