"""Resource management and downloads over HTTP: stat, delete, move, copy, setdeadline, list, buckets,
wslive, management auth and every 4xx path."""

import datetime
import time
from urllib.parse import quote

import pytest
import requests

from wcs.commons.util import entry, urlsafe_base64_encode


def stat(api, bucket, key):
    return api.mgr("GET", "/stat/" + entry(bucket, key))


def test_stat_fields(api, bucket):
    api.put(bucket, "a.json", b"{}")
    resp = stat(api, bucket, "a.json")
    assert resp.status_code == 200
    body = resp.json()
    assert body["result"] is True and body["code"] == 200 and body["name"] == "a.json"
    assert body["fsize"] == 2 and body["mimeType"] == "application/json"
    assert isinstance(body["putTime"], int) and len(str(body["putTime"])) == 13
    assert body["expirationDate"] == "" and body["storageClass"] == "Standard"
    assert resp.headers["X-Reqid"]


def test_stat_errors(api, bucket):
    assert stat(api, bucket, "missing").status_code == 404
    assert stat(api, bucket, "missing").json()["message"] == "File Not Found"
    assert stat(api, "nosuchbucket", "k").json()["message"] == "Bucket Not Found"
    assert api.mgr("GET", "/stat/" + urlsafe_base64_encode("no-colon")).status_code == 400
    assert api.mgr("GET", "/stat/!!!").status_code == 400


def test_management_auth_failures(api, bucket):
    api.put(bucket, "k")
    path = "/stat/" + entry(bucket, "k")
    good = api.mgr_token(path)
    ak, sign = good.split(":", 1)
    cases = {
        "missing": "",
        "wrong ak": "other:" + sign,
        "bad signature": ak + ":" + urlsafe_base64_encode("0" * 40),
        "no colon": "justtext",
        "signed other path": api.mgr_token("/stat/" + entry(bucket, "other")),
        "upload token": api.token(bucket),
    }
    for name, token in cases.items():
        resp = api.mgr("GET", path, token=token)
        assert resp.status_code == 401, name
        assert resp.json()["code"] == 401, name
    body = b"bucket=%s&key=%s&deadline=1" % (entry(bucket).encode(), urlsafe_base64_encode("k").encode())
    signed = api.mgr_token("/setdeadline", body)
    assert api.mgr("POST", "/setdeadline", body.replace(b"=1", b"=2"), token=signed).status_code == 401
    assert api.mgr("POST", "/setdeadline", body, token=signed).status_code == 200
    query = "/list?bucket=" + bucket
    assert api.mgr("GET", query + "&limit=5", token=api.mgr_token(query)).status_code == 401


def test_delete(api, bucket):
    api.put(bucket, "d")
    resp = api.mgr("POST", "/delete/" + entry(bucket, "d"))
    assert resp.status_code == 200 and resp.json() == {"code": 200, "message": "OK"}
    assert stat(api, bucket, "d").status_code == 404
    assert api.mgr("POST", "/delete/" + entry(bucket, "d")).status_code == 404
    assert api.mgr("POST", "/delete/" + entry("nosuchbucket", "d")).status_code == 404


def test_move_and_copy(api, bucket):
    api.put(bucket, "src", b"payload")
    api.put("b2", "dst", b"old")
    resp = api.mgr("POST", "/copy/%s/%s" % (entry(bucket, "src"), entry("b2", "dst")))
    assert resp.status_code == 200 and resp.json()["code"] == 200
    assert requests.get(api.url + "/b2/dst").content == b"payload"  # destination overwritten
    resp = api.mgr("POST", "/move/%s/%s" % (entry(bucket, "src"), entry(bucket, "renamed")))
    assert resp.status_code == 200
    assert stat(api, bucket, "src").status_code == 404
    assert stat(api, bucket, "renamed").json()["hash"] == stat(api, "b2", "dst").json()["hash"]
    assert api.mgr("POST", "/move/%s/%s" % (entry(bucket, "src"), entry(bucket, "x"))).status_code == 404
    assert api.mgr("POST", "/copy/%s/%s" % (entry(bucket, "renamed"), entry("nosuch", "x"))).status_code == 404
    assert api.mgr("POST", "/copy/%s/%s" % (entry(bucket, "renamed"), "bad")).status_code == 400


def test_setdeadline(api, bucket):
    api.put(bucket, "keep")

    def setdl(key, days, name="deadline"):
        body = ("bucket=%s&key=%s&%s=%s" % (entry(bucket), urlsafe_base64_encode(key), name, days)).encode()
        return api.mgr("POST", "/setdeadline", body)

    assert setdl("keep", 5).status_code == 200
    assert stat(api, bucket, "keep").json()["expirationDate"]
    assert setdl("keep", -1).status_code == 200
    assert stat(api, bucket, "keep").json()["expirationDate"] == ""
    assert setdl("keep", 3, "deleteAfterDays").status_code == 200
    assert setdl("keep", "x").status_code == 400
    assert setdl("keep", -2).status_code == 400
    assert setdl("missing", 1).status_code == 404
    assert setdl("keep", 0).status_code == 200
    # expired: gone from stat, list and download
    assert stat(api, bucket, "keep").status_code == 404
    assert requests.get("%s/%s/keep" % (api.url, bucket)).status_code == 404
    assert api.mgr("GET", "/list?bucket=" + bucket).json()["items"] == []


def test_setdeadline_relevance_covers_m3u8_segments(api, bucket):
    api.put(bucket, "live/a.ts")
    api.put(bucket, "live/index.m3u8", b"#EXTM3U\n#EXTINF:10,\na.ts\nhttp://cdn.invalid/b.ts\n")
    body = ("bucket=%s&key=%s&deadline=0" % (entry(bucket), urlsafe_base64_encode("live/index.m3u8"))).encode()
    assert api.mgr("POST", "/setdeadline", body).status_code == 200
    assert stat(api, bucket, "live/a.ts").status_code == 404


def _list(api, **params):
    query = "&".join("%s=%s" % item for item in params.items())
    resp = api.mgr("GET", "/list?" + query)
    assert resp.status_code == 200, resp.text
    return resp.json()


def test_list_flat_prefix_and_paging(api, bucket):
    keys = ["a/1", "a/2", "a/b/3", "ab", "c"]
    for key in keys:
        api.put(bucket, key, key.encode())
    everything = _list(api, bucket=bucket)
    assert [i["key"] for i in everything["items"]] == keys and everything["marker"] == ""
    item = everything["items"][0]
    assert item["fsize"] == "3" and isinstance(item["putTime"], int) and item["hash"].startswith("F")
    assert [i["key"] for i in _list(api, bucket=bucket, prefix=urlsafe_base64_encode("a"))["items"]] == keys[:4]
    seen, marker = [], ""
    while True:
        params = {"bucket": bucket, "limit": 2}
        if marker:
            params["marker"] = marker
        page = _list(api, **params)
        assert len(page["items"]) <= 2
        seen += [i["key"] for i in page["items"]]
        marker = page["marker"]
        if not marker:
            break
        assert set(marker) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_=-")
    assert seen == keys


def test_list_modes_with_common_prefixes(api, bucket):
    for key in ["d/x", "d/sub/y", "d/sub2/z", "d/w", "top"]:
        api.put(bucket, key)
    mode0 = _list(api, bucket=bucket, prefix=urlsafe_base64_encode("d"), mode=0)
    assert [i["key"] for i in mode0["items"]] == ["d/w", "d/x"]
    assert mode0["commonPrefixes"] == ["d/sub/", "d/sub2/"]
    root = _list(api, bucket=bucket, mode=1)
    assert root["commonPrefixes"] == ["d/"] and [i["key"] for i in root["items"]] == ["top"]
    # paging across directories and files (mode 1: directories first)
    page1 = _list(api, bucket=bucket, prefix=urlsafe_base64_encode("d/"), mode=1, limit=3)
    assert page1["commonPrefixes"] == ["d/sub/", "d/sub2/"] and [i["key"] for i in page1["items"]] == ["d/w"]
    page2 = _list(api, bucket=bucket, prefix=urlsafe_base64_encode("d/"), mode=1, limit=3, marker=page1["marker"])
    assert page2["commonPrefixes"] == [] and [i["key"] for i in page2["items"]] == ["d/x"]
    assert page2["marker"] == ""


def test_list_time_filters(api, bucket):
    api.put(bucket, "early")
    time.sleep(0.05)
    middle = int(time.time() * 1000)
    time.sleep(0.05)
    api.put(bucket, "late")
    assert [i["key"] for i in _list(api, bucket=bucket, startTime=middle)["items"]] == ["late"]
    assert [i["key"] for i in _list(api, bucket=bucket, endTime=middle)["items"]] == ["early"]


@pytest.mark.parametrize("query", ["limit=0", "limit=1001", "limit=x", "mode=2", "prefix=%21%21", "marker=zzz",
                                   "startTime=abc", ""])
def test_list_bad_requests(api, query):
    path = "/list?bucket=b1&" + query if query else "/list"
    assert api.mgr("GET", path).status_code == 400


def test_list_missing_bucket(api):
    assert api.mgr("GET", "/list?bucket=nosuchbucket").status_code == 404


def test_bucket_list_and_stat(api, bucket):
    body = api.mgr("GET", "/bucket/list").json()
    assert body["code"] == 200 and {"name": bucket} in body["buckets"]
    api.put(bucket, "m", b"x" * 1048576)
    name = urlsafe_base64_encode("%s|b2" % bucket)
    resp = api.mgr("GET", "/bucket/stat?name=%s&startdate=2024-01-01&enddate=2024-01-03&isListDetails=false" % name)
    assert resp.status_code == 200, resp.text
    stats = resp.json()["buckets"]
    assert [b["name"] for b in stats] == [bucket, "b2"]
    # per day from the objects stored: nothing was uploaded by the end of those days
    assert stats[0]["detail"] == [{"data_time": "2024-01-0%d" % d, "storage": "0.000"} for d in (1, 2, 3)]
    today = datetime.datetime.now(datetime.timezone.utc).date()
    span = "startdate=%s&enddate=%s" % (today - datetime.timedelta(days=1), today + datetime.timedelta(days=1))
    detail = api.mgr("GET", "/bucket/stat?name=%s&%s" % (urlsafe_base64_encode(bucket), span)).json()["buckets"][0]
    assert [day["storage"] for day in detail["detail"]] == ["0.000", "1.000", "1.000"]
    bad = "/bucket/stat?name=%s&startdate=2024-01-05&enddate=2024-01-03" % name
    assert api.mgr("GET", bad).status_code == 400
    assert api.mgr("GET", "/bucket/stat?name=%s&startdate=2024-01-01&enddate=2024-12-31" % name).status_code == 400
    missing = urlsafe_base64_encode("nosuchbucket")
    assert api.mgr("GET", "/bucket/stat?name=%s&startdate=2024-01-01&enddate=2024-01-02" % missing).status_code == 404
    stats_path = "/bucket/statistics?name=%s&type=uploadRequest&startdate=2024-01-01&enddate=2024-01-02" % name
    assert api.mgr("GET", stats_path).status_code == 200


def test_wslive_list(api, bucket):
    api.put(bucket, "chan1-20240101.ts")
    api.put(bucket, "chan1-20240102.ts")
    api.put(bucket, "other.ts")
    now = time.strftime("%Y%m%d%H%M%S", time.gmtime(time.time() + 60))
    start = time.strftime("%Y%m%d%H%M%S", time.gmtime(time.time() - 3600))
    path = "/wslive/list?channelname=chan1&startTime=%s&endTime=%s&bucket=%s&start=2&limit=5" % (start, now, bucket)
    body = api.mgr("GET", path).json()
    assert body["total"] == 2 and [i["key"] for i in body["items"]] == ["chan1-20240102.ts"]
    past = "/wslive/list?channelname=chan1&startTime=20000101000000&endTime=20000102000000&bucket=" + bucket
    assert api.mgr("GET", past).json()["total"] == 0
    assert api.mgr("GET", "/wslive/list?channelname=c&startTime=x&endTime=y&bucket=" + bucket).status_code == 400
    assert api.mgr("GET", "/wslive/list?channelname=c").status_code == 400


def test_prefetch_reports_no_mirror(api):
    param = urlsafe_base64_encode("b1:" + urlsafe_base64_encode("k"))
    assert api.mgr("POST", "/prefetch/" + param).status_code == 404


def test_download_range_head_and_errors(api, bucket):
    data = bytes(range(256)) * 40
    api.put(bucket, "dir/näme with space.bin", data)
    url = "%s/%s/%s" % (api.url, bucket, quote("dir/näme with space.bin"))
    full = requests.get(url)
    assert full.status_code == 200 and full.content == data
    assert full.headers["Content-Length"] == str(len(data)) and full.headers["Accept-Ranges"] == "bytes"
    part = requests.get(url, headers={"Range": "bytes=10-19"})
    assert part.status_code == 206 and part.content == data[10:20]
    assert part.headers["Content-Range"] == "bytes 10-19/%d" % len(data)
    tail = requests.get(url, headers={"Range": "bytes=-5"})
    assert tail.status_code == 206 and tail.content == data[-5:]
    assert requests.get(url, headers={"Range": "bytes=%d-" % len(data)}).status_code == 416
    head = requests.head(url)
    assert head.status_code == 200 and head.content == b"" and head.headers["Content-Length"] == str(len(data))
    assert requests.get(url, headers={"If-None-Match": full.headers["ETag"]}).status_code == 304
    assert requests.get(url + "?wsiphost=local&x=1").content == data  # unknown params ignored
    assert requests.get("%s/%s/missing" % (api.url, bucket)).status_code == 404
    assert requests.get("%s/nosuchbucket/k" % api.url).json()["message"] == "Bucket Not Found"
    assert requests.get(url + "?op=avinfo").status_code == 400


def test_status_endpoints_need_no_auth_and_unknown_paths(api):
    assert requests.get(api.url + "/fmgr/status?persistentId=nope").status_code == 404
    assert requests.get(api.url + "/status/get/prefop?persistentId=nope").status_code == 404
    assert requests.get(api.url + "/fmgr/status").status_code == 400
    resp = requests.get(api.url + "/nothing")
    assert resp.status_code == 404 and resp.headers["X-Reqid"]
    assert requests.get(api.url + "/file/upload").status_code == 405


def test_reserved_bucket_names_are_refused(emu):
    for name in ("file", "mkblk", "stat", "list", "bucket", "fmgr", "fops", "status", "wslive", "prefetch"):
        with pytest.raises(ValueError):
            emu.create_bucket(name)
    with pytest.raises(ValueError):
        emu.create_bucket("bad/name")


def test_body_with_form_encoding_and_content_type(api, bucket):
    """cs sends fops bodies form-urlencoded: '=' padding as %3D must still work (signature over raw)."""
    api.put(bucket, "k")
    body = "bucket=%s&key=%s&deadline=1" % (quote(entry(bucket), safe=""), quote(urlsafe_base64_encode("k"), safe=""))
    resp = api.mgr("POST", "/setdeadline", body.encode(),
                   headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert resp.status_code == 200, resp.text
