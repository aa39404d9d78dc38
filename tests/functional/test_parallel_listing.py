"""Whole listings over HTTP: key ranges listed at once give what one chain of pages gives, in order.

The buckets are seeded through the emulator's store (the path an upload ends in) so that thousands
of objects cost no upload each; every listing then goes over HTTP.
"""

import pytest

from wcs.commons.result import ObjectInfo
from wcs.services.bucket import BucketManager


@pytest.fixture
def seeded(emulator, tmp_path):
    """``seeded(bucket, keys)`` stores a one-byte object under each key."""

    def seed(bucket, keys):
        store = emulator.store

        def items():
            for key in keys:
                path = store.new_temp_path()
                with open(path, "wb") as fp:
                    fp.write(b"x")
                yield key, path, 1, "FsS3wc79bzxa9iX52VxCJKBK0Rg", "text/plain"

        store.put_files(bucket, items())

    return seed


KEYS = sorted(["photos/%03d/img_%05d.jpg" % (i // 300, i) for i in range(3000)]
              + ["photos/%03d.txt" % i for i in range(0, 12, 3)]
              + ["notes-%06x" % (i * 7919) for i in range(2500)] + ["z/\u732b-%d" % i for i in range(700)])


@pytest.mark.slow
def test_parallel_listings_equal_one_chain(client, bucket, seeded, config):
    seeded(bucket, KEYS)
    chain = BucketManager(client.http, client.auth, config.endpoints)  # no pool: one chain of pages
    one = [item["key"] for item in chain.iter_objects(bucket, limit=1000)]
    assert one == KEYS
    listing = client.iter_objects(bucket)
    assert [item["key"] for item in listing] == KEYS
    assert listing.reqid
    typed = list(client.list_objects(bucket, "photos/"))
    assert all(isinstance(info, ObjectInfo) for info in typed)
    assert [info.key for info in typed] == [key for key in KEYS if key.startswith("photos/")]
    assert [item["key"] for item in client.iter_objects(bucket, prefix="notes-", limit=700)] == \
        [key for key in KEYS if key.startswith("notes-")]
    whole = client.bucket_listAll(bucket)
    assert [item["key"] for item in whole.body["items"]] == KEYS and whole.body["marker"] == ""


def test_a_listing_by_directory_or_time_stays_one_chain(client, bucket, seeded):
    seeded(bucket, KEYS)
    files = [item["key"] for item in client.iter_objects(bucket, prefix="photos/", mode=0)]
    assert files == ["photos/%03d.txt" % i for i in range(0, 12, 3)]
    assert len(list(client.iter_objects(bucket, starttime=1, limit=1000))) == len(KEYS)
