"""One Client shared by many threads: configured once, nothing rewritten per call, every call right."""

import threading

from wcs.commons.util import etag

MiB = 1024 * 1024


def test_many_threads_calling_different_methods_of_one_client(client, config, bucket, make_file):
    config.update(bput_size=MiB)
    http = client.http
    before = (http.timeout, http.verify, http.retries, http.pool_size, http.session.adapters["http://"])
    small = make_file(3000, seed=1)
    big = make_file(2 * 4 * MiB + 17, seed=2)
    errors = []
    barrier = threading.Barrier(8)

    def worker(n):
        try:
            barrier.wait(10)
            for round_ in range(3):
                key = "w%d-%d" % (n, round_)
                kind = (n + round_) % 4
                if kind == 0:
                    assert client.simple_upload(small, bucket, key).data["hash"] == etag(small)
                elif kind == 1:
                    assert client.multipart_upload(big, bucket, key).body["hash"] == etag(big)
                elif kind == 2:
                    assert client.list_buckets().ok and client.bucket_list(bucket, limit=5).ok
                else:
                    assert client.simple_upload(small, bucket, key).ok
                    assert client.stat_object(bucket, key).hash == etag(small)
        except BaseException as exc:  # reported to the main thread below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors
    assert (http.timeout, http.verify, http.retries, http.pool_size, http.session.adapters["http://"]) == before
    keys = {info.key for info in client.list_objects(bucket)}
    assert len(keys) == 8 * 3 - sum(1 for n in range(8) for r in range(3) if (n + r) % 4 == 2)
