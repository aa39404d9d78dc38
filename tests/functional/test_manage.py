"""Resource management against the emulator: stat, delete, move, copy, setdeadline, listings, usage."""

import datetime

import pytest

from wcs.commons.errors import InvalidArgument, ServiceError


def test_stat(client, bucket, uploaded):
    digest = uploaded("a.txt", 11)
    code, body, headers = client.stat(bucket, "a.txt")
    assert code == 200 and headers["x-reqid"]
    assert body["fsize"] == 11 and body["hash"] == digest and body["putTime"] > 0 and body["mimeType"]


def test_stat_and_delete_missing_are_404(client, bucket):
    assert client.stat(bucket, "missing").code == 404
    assert client.delete(bucket, "missing").code == 404
    assert client.stat("no-such-bucket-xyz", "k").code == 404


def test_wrong_secret_is_401_everywhere(bad_client, bucket):
    for res in (bad_client.stat(bucket, "k"), bad_client.delete(bucket, "k"), bad_client.list_buckets(),
                bad_client.bucket_list(bucket), bad_client.move(bucket, "a", bucket, "b"),
                bad_client.setdeadline(bucket, "k", 1)):
        assert res.code == 401, res


def test_permanent_errors_are_not_retried(bad_client, emulator, bucket):
    before = emulator.counters.get("mgr", 0)
    assert bad_client.stat(bucket, "k").code == 401
    assert emulator.counters.get("mgr", 0) == before + 1


def test_transient_errors_are_retried(fast_client, emulator, bucket, faults):
    faults("mgr:503:1.0")
    before = emulator.counters.get("mgr", 0)
    res = fast_client.stat(bucket, "k")
    assert res.code == 503
    assert emulator.counters.get("mgr", 0) - before == 7  # 1 + connection_retries (6)


def test_delete(client, bucket, uploaded):
    uploaded("a")
    res = client.delete(bucket, "a")
    assert res.code == 200 and res.ok
    assert client.stat(bucket, "a").code == 404


def test_move_and_copy(client, emulator, bucket, uploaded):
    digest = uploaded("src")
    other = bucket + "-2"
    emulator.create_bucket(other)
    assert client.copy(bucket, "src", bucket, "copied").code == 200
    assert client.copy(bucket, "src", other).code == 200  # dstkey defaults to srckey
    assert client.stat(other, "src").body["hash"] == digest
    assert client.move(bucket, "copied", bucket, "moved").code == 200
    assert client.stat(bucket, "copied").code == 404
    assert client.stat(bucket, "moved").body["hash"] == digest
    assert client.move(bucket, "moved", other, "").code == 200  # '' defaults to srckey too
    assert client.stat(other, "moved").code == 200
    assert client.move(bucket, "missing", bucket, "x").code == 404
    assert client.copy(bucket, "missing", bucket, "x").code == 404


@pytest.mark.parametrize("deadline", [3, "3", -1, "-1", 0])
def test_setdeadline(client, bucket, uploaded, deadline):
    uploaded("k")
    res = client.setdeadline(bucket, "k", deadline)
    assert res.code == 200
    stat = client.stat(bucket, "k")
    if str(deadline) == "-1":
        assert stat.code == 200 and not stat.body["expirationDate"]
    elif str(deadline) == "3":
        assert stat.code == 200 and stat.body["expirationDate"]


def test_setdeadline_missing_is_404_and_bad_value_raises(client, bucket):
    assert client.setdeadline(bucket, "missing", 1).code == 404
    with pytest.raises(InvalidArgument):
        client.setdeadline(bucket, "k", "tomorrow")


def test_list_buckets(client, bucket):
    res = client.list_buckets()
    assert res.code == 200 and {"name": bucket} in res.body["buckets"]


def test_bucket_list_pages_and_params(client, config, bucket, uploaded):
    for key in ["a/1", "a/2", "a/sub/3", "b/4", "c"]:
        uploaded(key)
    first = client.bucket_list(bucket, limit=2)
    assert first.code == 200 and [i["key"] for i in first.body["items"]] == ["a/1", "a/2"]
    assert first.body["marker"]
    second = client.bucket_list(bucket, limit=2, marker=first.body["marker"])
    assert [i["key"] for i in second.body["items"]] == ["a/sub/3", "b/4"]
    prefixed = client.bucket_list(bucket, prefix="a/")
    assert [i["key"] for i in prefixed.body["items"]] == ["a/1", "a/2", "a/sub/3"]
    directory = client.bucket_list(bucket, prefix="a/", mode=0)
    assert [i["key"] for i in directory.body["items"]] == ["a/1", "a/2"]
    assert directory.body["commonPrefixes"] == ["a/sub/"]
    config.limit = 1  # defaults come from the config, as in the official SDK
    assert len(client.bucket_list(bucket).body["items"]) == 1


def test_bucket_list_time_window(client, bucket, uploaded):
    uploaded("k")
    put_time = client.stat(bucket, "k").body["putTime"]
    assert [i["key"] for i in client.bucket_list(bucket, starttime=put_time - 1000,
                                                 endtime=put_time + 1000).body["items"]] == ["k"]
    assert client.bucket_list(bucket, starttime=put_time + 60000).body["items"] == []


def test_bucket_list_errors(client, bucket):
    assert client.bucket_list("no-such-bucket-xyz").code == 404
    for bad in (1001, -5, "many"):
        with pytest.raises(InvalidArgument):
            client.bucket_list(bucket, limit=bad)
    # As the official SDK (issue 13): limit 0 takes the config's, a mode other than 0/1 is not sent.
    assert client.bucket_list(bucket, limit=0).code == 200
    assert client.bucket_list(bucket, mode=2).code == 200


def test_bucket_list_all_and_iter_objects(client, bucket, uploaded):
    keys = sorted("obj-%02d" % i for i in range(7))
    for key in keys:
        uploaded(key)
    res = client.bucket_listAll(bucket, limit=3)
    assert res.code == 200 and [i["key"] for i in res.body["items"]] == keys and not res.body["marker"]
    assert [i["key"] for i in client.iter_objects(bucket, limit=2)] == keys
    assert [i["key"] for i in client.iter_objects(bucket, prefix="obj-0", limit=4)] == keys


def test_bucket_list_all_merges_common_prefixes(client, bucket, uploaded):
    for key in ["d1/a", "d2/b", "d3/c", "top"]:
        uploaded(key)
    res = client.bucket_listAll(bucket, mode=0, limit=1)
    assert res.code == 200
    assert sorted(res.body["commonPrefixes"]) == ["d1/", "d2/", "d3/"]
    assert [i["key"] for i in res.body["items"]] == ["top"]


def test_list_all_failures(client, bad_client, bucket):
    assert client.bucket_listAll("no-such-bucket-xyz").code == 404
    assert bad_client.bucket_listAll(bucket).code == 401
    with pytest.raises(ServiceError) as info:
        list(client.iter_objects("no-such-bucket-xyz"))
    assert info.value.code == 404


def test_bucket_stat(client, bucket, uploaded):
    uploaded("k", size=2048)
    today = datetime.date.today()
    start = (today - datetime.timedelta(days=2)).isoformat()
    res = client.bucket_stat(bucket, start, today.isoformat())
    assert res.code == 200
    (entry,) = res.body["buckets"]
    assert entry["name"] == bucket and len(entry["detail"]) == 3
    assert client.bucket_stat("no-such-bucket-xyz", start, today.isoformat()).code == 404
    assert client.bucket_stat(bucket, "yesterday", "today").code == 400


def test_bucket_statistics(client, bucket):
    today = datetime.date.today().isoformat()
    assert client.bucket_statistics(bucket, "uploadRequest", today, today).code == 200
