"""The pure parts of the vendor features: op strings and parameters on the wire, class names, typed answers,
the job-following loop (clock injected), the bulk runner, the usage table."""

import io

import pytest

from wcs.cli.commands.bucketstat import usage_table
from wcs.commons.answers import JobStatus, PrefetchItem
from wcs.commons.errors import InvalidArgument, NotRestored
from wcs.commons.result import ObjectInfo, Result
from wcs.commons.util import EtagHasher, etag_stream, urlsafe_base64_decode
from wcs.commons.util import urlsafe_base64_encode as b64
from wcs.services.append import _pieces
from wcs.services.bulk import MAX_ERRORS, for_each_object
from wcs.services.fmgrops import compress_op, deletem3u8_op, setdeadline_op
from wcs.services.jobs import follow_job
from wcs.services.mirror import prefetch_param
from wcs.services.scheduler import Scheduler
from wcs.services.storageclass import is_not_restored, mark_not_restored, restore_days, same_class, wire_class


def test_fmgr_op_strings():
    assert setdeadline_op("b", "logs/", 30) == "bucket/%s/prefix/%s/deadline/30" % (b64("b"), b64("logs/"))
    assert setdeadline_op("b", "", "-1") == "bucket/%s/deadline/-1" % b64("b")
    assert setdeadline_op("b", "p", " 0 ") == "bucket/%s/prefix/%s/deadline/0" % (b64("b"), b64("p"))
    for bad in ("x", -2, True, 1.5):
        with pytest.raises(InvalidArgument):
            setdeadline_op("b", "p", bad)
    with pytest.raises(InvalidArgument):
        setdeadline_op("b", "", 0)
    assert compress_op("b", ["a", "d/"], "o", "z.zip") == "bucket/%s/keys/%s|%s/saveas/%s" % (
        b64("b"), b64("a"), b64("d/"), b64("o:z.zip"))
    assert compress_op("b", [], "b", "z.zip", key_list="l.txt") == "bucket/%s/keyList/%s/saveas/%s" % (
        b64("b"), b64("l.txt"), b64("b:z.zip"))
    assert deletem3u8_op("b", "v.m3u8") == "bucket/%s/key/%s/deletets/1" % (b64("b"), b64("v.m3u8"))
    assert deletem3u8_op("b", "v.m3u8", deletets=False).endswith("/deletets/0")


def test_prefetch_param_encodes_each_key_then_the_whole():
    param = prefetch_param("b", ["a.txt", "dir/ü"])
    assert urlsafe_base64_decode(param).decode() == "b:%s|%s" % (b64("a.txt"), b64("dir/ü"))
    assert prefetch_param("b", "one") == b64("b:" + b64("one"))


def test_class_names_and_days():
    assert [wire_class(n) for n in ("standard", "IA", "InfrequentAccess", "ARCHIVE")] == [
        "Standard", "IA", "IA", "Archive"]
    with pytest.raises(InvalidArgument):
        wire_class("Cold")
    assert same_class("InfrequentAccess", "IA") and not same_class(None, "IA") and not same_class("Archive", "IA")
    assert restore_days("3") == 3
    for bad in (0, "-1", "x", True):
        with pytest.raises(InvalidArgument):
            restore_days(bad)


def test_object_info_reads_class_type_and_restore():
    info = ObjectInfo.from_item({"key": "k", "fsize": "3", "hash": "F", "storageClass": "Archive",
                                 "restoreState": "restored", "restoreExpirationDate": "2030-01-01T00:00:00Z"})
    assert info.archived and info.needs_restore is False and info.restore_until == "2030-01-01T00:00:00Z"
    assert ObjectInfo.from_item({"storageClass": "Archive"}).needs_restore is None  # the answer does not say
    assert ObjectInfo.from_item({"storageClass": "Archive", "restoreState": "restoring"}).needs_restore is True
    assert ObjectInfo.from_item({"storageClass": "Standard"}).needs_restore is False
    assert ObjectInfo.from_item({}, headers={"X-WCS-Object-Type": "Appendable"}).appendable
    assert not ObjectInfo.from_item({"objectType": "Normal"}).appendable


def test_result_next_position_and_a_typed_error():
    assert Result(200, {}, {"X-Wcs-Next-Append-Position": "12"}).next_position == 12
    assert Result(200, {}, {}).next_position is None
    refusal = Result(403, {"code": 403, "message": "Invalid Object State: not restored"}, {"x-reqid": "r"})
    marked = mark_not_restored(refusal, "b:k")
    with pytest.raises(NotRestored, match="b:k is in Archive storage"):
        marked.raise_for_status()
    assert mark_not_restored(Result(403, {"message": "Bucket Access Denied"}, {}), "b:k").error is None
    archived = ObjectInfo.from_item({"storageClass": "Archive", "restoreState": "none"})
    assert is_not_restored(Result(403, {"message": "Forbidden"}, {}), archived)  # the reference's code unknown
    assert not is_not_restored(Result(404, {"message": "Invalid Object State"}, {}))


def test_etag_hasher_copy_is_independent():
    base = EtagHasher()
    base.update(b"a" * (4 * 1024 * 1024 + 5))
    twin = base.copy()
    twin.update(b"tail")
    assert base.etag() == etag_stream(io.BytesIO(b"a" * (4 * 1024 * 1024 + 5)))
    assert twin.etag() == etag_stream(io.BytesIO(b"a" * (4 * 1024 * 1024 + 5) + b"tail"))


def test_stream_pieces():
    assert list(_pieces(io.BytesIO(b""), 4)) == [b""]
    assert list(_pieces(io.BytesIO(b"abcdefghij"), 4)) == [b"abcd", b"efgh", b"ij"]
    assert list(_pieces(io.BytesIO(b"abcdefgh"), 4)) == [b"abcd", b"efgh"]


def test_typed_answers_accept_numbers_as_text():
    (item,) = PrefetchItem.list_from({"items": [{"key": "k", "code": "404", "message": "m", "mirrorAddress": "u"}]})
    assert (item.key, item.code, item.ok, item.mirror_address) == ("k", 404, False, "u")
    assert PrefetchItem.list_from("not json") == []
    status = JobStatus.from_result("id", Result(200, {"id": "id", "code": "3", "items": [
        {"cmd": "c", "code": 2, "error": None, "desc": "why"}, {"cmd": "d", "code": "3"}]}, {}))
    assert status.finished and not status.succeeded and [i.reason for i in status.failed] == ["why"]
    assert not JobStatus.from_result("id", Result(200, {"code": 4}, {})).finished  # notifying
    assert JobStatus.from_result("id", Result(500, {}, {})).code is None


class FakeClock:
    def __init__(self):
        self.now = 0.0
        self.sleeps = []

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def test_follow_job_polls_until_the_end_retries_passing_failures_and_stops_on_refusals():
    clock = FakeClock()
    answers = [Result(200, {"code": 0}, {}), Result(503, {}, {}), Result(200, {"code": 1}, {}),
               Result(200, {"code": 3, "items": []}, {})]
    seen = []
    status = follow_job(lambda pid: answers.pop(0), "j", timeout=60, sleep=clock.sleep, clock=lambda: clock.now,
                        on_status=seen.append)
    assert status.succeeded and [s.code for s in seen] == [0, None, 1, 3]
    assert clock.sleeps == [0.05, 0.1, 0.2]
    refused = follow_job(lambda pid: Result(404, {"message": "no such job"}, {}), "j", timeout=60,
                         sleep=clock.sleep, clock=lambda: clock.now)
    assert refused.code is None and refused.result.code == 404
    clock = FakeClock()
    late = follow_job(lambda pid: Result(200, {"code": 1}, {}), "j", timeout=10, sleep=clock.sleep,
                      clock=lambda: clock.now)
    assert late.code == 1 and not late.finished and clock.now == pytest.approx(10)
    assert max(clock.sleeps) == 2.0


def test_for_each_object_skips_calls_and_counts():
    listing = [ObjectInfo.from_item({"key": "k%d" % i, "storageClass": "Archive" if i % 2 else "Standard"})
               for i in range(2 * MAX_ERRORS + 7)]
    done = []

    def call(key):
        if key == "k5":
            raise RuntimeError("boom")
        return Result(200 if int(key[1:]) % 3 else 409, {"message": "no"}, {})

    with Scheduler(0).calling_thread().group() as group:
        summary = for_each_object("b", "", listing, lambda info: None if info.archived else "not Archive", call,
                                  group, 4, lambda info, error, result: done.append((info.key, error)))
    archived = [info.key for info in listing if info.archived]
    assert summary.listed == len(listing) and summary.skipped == {"not Archive": len(listing) - len(archived)}
    failures = [key for key in archived if int(key[1:]) % 3 == 0] + ["k5"]
    assert summary.failed == len(failures) and summary.done == len(archived) - len(failures)
    assert len(summary.errors) == min(len(failures), MAX_ERRORS) and sorted(k for k, _ in done) == sorted(archived)
    assert dict(done)["k5"] == "RuntimeError: boom" and dict(done)["k3"] == "HTTP 409: no"


def test_usage_table_storage_and_statistics():
    body = {"buckets": [{"name": "b1", "detail": [{"data_time": "2026-01-01", "storage": "1.5"},
                                                  {"data_time": "2026-01-02", "storage": "1234.25"}]},
                        {"name": "b2", "detail": [{"data_time": "2026-01-01", "storage": 2}]}]}
    lines = usage_table(body, "storage", storage=True)
    assert lines[0].split() == ["date", "b1", "b2", "total"]
    assert lines[2].split() == ["2026-01-01", "1.500", "2.000", "3.500"]
    assert lines[3].split() == ["2026-01-02", "1,234.250", "-", "1,234.250"]
    assert lines[5].split() == ["peak", "1,234.250", "2.000", "1,234.250"]
    assert lines[6].split() == ["average", "617.875", "2.000", "618.875"]
    counts = {"buckets": [{"name": "b", "detail": [{"data_time": "2026-01-01", "uploadRequest": 3},
                                                   {"data_time": "2026-01-02", "uploadRequest": "4"}]}]}
    lines = usage_table(counts, "uploadRequest", storage=False)
    assert lines[0].split() == ["date", "b"] and lines[-1].split() == ["total", "7"]
    assert usage_table({}, "storage", storage=True)[0].split() == ["date"]


def test_ls_class_column_is_one_word():
    from wcs.cli.commands.browse import class_column

    def column(**item):
        return class_column(ObjectInfo.from_item(dict(item, key="k")))

    assert column(storageClass="InfrequentAccess") == "InfrequentAccess" and column() == "-"
    assert column(storageClass="Archive") == "Archive:unknown"
    assert column(storageClass="Archive", restoreState="none", restoreExpirationDate="") == "Archive:none"
    assert column(storageClass="Archive", restoreState="restored",
                  restoreExpirationDate="2030-01-02T03:04:05Z") == "Archive:restored:2030-01-02T03:04:05Z"
