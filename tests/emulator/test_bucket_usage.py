"""``/bucket/stat`` and ``/bucket/statistics`` over raw HTTP: per-day figures from the objects stored."""

import datetime

from wcs.commons.util import entry, urlsafe_base64_encode

MB = 1048576


def days_around_today():
    today = datetime.datetime.now(datetime.timezone.utc).date()
    return today - datetime.timedelta(days=2), today


def test_bucket_stat_per_day_and_storage_type(api, bucket):
    api.put(bucket, "std", b"s" * MB)
    api.put(bucket, "arc", b"a" * (2 * MB))
    assert api.mgr("POST", "/converttype/%s/Archive" % entry(bucket, "arc")).status_code == 200
    start, today = days_around_today()
    path = "/bucket/stat?name=%s&startdate=%s&enddate=%s&isListDetails=true" % (
        urlsafe_base64_encode(bucket), start, today)

    def storage(extra=""):
        resp = api.mgr("GET", path + extra)
        assert resp.status_code == 200, resp.text
        (entry_,) = resp.json()["buckets"]
        assert [d["data_time"] for d in entry_["detail"]] == [
            (start + datetime.timedelta(days=i)).isoformat() for i in range(3)]
        return [d["storage"] for d in entry_["detail"]]

    assert storage() == ["0.000", "0.000", "3.000"]
    assert storage("&storageType=Standard") == ["0.000", "0.000", "1.000"]
    assert storage("&storageType=Archive") == ["0.000", "0.000", "2.000"]
    assert storage("&storageType=InfrequentAccess") == ["0.000", "0.000", "0.000"]
    assert api.mgr("GET", path + "&storageType=IA").status_code == 400


def test_bucket_statistics(api, bucket):
    api.put(bucket, "a", b"x" * 10)
    api.put(bucket, "b", b"y" * 5)
    start, today = days_around_today()
    name = urlsafe_base64_encode(bucket)

    def detail(kind):
        resp = api.mgr("GET", "/bucket/statistics?name=%s&type=%s&startdate=%s&enddate=%s" % (name, kind, start, today))
        assert resp.status_code == 200, resp.text
        body = resp.json()
        assert body["code"] == 200 and body["buckets"][0]["name"] == bucket
        return [(d["data_time"], d[kind]) for d in body["buckets"][0]["detail"]]

    assert [value for _, value in detail("uploadRequest")] == [0, 0, 2]
    assert detail("uploadTraffic")[-1] == (today.isoformat(), 15)
    bad = api.mgr("GET", "/bucket/statistics?name=%s&type=nope&startdate=%s&enddate=%s" % (name, start, today))
    assert bad.status_code == 400 and "uploadRequest" in bad.json()["message"]
    missing = urlsafe_base64_encode("no-such-bucket")
    assert api.mgr("GET", "/bucket/statistics?name=%s&type=uploadRequest&startdate=%s&enddate=%s"
                   % (missing, start, today)).status_code == 404
    bad_dates = "/bucket/statistics?name=%s&type=uploadRequest&startdate=x&enddate=y" % name
    assert api.mgr("GET", bad_dates).status_code == 400
