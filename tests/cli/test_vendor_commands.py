"""``wcscmd append``, ``prefetch``, ``info``, ``convert-type``, ``restore`` (and ``-r``), ``setdeadline -r``,
``zip``, ``deletem3u8`` (``--wait``) and ``bucketstat`` as a table: success, each refusal with its one error
line and exit status, and the JSON documents they declare."""

import io
import json
from http.server import BaseHTTPRequestHandler

import pytest

from tests.cli.conftest import assert_one_error_line
from tests.helpers.servers import loopback_server
from wcs.cli import outputs
from wcs.cli.wcscmd import main
from wcs.emulator.state.mirrors import set_mirror


def declared(form):
    [document] = [document for document in outputs.DOCUMENTS if form in document.forms]
    return outputs.top_level_keys(document.shape)


@pytest.fixture
def w(wcscmd, cfgfile):
    return lambda *argv: wcscmd("-c", cfgfile, *argv)


def run_main(cfgfile, *argv, stdin=b"", tty=False):
    class Out(io.StringIO):
        def isatty(self):
            return tty

    out, err = Out(), io.StringIO()
    status = main(["-c", cfgfile, *argv], stdin=io.TextIOWrapper(io.BytesIO(stdin)), stdout=out, stderr=err,
                  environ={})
    return status, out.getvalue(), err.getvalue()


def test_append_a_file_then_stdin_in_pieces(w, cfgfile, bucket, tmp_path):
    data = tmp_path / "part1.txt"
    data.write_bytes(b"first line\n")
    run = w("append", "wcs://%s/log.txt" % bucket, data)
    assert run.status == 0 and list(run.json) == declared("append")
    assert (run.json["position"], run.json["appended"], run.json["next_position"]) == (0, 11, 11)
    status, out, err = run_main(cfgfile, "append", "wcs://%s/log.txt" % bucket, "-", "--piece-size", "4",
                                "--json", stdin=b"second line\n")
    assert status == 0, err
    document = json.loads(out)
    assert (document["position"], document["appended"], document["next_position"]) == (11, 12, 23)
    assert w("cat", "wcs://%s/log.txt" % bucket).out == "first line\nsecond line\n"
    stat = w("stat", "wcs://%s/log.txt" % bucket).json["body"]
    assert stat["fsize"] == 23 and stat["objectType"] == "Appendable"


def test_append_refusals(w, bucket, tmp_path):
    data = tmp_path / "d"
    data.write_bytes(b"abc")
    assert w("append", "wcs://%s/a" % bucket, data).status == 0
    run = w("append", "wcs://%s/a" % bucket, data, "--position", "1")
    line = assert_one_error_line(run, 5)
    assert "Position Not Equal To Length" in line and "append at --position 3" in line
    assert run.json["code"] == 409 and run.json["next_position"] == 3
    assert w("put", "wcs://%s/plain" % bucket, data).status == 0
    line = assert_one_error_line(w("append", "wcs://%s/plain" % bucket, data), 5)
    assert "Object Not Appendable" in line and "only an object made by append" in line
    assert_one_error_line(w("append", "wcs://%s/a" % bucket, tmp_path / "missing"), 4)
    assert_one_error_line(w("append", "wcs://%s/a" % bucket, tmp_path), 4)
    assert "--position" in assert_one_error_line(w("append", "wcs://%s/a" % bucket, data, "--position", "-2"), 2)
    assert "--piece-size" in assert_one_error_line(w("append", "wcs://%s/a" % bucket, data, "--piece-size", "3G"), 2)


class Origin(BaseHTTPRequestHandler):
    def do_GET(self):
        body = {"/a.txt": b"alpha"}.get(self.path)
        self.send_response(200 if body else 404)
        self.send_header("Content-Length", str(len(body or b"")))
        self.end_headers()
        self.wfile.write(body or b"")

    def log_message(self, *args):
        pass


def test_prefetch_exits_by_its_items(w, emulator, bucket):
    line = assert_one_error_line(w("prefetch", "wcs://%s/a.txt" % bucket), 5)
    assert "Bucket Not Binding Mirror" in line
    with loopback_server(Origin) as origin:
        set_mirror(emulator.data_dir, bucket, "http://127.0.0.1:%d" % origin.server_address[1])
        try:
            ok = w("prefetch", "wcs://%s/a.txt" % bucket, "-v")
            partial = w("prefetch", "wcs://%s/a.txt" % bucket, "wcs://%s/gone.txt" % bucket)
        finally:
            set_mirror(emulator.data_dir, bucket, None)
    assert ok.status == 0 and list(ok.json) == declared("prefetch") and "fetched from" in ok.err
    assert partial.status == 10 and [item["code"] for item in partial.json["body"]["items"]] == [200, 404]
    assert partial.err_lines[0].startswith("wcscmd: error: wcs://%s/gone.txt: not fetched: 404" % bucket)
    assert partial.err_lines[-1] == "wcscmd: error: 1 of 2 keys were not fetched"
    line = assert_one_error_line(w("prefetch", "wcs://%s/a" % bucket, "wcs://other/b"), 2)
    assert "one bucket" in line


def test_info_of_an_image_and_its_refusals(w, bucket, tmp_path):
    image = pytest.importorskip("PIL.Image")
    path = tmp_path / "p.png"
    image.new("RGB", (8, 6)).save(path)
    assert w("put", "wcs://%s/p.png" % bucket, path).status == 0
    run = w("info", "--image", "wcs://%s/p.png" % bucket)
    assert run.status == 0 and list(run.json) == declared("info")
    assert (run.json["body"]["width"], run.json["body"]["height"]) == (8, 6)
    assert "EXIF" in assert_one_error_line(w("info", "--exif", "wcs://%s/p.png" % bucket), 5)
    assert "--av, --av2, --image or --exif" in assert_one_error_line(w("info", "wcs://%s/p.png" % bucket), 2)
    assert "HTTP 404" in assert_one_error_line(w("info", "--av", "wcs://%s/none.mp4" % bucket), 5)


def test_convert_type_restore_and_a_refused_download(w, bucket, tmp_path):
    data = tmp_path / "d"
    data.write_bytes(b"cold bytes")
    obj = "wcs://%s/cold/a" % bucket
    assert w("put", obj, data).status == 0
    run = w("convert-type", obj, "Archive")
    assert run.status == 0 and list(run.json) == declared("convert-type")
    assert w("stat", obj).json["body"]["storageClass"] == "Archive"
    got = w("get", obj, tmp_path / "copy")
    line = assert_one_error_line(got, 5)
    assert line == ("wcscmd: error: %s is in Archive storage and not restored: run 'wcscmd restore %s DAYS', then "
                    "this again once 'wcscmd stat' shows restoreState restored (HTTP 403, reqid %s)"
                    % (obj, obj, got.json["reqid"]))
    assert got.json["code"] == 403
    copied = w("cp", obj, tmp_path / "copy")  # cp's download says the same
    assert "is in Archive storage and not restored: run 'wcscmd restore" in assert_one_error_line(copied, 5)
    assert not (tmp_path / "copy").exists()
    assert "Archive storage and not restored" in assert_one_error_line(w("cat", obj), 5)
    assert "Invalid Object State" in assert_one_error_line(w("convert-type", obj, "Archive"), 5)
    assert "invalid choice: 'Cold'" in assert_one_error_line(w("convert-type", obj, "Cold"), 2)
    restored = w("restore", obj, "2")
    assert restored.status == 0 and list(restored.json) == declared("restore")
    assert "restore of %s started" % obj in restored.err
    assert w("stat", obj).json["body"]["restoreState"] == "restoring"
    assert "Restore Is InProgress" in assert_one_error_line(w("restore", obj, "2"), 5)
    assert "DAYS" in assert_one_error_line(w("restore", obj, "0"), 2)
    assert "HTTP 404: File Not Found" in assert_one_error_line(w("restore", "wcs://%s/missing" % bucket, "1"), 5)
    assert "HTTP 401: Invalid Object State" in assert_one_error_line(w("restore", "wcs://%s/cold" % bucket, "1"), 5) \
        if w("put", "wcs://%s/cold" % bucket, data).status == 0 else False


def test_ls_long_and_json_show_the_class_and_the_restore(w, bucket, tmp_path):
    data = tmp_path / "d"
    data.write_bytes(b"12345")
    for key in ("l/std", "l/arch"):
        assert w("put", "wcs://%s/%s" % (bucket, key), data).status == 0
    assert w("convert-type", "wcs://%s/l/arch" % bucket, "Archive").status == 0
    lines = w("ls", "-l", "wcs://%s/l/" % bucket).out.splitlines()
    assert [line.split()[2:] for line in lines] == [["5", "Archive:none", "l/arch"], ["5", "Standard", "l/std"]]
    assert w("restore", "wcs://%s/l/arch" % bucket, "1").status == 0
    assert w("ls", "-l", "wcs://%s/l/arch" % bucket).out.split()[3] == "Archive:restoring"
    assert w("ls", "wcs://%s/l/arch" % bucket).out.split()[2:] == ["5", "l/arch"]  # the default line is unchanged
    records = [json.loads(line) for line in w("ls", "--json", "wcs://%s/l/" % bucket).out.splitlines()]
    assert [(r["storage_class"], r["restore_state"], r["restore_until"]) for r in records] == [
        ("Archive", "restoring", None), ("Standard", None, None)]
    assert "-l" in assert_one_error_line(w("du", "-l", "wcs://%s/l/" % bucket), 2)


def test_the_r_forms_run_over_a_prefix(w, bucket, tmp_path):
    data = tmp_path / "d"
    data.write_bytes(b"x")
    for key in ("p/a", "p/b", "p/c"):
        assert w("put", "wcs://%s/%s" % (bucket, key), data).status == 0
    assert w("convert-type", "wcs://%s/p/a" % bucket, "Archive").status == 0
    run = w("restore", "-r", "wcs://%s/p/" % bucket, "1", "-v")
    assert run.status == 0 and list(run.json) == declared("restore -r")
    assert (run.json["listed"], run.json["done"], run.json["skipped"]) == (3, 1, {"not Archive": 2})
    assert "wcscmd: wcs://%s/p/a: done" % bucket in run.err_lines
    partial = w("convert-type", "-r", "wcs://%s/p/" % bucket, "IA")
    assert partial.status == 10 and (partial.json["done"], partial.json["failed"]) == (2, 1)
    assert partial.err_lines[0].startswith("wcscmd: error: wcs://%s/p/a: HTTP 403: Invalid Object State" % bucket)
    assert partial.err_lines[-1].startswith("wcscmd: error: 1 of 3 objects failed (first: p/a")
    again = w("convert-type", "-r", "wcs://%s/p/" % bucket, "IA")
    assert again.json["skipped"] == {"already IA": 2}
    assert "needs -r" in assert_one_error_line(w("restore", "wcs://%s/p/a" % bucket, "1", "--concurrency", "2"), 2)


def test_job_commands_with_and_without_wait(w, bucket, tmp_path):
    data = tmp_path / "d"
    data.write_bytes(b"zip me")
    for key in ("z/a.txt", "z/dir/b.txt", "logs/1", "v.m3u8"):
        assert w("put", "wcs://%s/%s" % (bucket, key), data).status == 0
    submitted = w("zip", "wcs://%s/out.zip" % bucket, "wcs://%s/z/a.txt" % bucket)
    assert submitted.status == 0 and list(submitted.json) == declared("zip")
    run = w("zip", "wcs://%s/out2.zip" % bucket, "wcs://%s/z/a.txt" % bucket, "wcs://%s/z/dir/" % bucket, "--wait")
    assert run.status == 0 and list(run.json) == declared("zip --wait") and run.json["body"]["code"] == 3
    assert w("stat", "wcs://%s/out2.zip" % bucket).status == 0
    failed = w("zip", "wcs://%s/out3.zip" % bucket, "wcs://%s/nothing" % bucket, "--wait")
    assert failed.status == 9 and failed.json["body"]["items"][0]["code"] == 2
    assert failed.err_lines[-1].startswith("wcscmd: error: job %s failed: 1 of 1 operations failed (first: File "
                                           "Not Found" % failed.json["body"]["id"])
    deadline = w("setdeadline", "-r", "wcs://%s/logs/" % bucket, "5", "--wait", "--json")
    assert deadline.status == 0 and deadline.json["body"]["items"][0]["count"] == 1
    assert list(deadline.json) == declared("setdeadline -r --wait")
    assert w("stat", "wcs://%s/logs/1" % bucket).json["body"]["expirationDate"]
    m3u8 = w("deletem3u8", "wcs://%s/v.m3u8" % bucket, "--keep-ts", "--wait")
    assert m3u8.status == 0 and w("stat", "wcs://%s/v.m3u8" % bucket).status == 5
    assert list(m3u8.json) == declared("deletem3u8 --wait")
    assert "needs -r" in assert_one_error_line(w("setdeadline", "wcs://%s/logs/1" % bucket, "5", "--wait"), 2)
    assert "--output does not apply" in assert_one_error_line(
        w("zip", "wcs://%s/o.zip" % bucket, "wcs://%s/z/a.txt" % bucket, "--output", "b:k"), 2)
    assert "one bucket" in assert_one_error_line(w("zip", "wcs://%s/o.zip" % bucket, "wcs://x/a", "wcs://y/b"), 2)
    assert "every object" in assert_one_error_line(w("setdeadline", "-r", "wcs://%s" % bucket, "0"), 2)
    assert w("setdeadline", "wcs://%s/logs/1" % bucket, "3", "--relevance").status == 0  # the official form


def test_wait_gives_up_on_a_job_still_running(w, bucket, monkeypatch):
    # The loop that follows a job is tested with a clock of its own (tests/unit/test_vendor_pure.py); here,
    # what the command makes of a job still processing when the wait ends.
    from wcs.commons.answers import JobStatus
    from wcs.commons.result import Result
    from wcs.services.client import Client

    def still_running(self, job_id, timeout, **kwargs):
        assert timeout == 0.5
        return JobStatus.from_result(job_id, Result(200, {"id": job_id, "code": 1, "items": []}, {}))

    monkeypatch.setattr(Client, "wait_job", still_running)
    run = w("deletem3u8", "wcs://%s/none.m3u8" % bucket, "--wait", "--wait-timeout", "0.5")
    assert run.status == 9 and run.json["body"]["code"] == 1
    job_id = run.json["body"]["id"]
    assert run.err_lines[-1] == ("wcscmd: error: job %s still running after 0.5 s (code 1); follow it with: "
                                 "wcscmd fmgrStatus %s" % (job_id, job_id))


def test_wait_reports_a_status_that_cannot_be_read(w, bucket, monkeypatch):
    from wcs.commons.answers import JobStatus
    from wcs.commons.result import Result
    from wcs.services.client import Client

    monkeypatch.setattr(Client, "wait_job", lambda self, job_id, **kwargs: JobStatus.from_result(
        job_id, Result(404, {"code": 404, "message": "Job Not Found"}, {"x-reqid": "r1"})))
    run = w("setdeadline", "-r", "wcs://%s/x/" % bucket, "1", "--wait")
    assert run.status == 5 and run.json["body"] == {"code": 404, "message": "Job Not Found"}
    assert run.err_lines[-1] == "wcscmd: error: wcs://%s/x/: HTTP 404: Job Not Found (reqid r1)" % bucket


def test_bucketstat_is_a_table_on_a_terminal_and_json_elsewhere(cfgfile, bucket, tmp_path):
    data = tmp_path / "d"
    data.write_bytes(b"x" * 2048)
    assert main(["-c", cfgfile, "put", "wcs://%s/k" % bucket, str(data), "-q"], stdout=io.StringIO(),
                stderr=io.StringIO(), environ={}) == 0
    status, out, _ = run_main(cfgfile, "bucketstat", bucket, tty=True)
    lines = out.splitlines()
    assert status == 0 and lines[0].startswith("storage used per day (MB, the day's peak), ")
    assert lines[1].split() == ["date", bucket] and lines[-2].split()[0] == "peak"
    assert lines[-1].split()[0] == "average" and lines[-2].split()[1] == "0.002"
    status, out, _ = run_main(cfgfile, "bucketstat", "%s|%s" % (bucket, bucket), "--statistics", "uploadRequest",
                              tty=True)
    assert status == 0 and out.startswith("uploadRequest per day (objects uploaded)")
    assert out.splitlines()[1].split()[-1] == "total" and out.splitlines()[-1].split()[-1] == "2"
    status, out, _ = run_main(cfgfile, "bucketstat", bucket, "--json", tty=True)
    assert status == 0 and list(json.loads(out)) == declared("bucketstat")
    status, out, _ = run_main(cfgfile, "bucketstat", bucket, "--statistics", "uploadRequest")
    assert status == 0 and json.loads(out)["body"]["buckets"][0]["detail"][-1]["uploadRequest"] >= 1
    status, out, err = run_main(cfgfile, "bucketstat", bucket, "--statistics", "uploadRequest", "--storagetype",
                                "Archive")
    assert status == 2 and "--storagetype" in err
    status, out, err = run_main(cfgfile, "bucketstat", bucket, "--statistics", "nonsense")
    assert status == 5 and "type must be one of" in err
