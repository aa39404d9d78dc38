"""``list``/``listall wcs://B -``: the listing itself is stdout's one JSON document (no summary, no file "-")."""

import json
import os

import pytest

from tests.cli.conftest import assert_one_error_line


@pytest.fixture
def c(wcscmd, cfgfile):
    return lambda *argv: wcscmd("-c", cfgfile, *argv)


@pytest.fixture
def filled(c, bucket, tmp_path):
    (tmp_path / "f").write_bytes(b"x")
    keys = ["k%d" % i for i in range(5)]
    for key in keys:
        assert c("put", "wcs://%s/%s" % (bucket, key), str(tmp_path / "f")).status == 0
    return keys


def test_list_dash_writes_the_service_answer_to_stdout(c, bucket, filled, tmp_path):
    run = c("list", "wcs://%s" % bucket, "-", "--limit", "3")
    assert run.status == 0 and run.err == ""
    page = json.loads(run.out)
    assert [i["key"] for i in page["items"]] == filled[:3] and page["marker"]
    assert not os.path.exists(tmp_path / "-")


def test_listall_dash_streams_the_array_to_stdout(c, bucket, filled, tmp_path):
    run = c("listall", "wcs://%s" % bucket, "-", "--limit", "2")
    assert run.status == 0 and run.err == ""
    assert [i["key"] for i in json.loads(run.out)] == filled
    assert json.loads(c("listall", "wcs://%s" % bucket, "-", "--prefix", "none/").out) == []
    assert not os.path.exists(tmp_path / "-")


def test_listall_dash_failures(c, bucket, filled, monkeypatch):
    run = c("listall", "wcs://%s-missing" % bucket, "-")
    assert_one_error_line(run, 5)
    assert run.json["code"] == 404  # the first page failed: stdout is the error document, as always

    from wcs.commons.result import Result
    from wcs.services.bucket import BucketManager

    list_page = BucketManager.list_page
    calls = []

    def second_page_fails(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            return Result(500, {"code": 500, "message": "boom"}, {"x-reqid": "r2"})
        return list_page(self, *args, **kwargs)

    monkeypatch.setattr(BucketManager, "list_page", second_page_fails)
    run = c("listall", "wcs://%s" % bucket, "-", "--limit", "2")
    line = assert_one_error_line(run, 5)
    assert "HTTP 500" in line
    # Part of the listing was on its way: stdout ends incomplete, no error document is appended to it.
    assert run.out.startswith("[") and "boom" not in run.out and '"code"' not in run.out
    with pytest.raises(ValueError):
        json.loads(run.out)
