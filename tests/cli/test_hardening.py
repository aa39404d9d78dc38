"""``wcscmd`` never reports success for a wrong result: responses cut inside their headers, unverifiable
empty bodies, files the user may not write, keys the service cannot serve, loose config permissions,
and JSON on stdout for every failed call."""

import os
import socket
import stat
import threading

import pytest

from tests.cli.conftest import assert_one_error_line


class _RawServer:
    """Answers every request with ``reply`` (raw bytes) and closes the connection."""

    def __init__(self, reply: bytes) -> None:
        self.reply = reply
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = "http://127.0.0.1:%d" % self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                try:
                    conn.settimeout(10)
                    request = b""
                    while b"\r\n\r\n" not in request:  # all of it: unread bytes would make close() an RST
                        data = conn.recv(65536)
                        if not data:
                            break
                        request += data
                    conn.sendall(self.reply)
                    conn.shutdown(socket.SHUT_WR)
                    while conn.recv(65536):  # until the client closes: a close of ours never resets
                        pass
                except OSError:
                    pass

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def raw_server():
    servers = []

    def start(reply: bytes) -> _RawServer:
        servers.append(_RawServer(reply))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


@pytest.fixture
def c_noretry(wcscmd, cfgfile):
    with open(cfgfile, "a", encoding="utf-8") as fp:
        fp.write("connection_retries = 0\n")
    return lambda *argv: wcscmd("-c", cfgfile, *argv)


# -- 6: incomplete and unverifiable responses -----------------------------------------------------------

@pytest.mark.parametrize("reply", [b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n",
                                   b"HTTP/1.1 200 OK\r\nContent-Ty", b"HTTP/1.1 200 OK\r\n\r\n"],
                         ids=["after-a-header", "inside-a-header", "no-framing-no-body"])
def test_get_of_a_response_cut_inside_its_headers_fails_and_writes_nothing(c_noretry, raw_server, tmp_path,
                                                                            reply):
    server = raw_server(reply)
    run = c_noretry("get", server.url + "/obj", "fresh.bin")
    assert_one_error_line(run, 6)
    assert run.json["code"] == -1
    assert not (tmp_path / "fresh.bin").exists()
    existing = tmp_path / "kept.bin"
    existing.write_bytes(b"previous content")
    assert_one_error_line(c_noretry("get", server.url + "/obj", str(existing)), 6)
    assert existing.read_bytes() == b"previous content"


def test_an_unverifiable_empty_body_never_replaces_a_file(c_noretry, raw_server, tmp_path):
    server = raw_server(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
    existing = tmp_path / "kept.bin"
    existing.write_bytes(b"previous content")
    run = c_noretry("get", server.url + "/obj", str(existing))
    line = assert_one_error_line(run, 7)
    assert "empty" in line
    assert existing.read_bytes() == b"previous content"
    # nothing to replace: an empty object is just that
    run = c_noretry("get", server.url + "/obj", "new.bin")
    assert run.status == 0, run.err
    assert (tmp_path / "new.bin").read_bytes() == b""


def test_a_body_shorter_than_announced_is_an_error(c_noretry, raw_server, tmp_path):
    server = raw_server(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this")
    assert_one_error_line(c_noretry("get", server.url + "/obj", "short.bin"), 6)
    assert not (tmp_path / "short.bin").exists()


# -- 8: files the user may not write ------------------------------------------------------------------

@pytest.fixture
def served(raw_server):
    body = b"new content"
    return raw_server(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nETag: \"%s\"\r\n\r\n%s"
                      % (len(body), etag_of(body).encode(), body))


def etag_of(data: bytes) -> str:
    import io

    from wcs.commons.util import etag_stream

    return etag_stream(io.BytesIO(data))


def test_get_refuses_a_read_only_file(c_noretry, served, tmp_path):
    target = tmp_path / "ro.bin"
    target.write_bytes(b"keep me")
    os.chmod(target, 0o444)
    line = assert_one_error_line(c_noretry("get", served.url + "/obj", str(target)), 4)
    assert "ro.bin" in line and "permission denied" in line
    assert target.read_bytes() == b"keep me" and stat.S_IMODE(os.stat(target).st_mode) == 0o444
    os.chmod(target, 0o644)
    assert c_noretry("get", served.url + "/obj", str(target)).status == 0
    assert target.read_bytes() == b"new content"


@pytest.mark.skipif(not hasattr(os, "chown") or os.getuid() != 0, reason="giving a file away needs root")
def test_get_refuses_a_file_of_another_owner(c_noretry, served, tmp_path):
    target = tmp_path / "theirs.bin"
    target.write_bytes(b"keep me")
    os.chmod(target, 0o666)
    os.chown(target, 12345, 12345)
    line = assert_one_error_line(c_noretry("get", served.url + "/obj", str(target)), 4)
    assert "another user" in line
    assert target.read_bytes() == b"keep me" and os.stat(target).st_uid == 12345


# -- 9: keys the service cannot serve ------------------------------------------------------------------

@pytest.mark.parametrize("key", ["a\nb", "a\rb", "tab\there", "nul\x00", "del\x7f"])
def test_put_refuses_a_key_with_control_characters_before_sending(wcscmd, cfgfile, emulator, bucket, tmp_path,
                                                                    key):
    source = tmp_path / "src.txt"
    source.write_bytes(b"x")
    emulator.reset_counters()
    for command in ("put", "multiput"):
        line = assert_one_error_line(wcscmd("-c", cfgfile, command, "wcs://%s/%s" % (bucket, key), str(source)), 2)
        assert "control characters" in line
    assert emulator.counters.get("upload", 0) == 0 and emulator.counters.get("mkblk", 0) == 0


# -- 10: a config file others may read or write --------------------------------------------------------

@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
@pytest.mark.parametrize("mode, word", [(0o644, "read"), (0o620, "written"), (0o666, "read and written")])
def test_a_config_file_others_can_read_or_write_gets_one_warning(wcscmd, cfgfile, bucket, mode, word):
    os.chmod(cfgfile, mode)
    run = wcscmd("-c", cfgfile, "stat", "wcs://%s/missing" % bucket)
    assert run.status == 5
    warnings = [line for line in run.err_lines if "warning" in line]
    assert len(warnings) == 1, run.err_lines
    assert "can be %s by other users" % word in warnings[0] and "chmod 600" in warnings[0]
    assert cfgfile in warnings[0]
    os.chmod(cfgfile, 0o600)
    assert [line for line in wcscmd("-c", cfgfile, "stat", "wcs://%s/missing" % bucket).err_lines
            if "warning" in line] == []


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_the_library_logs_the_config_warning(tmp_path, caplog):
    from wcs.commons.config import Config

    path = tmp_path / "cfg"
    path.write_text("[default]\naccess_key = ak\nsecret_key = sk\n")
    path.chmod(0o640)
    with caplog.at_level("WARNING", logger="wcs.commons.config"):
        Config(str(path))
    assert [r.getMessage() for r in caplog.records if "other users" in r.getMessage()] != []
    caplog.clear()
    path.chmod(0o600)
    with caplog.at_level("WARNING", logger="wcs.commons.config"):
        Config(str(path))
    assert caplog.records == []


# -- 11: a JSON document for every failed call -------------------------------------------------------------

def test_an_integrity_error_still_prints_a_json_document(c_noretry, raw_server, tmp_path):
    body = b"x" * 1000
    server = raw_server(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nETag: \"Fqr0xh3cxeii2r7eDztILNmuqUNN\"\r\n\r\n"
                        + body)
    run = c_noretry("get", server.url + "/lying", "out.bin")
    line = assert_one_error_line(run, 7)
    document = run.json
    assert document["status"] == 7 and document["error"] == line[len("wcscmd: error: "):]
    assert not (tmp_path / "out.bin").exists()


def test_a_full_disk_during_listall_names_the_file_and_prints_json(wcscmd, cfgfile, emulator, bucket, tmp_path,
                                                                    monkeypatch):
    import errno

    from tests.emulator.conftest import Api

    for i in range(3):
        Api(emulator).put(bucket, "k%d" % i)
    import wcs.commons.fsutil as fsutil

    real_fdopen = fsutil._fdopen

    class _Full:
        def __init__(self, stream):
            self._stream = stream

        def write(self, text):
            raise OSError(errno.ENOSPC, "No space left on device")

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return self._stream.__exit__(*exc)

        def __getattr__(self, name):
            return getattr(self._stream, name)

    monkeypatch.setattr(fsutil, "_fdopen", lambda fd, binary, encoding: _Full(real_fdopen(fd, binary, encoding)))
    run = wcscmd("-c", cfgfile, "listall", "wcs://%s" % bucket, "all.json")
    line = assert_one_error_line(run, 4)
    assert str(tmp_path / "all.json") in line and "No space left on device" in line
    assert run.json["status"] == 4 and run.json["error"] == line[len("wcscmd: error: "):]
    assert not (tmp_path / "all.json").exists()
    assert [name for name in os.listdir(tmp_path) if "all.json" in name] == []


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_listall_into_dev_full(wcscmd, cfgfile, bucket):
    run = wcscmd("-c", cfgfile, "listall", "wcs://%s" % bucket, "/dev/full")
    line = assert_one_error_line(run, 4)
    assert "/dev/full" in line and run.json["status"] == 4
