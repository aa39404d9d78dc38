"""Every wcscmd command against the emulator, in-process: JSON on stdout, one error line, exit codes."""

import errno
import http.server
import json
import os
import socket
import threading

import pytest

from tests.cli.conftest import assert_one_error_line
from tests.helpers.servers import loopback_server
from tests.helpers.waiting import wait_until
from wcs.commons.util import etag

ODD_KEYS = ["dir/sub/file.txt", "a key with spaces.txt", "ключ/文件.txt", "100%.txt", "what?.txt", "hash#tag.txt",
            "plus+sign.txt", "k" * 1000]


@pytest.fixture
def c(wcscmd, cfgfile):
    """``c(*argv)``: wcscmd with ``-c <emulator config>``."""
    return lambda *argv: wcscmd("-c", cfgfile, *argv)


@pytest.fixture
def local(tmp_path):
    def make(name="local.bin", data=b"hello wcs\n"):
        path = tmp_path / name
        path.write_bytes(data)
        return str(path)
    return make


def ok(run):
    assert run.status == 0, (run.out, run.err)
    assert "Traceback" not in run.err
    return run.json


def test_listbucket(c, bucket):
    doc = ok(c("listbucket"))
    assert doc["code"] == 200 and doc["reqid"]
    assert bucket in [b["name"] for b in doc["body"]["buckets"]]


@pytest.mark.parametrize("key", ODD_KEYS, ids=lambda k: k[:20])
def test_put_stat_get_with_any_key(c, bucket, local, tmp_path, key):
    path = local(data=os.urandom(1000))
    doc = ok(c("put", "wcs://%s/%s" % (bucket, key), path))
    assert doc["body"]["hash"] == etag(path)
    doc = ok(c("stat", "wcs://%s/%s" % (bucket, key)))
    assert doc["body"]["fsize"] == 1000 and doc["body"]["hash"] == etag(path)
    target = str(tmp_path / "copy.bin")
    doc = ok(c("get", "wcs://%s/%s" % (bucket, key), target))
    assert doc["file"] == target and doc["size"] == 1000
    assert open(target, "rb").read() == open(path, "rb").read()


def test_put_without_key_uses_file_name_and_overwrite_flag(c, bucket, local):
    path = local("named.txt")
    ok(c("put", "wcs://%s" % bucket, path))
    assert ok(c("stat", "wcs://%s/named.txt" % bucket))["body"]["fsize"] == os.path.getsize(path)
    run = c("put", "wcs://%s/named.txt" % bucket, path)
    line = assert_one_error_line(run, 5)
    assert "406" in line and "reqid" in line
    assert run.json["code"] == 406  # what the service said is still on stdout
    ok(c("put", "wcs://%s/named.txt" % bucket, path, "--overwrite", "1"))


def test_put_local_file_errors(c, bucket, tmp_path):
    line = assert_one_error_line(c("put", "wcs://%s/k" % bucket, str(tmp_path / "missing")), 4)
    assert "missing" in line
    assert_one_error_line(c("put", "wcs://%s/k" % bucket, str(tmp_path)), 4)
    assert_one_error_line(c("multiput", "wcs://%s/k" % bucket, str(tmp_path / "missing")), 4)


def _fill(c, bucket, local, keys):
    path = local()
    for key in keys:
        ok(c("put", "wcs://%s/%s" % (bucket, key), path))


def test_list_pages_with_options_after_arguments(c, bucket, local, tmp_path):
    _fill(c, bucket, local, ["a/1", "a/2", "a/3", "b/1"])
    doc = ok(c("list", "wcs://%s" % bucket, "./result", "--limit", "2"))
    assert doc["count"] == 2 and doc["marker"] and doc["file"] == str(tmp_path / "result")
    first = json.loads((tmp_path / "result").read_text())
    assert [i["key"] for i in first["items"]] == ["a/1", "a/2"]
    doc = ok(c("list", "wcs://%s" % bucket, "./result", "--limit", "4", "--marker", doc["marker"]))
    assert [i["key"] for i in json.loads((tmp_path / "result").read_text())["items"]] == ["a/3", "b/1"]
    doc = ok(c("--prefix", "a/", "list", "wcs://%s" % bucket, "./result"))
    assert doc["count"] == 3


def test_listall_streams_every_item_as_a_json_array(c, bucket, local, tmp_path):
    keys = ["k%02d" % i for i in range(7)] + ["dir/x"]
    _fill(c, bucket, local, keys)
    doc = ok(c("listall", "wcs://%s" % bucket, "all.json", "--limit", "3"))
    assert doc["count"] == 8
    items = json.loads((tmp_path / "all.json").read_text())
    assert sorted(i["key"] for i in items) == sorted(keys)
    ok(c("listall", "wcs://%s" % bucket, "empty.json", "--prefix", "nothing/"))
    assert json.loads((tmp_path / "empty.json").read_text()) == []


def test_listall_reports_the_reqid_of_the_last_page(c, bucket, local, monkeypatch):
    from wcs.services.bucket import BucketManager

    _fill(c, bucket, local, ["k%d" % i for i in range(5)])
    reqids = []
    list_page = BucketManager.list_page

    def recorded(self, *args, **kwargs):
        result = list_page(self, *args, **kwargs)
        reqids.append(result.reqid)
        return result

    monkeypatch.setattr(BucketManager, "list_page", recorded)
    doc = ok(c("listall", "wcs://%s" % bucket, "all.json", "--limit", "2"))
    assert doc["count"] == 5 and len(reqids) == 3 and len(set(reqids)) == 3
    assert doc["reqid"] == reqids[-1] and doc["reqid"]


def test_list_failures_leave_no_result_file(c, tmp_path):
    run = c("list", "wcs://no-such-bucket-here", "res.json")
    assert_one_error_line(run, 5)
    assert run.json["code"] == 404
    run = c("listall", "wcs://no-such-bucket-here", "all.json")
    assert_one_error_line(run, 5)
    assert not (tmp_path / "res.json").exists() and not (tmp_path / "all.json").exists()
    assert [p for p in os.listdir(tmp_path) if p.endswith(".tmp")] == []


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
@pytest.mark.parametrize("command", ["list", "listall"])
def test_list_resfile_fifo_is_streamed_into_not_replaced(c, bucket, local, tmp_path, command):
    # As `wcscmd list wcs://b /dev/stdout`: a FIFO or device gets the listing, it is never replaced.
    import stat

    _fill(c, bucket, local, ["a", "b"])
    fifo = tmp_path / "pipe"
    os.mkfifo(str(fifo))
    received = []

    def drain():
        with open(str(fifo), encoding="utf-8") as fp:
            received.append(fp.read())

    reader = threading.Thread(target=drain, daemon=True)  # never left blocked on the FIFO
    reader.start()
    doc = ok(c(command, "wcs://%s" % bucket, str(fifo)))
    reader.join(30)
    assert doc["count"] == 2 and doc["file"] == str(fifo)
    listing = json.loads(received[0])
    items = listing if command == "listall" else listing["items"]
    assert sorted(i["key"] for i in items) == ["a", "b"]
    assert stat.S_ISFIFO(os.stat(str(fifo)).st_mode)
    assert [p for p in os.listdir(tmp_path) if p.endswith(".tmp")] == []


@pytest.mark.parametrize("command", ["list", "listall"])
def test_list_resfile_symlink_is_written_through_and_stays_a_link(c, bucket, local, tmp_path, command):
    _fill(c, bucket, local, ["a"])
    real = tmp_path / "real.json"
    real.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(real)
    ok(c(command, "wcs://%s" % bucket, str(link)))
    assert link.is_symlink() and os.readlink(str(link)) == str(real)
    listing = json.loads(real.read_text())
    assert [i["key"] for i in (listing if command == "listall" else listing["items"])] == ["a"]


def test_cp_mv_del(c, bucket, local, emulator):
    other = bucket + "-2"
    emulator.create_bucket(other)
    _fill(c, bucket, local, ["src/a.txt"])
    ok(c("cp", "wcs://%s/src/a.txt" % bucket, "wcs://%s/dst/b.txt" % other))
    ok(c("stat", "wcs://%s/dst/b.txt" % other))
    ok(c("mv", "wcs://%s/dst/b.txt" % other, "wcs://%s/moved/c.txt" % bucket))
    ok(c("stat", "wcs://%s/moved/c.txt" % bucket))
    assert_one_error_line(c("stat", "wcs://%s/dst/b.txt" % other), 5)
    ok(c("cp", "wcs://%s/src/a.txt" % bucket, "wcs://%s" % other))  # empty key: same key
    ok(c("stat", "wcs://%s/src/a.txt" % other))
    ok(c("del", "wcs://%s/src/a.txt" % bucket))
    run = c("stat", "wcs://%s/src/a.txt" % bucket)
    assert_one_error_line(run, 5)
    assert run.json["code"] == 404
    assert_one_error_line(c("del", "wcs://%s/src/a.txt" % bucket), 5)


@pytest.mark.parametrize("days", ["-1", '"-1"', "30", "0"])
def test_setdeadline(c, bucket, local, days):
    _fill(c, bucket, local, ["d/k"])
    ok(c("setdeadline", "wcs://%s/d/k" % bucket, days))
    if days == "30":
        assert ok(c("stat", "wcs://%s/d/k" % bucket))["body"]["expirationDate"]
    if days in ("-1", '"-1"'):
        assert ok(c("stat", "wcs://%s/d/k" % bucket))["body"]["expirationDate"] == ""


def test_setdeadline_relevance_and_missing_object(c, bucket, local):
    _fill(c, bucket, local, ["v.m3u8"])
    ok(c("setdeadline", "wcs://%s/v.m3u8" % bucket, "5", "--relevance"))
    assert_one_error_line(c("setdeadline", "wcs://%s/nope" % bucket, "-1"), 5)


def test_multiput_prints_upload_id_first(c, bucket, local):
    path = local("big.bin", os.urandom(9 * 1024 * 1024))
    run = c("multiput", "wcs://%s/big/one.bin" % bucket, path, "--block-size", "4M", "--concurrency", "2")
    doc = ok(run)
    assert doc["body"]["hash"] == etag(path)
    assert run.err_lines[0] == "wcscmd: upload id: %s" % doc["upload_id"]
    assert "resume" not in run.err
    assert ok(c("stat", "wcs://%s/big/one.bin" % bucket))["body"]["hash"] == etag(path)


@pytest.fixture
def c_noretry(wcscmd, cfgfile):
    with open(cfgfile, "a", encoding="utf-8") as fp:
        fp.write("connection_retries = 0\nmkblk_retries = 0\nbput_retries = 0\nmkfile_retries = 0\n")
    return lambda *argv: wcscmd("-c", cfgfile, *argv)


def test_multiput_failure_tells_how_to_resume(c_noretry, bucket, local, emulator):
    path = local("big.bin", os.urandom(5 * 1024 * 1024))
    emulator.set_faults("mkblk:500:1.0")
    try:
        run = c_noretry("multiput", "wcs://%s/resumable" % bucket, path)
    finally:
        emulator.set_faults(None)
    assert run.status == 5, run.err
    assert "Traceback" not in run.err
    upload_id = run.err_lines[0].split()[-1]
    assert run.err_lines[1].startswith("wcscmd: error: ")
    assert "--upload-id %s" % upload_id in run.err_lines[-1] and "multiput" in run.err_lines[-1]
    assert run.json["upload_id"] == upload_id
    run = c_noretry("multiput", "wcs://%s/resumable" % bucket, path, "--upload-id", upload_id)
    assert ok(run)["upload_id"] == upload_id
    assert run.err_lines == ["wcscmd: upload id: %s" % upload_id]
    assert ok(c_noretry("stat", "wcs://%s/resumable" % bucket))["body"]["hash"] == etag(path)


def test_multiput_resume_of_another_file_is_a_resume_error(c_noretry, bucket, local, emulator):
    first = local("first.bin", os.urandom(5 * 1024 * 1024))
    second = local("second.bin", os.urandom(6 * 1024 * 1024))
    emulator.set_faults("mkblk:500:1.0")
    try:
        run = c_noretry("multiput", "wcs://%s/r" % bucket, first)
    finally:
        emulator.set_faults(None)
    upload_id = run.json["upload_id"]
    run = c_noretry("multiput", "wcs://%s/r" % bucket, second, "--upload-id", upload_id)
    assert run.status == 8, run.err
    assert "Traceback" not in run.err and "wcscmd: error: " in run.err


def test_multiput_invalid_upload_id_is_refused_before_anything(c, bucket, local):
    line = assert_one_error_line(c("multiput", "wcs://%s/k" % bucket, local(), "--upload-id", "../../etc"), 2)
    assert "upload id" in line


def test_environment_alone_is_enough(wcscmd, emulator, bucket, monkeypatch):
    monkeypatch.setenv("WCS_ACCESS_KEY", emulator.access_key)
    monkeypatch.setenv("WCS_SECRET_KEY", emulator.secret_key)
    monkeypatch.setenv("WCS_MGR_URL", emulator.url)
    assert ok(wcscmd("listbucket"))["code"] == 200
    line = assert_one_error_line(wcscmd("put", "wcs://%s/k" % bucket, __file__), 3)
    assert "put_url" in line and "WCS_PUT_URL" in line and emulator.secret_key not in line


def test_multiput_interrupted(c, bucket, local, monkeypatch):
    from wcs.services.client import Client

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(Client, "multipart_upload", interrupted)
    path = local("big.bin", b"x" * 100)
    run = c("multiput", "wcs://%s/k" % bucket, path)
    assert run.status == 130 and run.out == "" and "Traceback" not in run.err
    upload_id = run.err_lines[0].split()[-1]
    assert run.err_lines[1] == "wcscmd: error: interrupted"
    assert run.err_lines[2].endswith("--upload-id %s" % upload_id)


@pytest.mark.parametrize("argv, expected", [
    (["multiput", "wcs://b/k", "f"], ["multiput", "wcs://b/k", "f", "--upload-id", "NEW"]),
    (["--upload-id", "OLD", "multiput", "wcs://b/k", "f", "--block-size", "8M"],
     ["multiput", "wcs://b/k", "f", "--block-size", "8M", "--upload-id", "NEW"]),
    (["multiput", "--upload-id=OLD", "wcs://b/k", "f", "--upload", "OLD2"],
     ["multiput", "wcs://b/k", "f", "--upload-id", "NEW"]),
    (["multiput", "wcs://b/k", "--", "--upload-id"],
     ["multiput", "wcs://b/k", "--upload-id", "NEW", "--", "--upload-id"]),
])
def test_resume_argv_replaces_only_the_upload_id(argv, expected):
    from wcs.cli.wcscmd import resume_argv

    assert resume_argv(argv, "NEW") == expected


def test_resume_hint_keeps_every_option_and_resumes(c, cfgfile, emulator, bucket, local, monkeypatch):
    import shlex

    from wcs.cli.wcscmd import main
    from wcs.services import blocksteps

    path = local("big 8m.bin", os.urandom(8 * 1024 * 1024 + 5))
    original = blocksteps.BlockSteps.send_block

    def interrupt_second_block(self, file_path, block, *args):
        if block.index > 0:
            raise KeyboardInterrupt
        return original(self, file_path, block, *args)

    monkeypatch.setattr(blocksteps.BlockSteps, "send_block", interrupt_second_block)
    uri = "wcs://%s/resume 8m.bin" % bucket
    run = c("multiput", uri, path, "--block-size", "8M", "--concurrency", "0", "-q", "--put-url", emulator.url)
    monkeypatch.undo()
    assert run.status == 130, run.err
    hint = run.err_lines[-1]
    prefix = "wcscmd: to resume the upload run: wcscmd "
    assert hint.startswith(prefix), hint
    argv = shlex.split(hint[len(prefix):])
    assert argv[-2:] == ["--upload-id", run.err_lines[0].split()[-1]]
    for option in ("--block-size", "--concurrency", "-q", "--put-url", "-c"):
        assert option in argv
    assert main(argv) == 0
    assert ok(c("stat", uri))["body"]["hash"] == etag(path)


def _wait_done(c, command, persistent_id):
    """Poll until the job ended, its notification included (top-level codes 0, 1 and 4 mean running):
    a notification still in flight would log its failure into a later test's stderr."""
    runs = []

    def done():
        runs.append(c(command, persistent_id))
        return runs[-1].status in (0, 9) and runs[-1].json["body"].get("code") not in (0, 1, 4, "0", "1", "4")

    wait_until(done, timeout=10, interval=0.05)
    return runs[-1].json


def test_deleteprefix_and_fmgrstatus(c, bucket, local, tmp_path):
    _fill(c, bucket, local, ["logs/a", "logs/b", "keep"])
    doc = ok(c("deletePrefix", "wcs://%s" % bucket, "logs/"))
    persistent_id = doc["body"]["persistentId"]
    assert persistent_id
    status = _wait_done(c, "fmgrStatus", persistent_id)
    assert status["code"] == 200
    doc = ok(c("listall", "wcs://%s" % bucket, "all.json"))
    assert [i["key"] for i in json.loads((tmp_path / "all.json").read_text())] == ["keep"]


def test_fops_and_fopsstatus(c, bucket, local):
    _fill(c, bucket, local, ["v.mp4"])
    doc = ok(c("fops", "wcs://%s/v.mp4" % bucket, "avthumb/flv", "--notify", "http://127.0.0.1:9/n",
               "--force", "1", "--separate", "0"))
    persistent_id = doc["body"]["persistentId"]
    assert _wait_done(c, "fopsStatus", persistent_id)["code"] == 200
    assert_one_error_line(c("fopsStatus", "no-such-id"), 5)
    assert_one_error_line(c("fmgrStatus", "no-such-id"), 5)


def test_bucketstat(c, bucket, emulator):
    other = bucket + "-2"
    emulator.create_bucket(other)
    doc = ok(c("bucketstat", "%s|%s" % (bucket, other), "--startdate", "2024-01-01", "--enddate", "2024-01-31"))
    assert {b["name"] for b in doc["body"]["buckets"]} == {bucket, other}
    ok(c("bucketstat", bucket))  # official defaults: yesterday..today
    assert_one_error_line(c("bucketstat", bucket, "--startdate", "2024-02-01", "--enddate", "2024-01-01"), 2)


def test_crc64(wcscmd, local):
    doc = ok(wcscmd("crc64", local(data=b"hello")))
    assert doc["crc64Value"] == "11177612005948864433"


# -- get -----------------------------------------------------------------------------------------

def test_get_http_url_default_name_follows_official_rule(c, bucket, local, emulator, tmp_path):
    path = local(data=b"payload")
    ok(c("put", "wcs://%s/dir/name.txt" % bucket, path))
    url = "%s/%s/dir/name.txt" % (emulator.url, bucket)
    doc = ok(c("get", url))
    assert doc["file"] == str(tmp_path / "name.txt") and (tmp_path / "name.txt").read_bytes() == b"payload"
    doc = ok(c("get", url + "?wsiphost=local"))  # with a query: the whole path after the host
    assert doc["file"] == str(tmp_path / bucket / "dir" / "name.txt")


def test_get_404_leaves_no_file(c, bucket, emulator, tmp_path):
    run = c("get", "%s/%s/missing.txt" % (emulator.url, bucket), "out.txt")
    assert_one_error_line(run, 5)
    assert run.json["code"] == 404
    run = c("get", "wcs://%s/missing.txt" % bucket, "out.txt")
    assert_one_error_line(run, 5)
    # Official name rule with a query keeps the URL's folders: none are left behind on failure.
    assert_one_error_line(c("get", "%s/%s/deep/dir/missing.txt?x=1" % (emulator.url, bucket)), 5)
    assert sorted(os.listdir(tmp_path)) == ["emulator.wcscfg", "home"]


class _BadServer(http.server.BaseHTTPRequestHandler):
    """Serves a body shorter than its Content-Length (/short) or with a wrong WCS ETag (/lying)."""

    def do_GET(self):  # name fixed by http.server
        body = b"x" * 1000
        self.send_response(200)
        if self.path.startswith("/short"):
            self.send_header("Content-Length", "100000")
        else:
            self.send_header("Content-Length", str(len(body)))
            self.send_header("ETag", '"Fqr0xh3cxeii2r7eDztILNmuqUNN"')
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()
        self.close_connection = True

    def log_message(self, *args):
        pass


@pytest.fixture
def bad_server():
    with loopback_server(_BadServer) as server:
        yield "http://127.0.0.1:%d" % server.server_address[1]


def test_get_truncated_download_leaves_no_file(c_noretry, bad_server, tmp_path):
    target = tmp_path / "target.bin"
    target.write_bytes(b"previous content")
    line = assert_one_error_line(c_noretry("get", bad_server + "/short", str(target)), 6)
    assert "100000" in line or "bytes" in line
    assert target.read_bytes() == b"previous content"  # untouched, not truncated
    assert [p for p in os.listdir(tmp_path) if p.startswith(".target")] == []


def test_get_hash_mismatch_is_integrity_error(c_noretry, bad_server, tmp_path):
    assert_one_error_line(c_noretry("get", bad_server + "/lying", "out.bin"), 7)
    assert not (tmp_path / "out.bin").exists()


# -- failures of the environment ------------------------------------------------------------------

def _closed_port():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def test_unreachable_host_is_a_network_error(wcscmd, emulator, tmp_path):
    path = tmp_path / "c"
    path.write_text(emulator.config_text() + "connection_retries = 0\nconnection_timeout = 5\n")
    path.chmod(0o600)  # a config others can read gets a warning line of its own
    port = _closed_port()
    url = "http://127.0.0.1:%d" % port
    run = wcscmd("-c", str(path), "stat", "wcs://b/k", "--mgr-url", url)
    line = assert_one_error_line(run, 6)
    assert line == "wcscmd: error: cannot reach 127.0.0.1:%d: [Errno %d] Connection refused" \
        % (port, errno.ECONNREFUSED)
    assert run.json["code"] == -1 and "Max retries exceeded" in run.json["body"]["message"]  # the details
    assert_one_error_line(wcscmd("-c", str(path), "get", url + "/x", "out"), 6)
    assert not (tmp_path / "out").exists()


def test_wrong_keys_are_a_service_error_and_never_leak(wcscmd, emulator, bucket, tmp_path):
    secret = "wrong-secret-key-0123456789"
    path = tmp_path / "c"
    path.write_text("[default]\naccess_key = wrong\nsecret_key = %s\nput_url = %s\nmgr_url = %s\n"
                    % (secret, emulator.url, emulator.url))
    for argv in (["stat", "wcs://%s/k" % bucket], ["put", "wcs://%s/k" % bucket, str(path)],
                 ["listbucket", "--debug"]):
        run = wcscmd("-c", str(path), *argv)
        assert run.status == 5, run.err
        assert run.json["code"] == 401
        assert secret not in run.out + run.err


def test_debug_adds_a_traceback(c, bucket):
    assert "Traceback" not in c("stat", "wcs://%s/nope" % bucket).err
    run = c("stat", "wcs://%s/nope" % bucket, "--debug")
    assert run.status == 5 and "Traceback" in run.err and run.err_lines[-1].startswith(
        "wcscmd: error: wcs://%s/nope: HTTP 404" % bucket)


def test_unexpected_error_is_one_line_exit_1(c, bucket, monkeypatch):
    from wcs.services.client import Client

    def broken(*args, **kwargs):
        raise RuntimeError("something odd")

    monkeypatch.setattr(Client, "stat", broken)
    line = assert_one_error_line(c("stat", "wcs://%s/k" % bucket), 1)
    assert "RuntimeError" in line and "something odd" in line


# -- progress -------------------------------------------------------------------------------------

class _Terminal:
    """A stderr that claims to be a terminal, so the progress bar is drawn."""

    def __init__(self):
        self.parts = []

    def write(self, text):
        self.parts.append(text)
        return len(text)

    def flush(self):
        pass

    def isatty(self):
        return True

    @property
    def text(self):
        return "".join(self.parts)


@pytest.mark.parametrize("command", ["put", "multiput", "get"])
def test_progress_bar_only_on_a_terminal_and_not_quiet(cfgfile, bucket, local, monkeypatch, capsys, command):
    from wcs.cli.wcscmd import main

    path = local("p.bin", os.urandom(5 * 1024 * 1024))
    key = "wcs://%s/p.bin" % bucket
    if command == "get":
        assert main(["-c", cfgfile, "put", key, path]) == 0
        argv = ["get", key, path + ".copy"]
    else:
        argv = [command, key, path, "--overwrite", "1"]
    terminal = _Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    assert main(["-c", cfgfile] + argv) == 0
    assert "p.bin" in terminal.text and "5.00MB" in terminal.text  # drawn, then the final line
    quiet = _Terminal()
    monkeypatch.setattr("sys.stderr", quiet)
    assert main(["-c", cfgfile, "--quiet"] + argv) == 0
    # Only the upload id is kept: it is what a killed multiput needs to be resumed.
    assert [line for line in quiet.text.splitlines() if "upload id" not in line] == []
    capsys.readouterr()
