"""Issue 7, point 4 — bad input: every malformed input fails cleanly and leaves nothing behind.

One table of malformed inputs (URIs, local files, option values, config files, unreachable host,
wrong keys, keys the service refuses), each run through ``wcscmd``'s ``main``. Every row must give:
the documented exit status (wcs/cli/status.py, docs/wcscmd.md "Exit status"), exactly one error line on
stderr (``wcscmd: error: ...``; the only other lines allowed are multiput's ``upload id`` note and
its resume hint), no traceback, and afterwards the same objects in the bucket and the same files in
the working directory as before (resume records live in ``tmp_record_folder``, outside it).

Keys with spaces, unicode, ``%``, ``?``, ``#``, ``+`` or 1000 bytes are valid: a second table shows
they round-trip (put, multiput, stat, listall, get, del). A 1001-byte key is a usage error (exit 2)
found before anything is sent.

Related, not repeated here: tests/cli/test_parsing.py (usage errors), test_config_cli.py (config
errors), test_commands.py (``test_put_stat_get_with_any_key``, local file and network errors).
"""

import json
import os
import socket

import pytest

from tests.helpers.files import write_file
from wcs.cli.status import ExitStatus
from wcs.commons.config import Config
from wcs.services.client import Client

from .conftest import tree

SECRET_IN_BROKEN_LINE = "broken-line-secret-4242"
UNREADABLE_AS_ROOT = pytest.mark.skipif(
    hasattr(os, "geteuid") and os.geteuid() == 0,
    reason="root reads a chmod 000 file anyway; there is no honest way to make it unreadable here")


def closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def row(name, cfg, argv, status, needle=None, marks=()):
    return pytest.param(cfg, argv, status, needle, id=name, marks=marks)


U, C, L, S, N = ExitStatus.USAGE, ExitStatus.CONFIG, ExitStatus.LOCAL_FILE, ExitStatus.SERVICE, ExitStatus.NETWORK
PUT = ["put", "wcs://{b}/k", "{f}"]
MULTIPUT = ["multiput", "wcs://{b}/k", "{f}"]
LIST = ["list", "wcs://{b}", "out.json"]

TABLE = [
    # wcs:// URIs
    row("uri-no-scheme", "good", ["put", "{b}/k", "{f}"], U, "expected wcs://"),
    row("uri-other-scheme", "good", ["put", "s3://{b}/k", "{f}"], U, "expected wcs://"),
    row("uri-missing-bucket", "good", ["put", "wcs:///k", "{f}"], U, "missing bucket"),
    row("uri-control-char-in-bucket", "good", ["list", "wcs://{b}\nx", "out.json"], U, "invalid bucket name"),
    row("uri-scheme-only", "good", ["put", "wcs://", "{f}"], U, "missing bucket"),
    row("uri-bucket-with-space", "good", ["put", "wcs:// {b}/k", "{f}"], U, "invalid bucket"),
    row("uri-bucket-with-colon", "good", ["put", "wcs://{b}:x/k", "{f}"], U, "invalid bucket"),
    row("uri-empty-key-stat", "good", ["stat", "wcs://{b}"], U, "missing object key"),
    row("uri-empty-key-slash", "good", ["stat", "wcs://{b}/"], U, "missing object key"),
    row("uri-empty-key-del", "good", ["del", "wcs://{b}/"], U, "missing object key"),
    row("uri-missing-bucket-multiput", "good", ["multiput", "wcs:///k", "{f}"], U, "missing bucket"),
    row("uri-key-where-bucket-expected", "good", ["list", "wcs://{b}/k", "out.json"], U, "without a key"),
    # cp goes every way (wcs://B/a to the local path B/b is a download); neither side remote is refused.
    row("uri-cp-no-side-remote", "good", ["cp", "{b}/a", "{b}/b"], U, "must be wcs://"),
    row("uri-mv-source-without-key", "good", ["mv", "wcs://{b}", "wcs://{b}/b"], U, "missing object key"),
    row("uri-get-ftp", "good", ["get", "ftp://host/x", "out"], U, "http"),
    row("key-1001-bytes", "good", ["put", "wcs://{b}/" + "k" * 1001, "{f}"], U, "1001 bytes"),
    row("key-1002-bytes-unicode-multiput", "good", ["multiput", "wcs://{b}/" + "я" * 501, "{f}"], U, "1002 bytes"),
    # local files
    row("file-missing-put", "good", ["put", "wcs://{b}/k", "{missing}"], L, "missing.bin"),
    row("file-missing-multiput", "good", ["multiput", "wcs://{b}/k", "{missing}"], L, "missing.bin"),
    row("file-is-directory-put", "good", ["put", "wcs://{b}/k", "{dir}"], L, "directory"),
    row("file-is-directory-multiput", "good", ["multiput", "wcs://{b}/k", "{dir}"], L, "directory"),
    row("file-unreadable", "good", ["put", "wcs://{b}/k", "{unreadable}"], L, "permission", UNREADABLE_AS_ROOT),
    row("file-empty-name", "good", ["put", "wcs://{b}/k", ""], L, "no such file"),
    row("file-missing-crc64", "good", ["crc64", "{missing}"], L, "missing.bin"),
    row("get-target-folder-missing", "good", ["get", "wcs://{b}/seed.txt", "no-such-folder/"], L, "no such directory"),
    row("get-target-ends-with-slash", "good", ["get", "wcs://{b}/seed.txt", "newdir/"], L, "directory"),
    # option values
    row("block-size-not-multiple-of-4MiB", "good", MULTIPUT + ["--block-size", "5M"], U, "--block-size"),
    row("block-size-zero", "good", MULTIPUT + ["--block-size", "0"], U, "--block-size"),
    row("block-size-word", "good", MULTIPUT + ["--block-size", "lots"], U, "--block-size"),
    row("concurrency-negative", "good", MULTIPUT + ["--concurrency", "-1"], U, "--concurrency"),
    row("concurrency-word", "good", MULTIPUT + ["--concurrency", "two"], U, "--concurrency"),
    row("limit-zero", "good", LIST + ["--limit", "0"], U, "--limit"),
    row("limit-1001", "good", LIST + ["--limit", "1001"], U, "--limit"),
    row("limit-word", "good", LIST + ["--limit", "ten"], U, "--limit"),
    row("deadline-word", "good", PUT + ["--deadline", "tomorrow"], U, "--deadline"),
    row("deadline-negative", "good", PUT + ["--deadline", "-5"], U, "--deadline"),
    row("deadline-fraction", "good", PUT + ["--deadline", "1.5"], U, "--deadline"),
    row("mode-7", "good", LIST + ["--mode", "7"], U, "--mode"),
    row("overwrite-maybe", "good", PUT + ["--overwrite", "maybe"], U, "--overwrite"),
    row("upload-id-path", "good", MULTIPUT + ["--upload-id", "../../etc"], U, "upload id"),
    row("traffic-limit-word", "good", PUT + ["--traffic_limit", "fast"], U, "--traffic_limit"),
    row("startdate-month-13", "good", ["bucketstat", "{b}", "--startdate", "2024-13-01"], U, "--startdate"),
    row("setdeadline-days-word", "good", ["setdeadline", "wcs://{b}/seed.txt", "soon"], U, "DAYS"),
    row("unknown-command", "good", ["frobnicate"], U, "unknown command"),
    row("unknown-option", "good", PUT + ["--frobnicate"], U, "unrecognized"),
    row("missing-argument", "good", ["put", "wcs://{b}/k"], U, "required"),
    row("extra-argument", "good", ["stat", "wcs://{b}/k", "extra"], U, "unrecognized"),
    # config files
    row("config-missing-file", "missing", ["stat", "wcs://{b}/k"], C, "--configure"),
    row("config-bad-line", "bad_line", ["stat", "wcs://{b}/k"], C, ":2"),
    row("config-unknown-bool", "bad_bool", ["stat", "wcs://{b}/k"], C, "ishttps"),
    row("config-missing-keys", "no_hosts", PUT, C, "put_url"),
    row("config-bad-block-size", "bad_block", MULTIPUT, C, "block_size"),
    row("config-limit-zero", "bad_limit", LIST, C, "limit"),
    row("config-not-utf8", "not_utf8", ["stat", "wcs://{b}/k"], C, "UTF-8"),
    row("config-broken-secret-line", "broken_secret", ["stat", "wcs://{b}/k"], C, "not shown"),
    # the network and the service
    row("unreachable-put", "unreachable", PUT, N, "cannot reach"),
    row("unreachable-multiput", "unreachable", MULTIPUT, N, "cannot reach"),
    row("unreachable-stat", "unreachable", ["stat", "wcs://{b}/k"], N, "cannot reach"),
    row("unreachable-get", "unreachable", ["get", "wcs://{b}/seed.txt", "out.bin"], N, "cannot reach"),
    row("wrong-keys-put", "wrong_keys", PUT, S, "401"),
    row("wrong-keys-multiput", "wrong_keys", MULTIPUT, S, "401"),
    row("wrong-keys-list", "wrong_keys", LIST, S, "401"),
    row("missing-bucket", "good", ["put", "wcs://no-such-bucket-r7/k", "{f}"], S, "631"),
    row("key-leading-slash", "good", ["put", "wcs://{b}//abs", "{f}"], S, "400"),
    row("key-with-dot-dot", "good", ["put", "wcs://{b}/a/../b", "{f}"], S, "400"),
    row("get-missing-object", "good", ["get", "wcs://{b}/missing.txt", "out.bin"], S, "404"),
]

# Lines besides the one error line; a bad config value is also a warning when the file is read (issue 13).
NOTES = ("wcscmd: upload id: ", "wcscmd: to resume the upload run: ", "wcscmd: warning: ")


@pytest.fixture
def configs(emulator, cfgfile, tmp_path):
    folder = tmp_path / "configs"
    folder.mkdir()

    def write(name, text):
        path = folder / name
        path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
        path.chmod(0o600)  # a config others can read gets a warning line of its own
        return str(path)

    port = closed_port()
    return {
        "good": cfgfile(),
        "missing": str(folder / "does-not-exist"),
        "bad_line": write("bad_line", "[default]\nthis is not a setting\n"),
        "bad_bool": write("bad_bool", emulator.config_text() + "ishttps = perhaps\n"),
        "no_hosts": write("no_hosts", "[default]\naccess_key = ak\nsecret_key = sk\n"),
        "bad_block": write("bad_block", emulator.config_text() + "block_size = 1000\n"),
        "bad_limit": write("bad_limit", emulator.config_text() + "limit = 0\n"),
        "not_utf8": write("not_utf8", b"[default]\naccess_key = \xff\xfe\n"),
        "broken_secret": write("broken_secret", '[default]\nsecret_key "%s"\n' % SECRET_IN_BROKEN_LINE),
        "unreachable": cfgfile(put_url="http://127.0.0.1:%d" % port, mgr_url="http://127.0.0.1:%d" % port,
                               connection_retries=0, mkblk_retries=0, connection_timeout=5),
        "wrong_keys": cfgfile(access_key="not-a-key", secret_key="not-the-secret"),
    }


@pytest.fixture
def table_bucket(emulator, bucket, config):
    """The bucket holds one object, ``seed.txt``, before each row."""
    with Client(config) as client:
        assert client.simple_upload(__file__, bucket, "seed.txt", overwrite=1).code == 200
    return bucket


def objects(config, bucket):
    with Client(config) as client:
        return sorted((item["key"], item["hash"]) for item in client.iter_objects(bucket))


@pytest.mark.parametrize("cfg, argv, status, needle", TABLE)
def test_malformed_input_fails_cleanly(configs, table_bucket, config, wcscmd, cli_env, tmp_path, cfg, argv, status,
                                       needle):
    source = tmp_path / "src"
    source.mkdir()
    values = {"b": table_bucket, "f": write_file(source / "data.bin", 5000), "missing": str(source / "missing.bin"),
              "dir": str(source), "unreadable": write_file(source / "secret.bin", 10)}
    os.chmod(values["unreadable"], 0)
    (cli_env / "subdir").mkdir()
    args = ["-c", configs[cfg]] + [word.format(**values) for word in argv]
    files_before, objects_before = tree(cli_env), objects(config, table_bucket)

    run = wcscmd(*args)

    assert run.status == status, (run.status, run.err)
    assert "Traceback" not in run.err
    errors = [line for line in run.err_lines if not line.startswith(NOTES)]
    assert len(errors) == 1 and errors[0].startswith("wcscmd: error: "), run.err_lines
    if needle:
        assert needle in errors[0], errors[0]
    assert SECRET_IN_BROKEN_LINE not in run.err + run.out
    if run.out:
        json.loads(run.out)  # what the service answered, as a JSON document
    assert tree(cli_env) == files_before  # no partial or temporary file
    assert objects(config, table_bucket) == objects_before  # no partial object


def test_the_table_is_long_enough():
    assert len(TABLE) >= 40


# -- valid but unusual keys ------------------------------------------------------------------------

VALID_KEYS = ["a key with spaces.txt", "ключ/文件 数据.txt", "100%.txt", "%41%2F.txt", "what?.txt", "hash#tag.txt",
              "plus+sign.txt", "all of them %?#+ é.txt", "k" * 1000, "я" * 500]


@pytest.mark.parametrize("key", VALID_KEYS, ids=lambda k: "%d-bytes:%s" % (len(k.encode()), k[:12]))
def test_unusual_keys_round_trip(emulator, bucket, config, cfgfile, wcscmd, cli_env, tmp_path, key):
    cfg = cfgfile()
    path = write_file(tmp_path / "data.bin", 4 * 1024 * 1024 + 7)
    uri = "wcs://%s/%s" % (bucket, key)
    assert json.loads(wcscmd("-c", cfg, "put", uri, __file__).out)["code"] == 200
    run = wcscmd("-c", cfg, "multiput", uri, path, "--overwrite", "1")
    assert run.status == 0, run.err
    digest = json.loads(run.out)["body"]["hash"]
    run = wcscmd("-c", cfg, "stat", uri)
    assert run.status == 0 and json.loads(run.out)["body"]["hash"] == digest
    assert wcscmd("-c", cfg, "listall", "wcs://%s" % bucket, "all.json").status == 0
    assert [(i["key"], i["hash"]) for i in json.load(open("all.json", encoding="utf-8"))] == [(key, digest)]
    run = wcscmd("-c", cfg, "get", uri, "copy.bin")
    assert run.status == 0, run.err
    assert open("copy.bin", "rb").read() == open(path, "rb").read()
    assert wcscmd("-c", cfg, "del", uri).status == 0
    assert wcscmd("-c", cfg, "stat", uri).status == ExitStatus.SERVICE
    assert objects(config, bucket) == []
    assert tree(cli_env) == ["all.json", "copy.bin"]
    assert Config(cfg).secret_key  # the config itself was not touched
