"""Issue 26 — a bucket of a real S3 server (moto's, on 127.0.0.1) brought into WCS by ``Client.sync``:
the service fetches every object itself from presigned URLs, no object byte crosses the client.

The client reaches the emulator through a counting proxy and moto through a counting middleware
(:mod:`tests.helpers.s3origin`), so the bytes through the client are measured, not assumed. The long
form (hundreds of objects, kill -9, multipart ETags) is ``tests/reliability/test_migrate_kill.py``.
"""

import os

import pytest

from tests.bench.shaper import Link, Shaper
from tests.helpers.files import etag_of as _etag
from tests.helpers.s3origin import S3Origin, put_objects
from wcs.services.tree import Remote

pytestmark = pytest.mark.slow  # the whole module runs in the slow pass (.ci/run)

pytest.importorskip("s3fs")
pytest.importorskip("moto.moto_server.werkzeug_app")

MiB = 1024 * 1024


@pytest.fixture(scope="module")
def s3():
    with S3Origin() as origin:
        yield origin


@pytest.fixture
def proxied(emulator, config):
    """The test's config, its hosts behind a proxy that counts the client's bytes to the emulator."""
    with Shaper(("127.0.0.1", emulator.port), Link(rtt=0, conn_rate=0, total_rate=0, handshake=False)) as proxy:
        yield config.replace(put_url=proxy.url, mgr_url=proxy.url), proxy


def _objects():
    objects = {"data/d%02d/obj-%03d.bin" % (i % 4, i): os.urandom(100 + i * 37) for i in range(12)}
    objects["data/ünïcödé/日本語 ファイル.txt"] = "こんにちは".encode() * 50
    objects["data/with space & plus+.txt"] = b"spaces"
    objects["data/big.bin"] = os.urandom(4 * MiB + 1)  # two blocks: a multi-block WCS etag
    objects["data/empty"] = b""
    objects["outside/not-synced.txt"] = b"not under the prefix"
    return objects


def test_a_bucket_comes_in_by_server_side_fetches_with_no_object_byte_through_the_client(
        s3, emulator, bucket, proxied, tmp_path):
    from wcs.services.client import Client

    config, proxy = proxied
    source = s3.bucket()
    objects = _objects()
    put_objects(s3.fs(), source, objects)
    synced = {k[len("data/"):]: v for k, v in objects.items() if k.startswith("data/")}
    journal = str(tmp_path / "journal.sqlite")
    s3.reset_counts()
    emulator.reset_counters()
    proxy.reset_stats()
    with Client(config) as client:
        summary = client.sync("s3://%s/data" % source, Remote(bucket, "mig"), storage_options=s3.storage_options,
                              journal=journal, batch=8)
        assert summary.ok, summary.to_json()
        total = sum(len(v) for v in synced.values())
        assert (summary.fetched_files, summary.fetched_bytes, summary.streamed_files) == (len(synced), total, 0)
        assert summary.jobs == 2  # 16 objects in batches of 8
        # The emulator read every object from S3; the client read none and sent no object data.
        assert s3.counts["emulator"]["object_gets"] == len(synced)
        assert s3.counts["emulator"]["bytes_out"] >= total
        assert s3.counts["client"]["object_gets"] == 0
        assert not {"upload", "mkblk", "bput", "mkfile", "download"} & set(emulator.counters)
        client_bytes = (s3.counts["client"]["bytes_in"] + s3.counts["client"]["bytes_out"]
                        + proxy.stats()["bytes_up"] + proxy.stats()["bytes_down"])
        assert client_bytes < total / 20, (client_bytes, total)
        stored = {info.key[len("mig/"):]: info for info in client.list_objects(bucket, "mig/")}
        assert sorted(stored) == sorted(synced)
        for rel, data in synced.items():
            assert (stored[rel].size, stored[rel].hash) == (len(data), _etag(data)), rel

        # Nothing changed: the journal answers, no job is sent.
        emulator.reset_counters()
        again = client.sync("s3://%s/data" % source, Remote(bucket, "mig"), storage_options=s3.storage_options,
                            journal=journal)
        assert again.ok and again.transferred_files == 0 and again.skipped == {"same": len(synced)}
        assert again.jobs == 0 and emulator.counters.get("mgr", 0) <= 2  # the listing page(s)

        # One object changed, one new, one gone: two fetches and, with delete, one deletion.
        fs = s3.fs()
        fs.pipe_file("%s/data/d01/obj-001.bin" % source, b"changed at the source")
        fs.pipe_file("%s/data/new.txt" % source, b"new")
        fs.rm_file("%s/data/empty" % source)
        third = client.sync("s3://%s/data" % source, Remote(bucket, "mig"), storage_options=s3.storage_options,
                            journal=journal, delete=True)
        assert third.ok, third.to_json()
        assert third.fetched_files == 2 and third.deleted == 1 and third.delete_status == "done"
        assert third.skipped == {"same": len(synced) - 2}
        assert client.stat_object(bucket, "mig/d01/obj-001.bin").hash == _etag(b"changed at the source")
        assert client.stat(bucket, "mig/empty").code == 404


def test_an_object_that_fails_to_fetch_is_retried_then_reported_and_nothing_is_deleted(
        s3, emulator, bucket, client, tmp_path):
    source = s3.bucket()
    put_objects(s3.fs(), source, {"p/a.txt": b"a" * 10, "p/b.txt": b"b" * 20})
    client.simple_upload(_write(tmp_path / "x", b"extra"), bucket, "m/extra.txt")
    # An S3 ETag that is no MD5 of the content: the service's md5 check fails the fetch, every time.
    from wcs.services.migrate.source import Source

    class WrongMd5(Source):
        def _object(self, rel, path, info, size=None, md5=None):
            obj = super()._object(rel, path, info, size, md5)
            return obj.__class__(obj.rel, obj.path, obj.size, obj.etag, obj.mtime,
                                 "0" * 32 if rel == "b.txt" else obj.md5)

    class Errors:
        def __init__(self):
            self.seen = []

        def on_error(self, where, message):
            self.seen.append((where, message))

    errors = Errors()
    src = WrongMd5(s3.fs(), "%s/p" % source)
    summary = client.sync(src, Remote(bucket, "m"), journal=str(tmp_path / "j.sqlite"), delete=True,
                          file_retries=2, observer=errors)
    assert summary.fetched_files == 1 and summary.failed == 1
    assert len(errors.seen) == 1 and errors.seen[0][0] == "b.txt" and "md5 mismatch" in errors.seen[0][1]
    assert summary.delete_status.startswith("not done")
    assert client.stat(bucket, "m/extra.txt").code == 200
    assert summary.jobs == 3  # the first batch, then b.txt twice more


def _write(path, data):
    path.write_bytes(data)
    return str(path)


def test_a_migration_plan_applied_after_a_source_object_changed(s3, emulator, bucket, client, tmp_path):
    source = s3.bucket()
    fs = s3.fs()
    put_objects(fs, source, {"d/a.txt": b"a" * 10, "d/b.txt": b"b" * 20, "d/c.txt": b"c" * 30})
    plan = str(tmp_path / "plan.jsonl")
    planned = client.sync("s3://%s/d" % source, Remote(bucket, "m"), storage_options=s3.storage_options,
                          journal=None, plan=plan)
    assert planned.planned_files == 3 and client.stat(bucket, "m/a.txt").code == 404
    fs.pipe_file("%s/d/b.txt" % source, b"B" * 21)  # after the review
    s3.reset_counts()
    applied = client.apply_plan(plan, storage_options=s3.storage_options)
    assert applied.done == {"fetch": 2} and applied.changed == 1 and applied.ok and not applied.complete
    assert s3.counts["client"]["object_gets"] == 0 and s3.counts["emulator"]["object_gets"] == 2
    assert client.stat_object(bucket, "m/c.txt").hash == _etag(b"c" * 30)
    assert client.stat(bucket, "m/b.txt").code == 404
