"""Error lines say what they are about: the object or bucket of the command, then the service's answer."""

import pytest

from tests.cli.conftest import assert_one_error_line


@pytest.fixture
def c(wcscmd, cfgfile):
    return lambda *argv: wcscmd("-c", cfgfile, *argv)


@pytest.mark.parametrize("argv, subject", [
    (["stat", "wcs://{b}/missing"], "wcs://{b}/missing"),
    (["del", "wcs://{b}/missing"], "wcs://{b}/missing"),
    (["setdeadline", "wcs://{b}/missing", "3"], "wcs://{b}/missing"),
    (["mv", "wcs://{b}/missing", "wcs://{b}/x"], "wcs://{b}/missing -> wcs://{b}/x"),
    (["cp", "wcs://{b}/missing", "wcs://{b}/"], "wcs://{b}/missing -> wcs://{b}/missing"),
    (["get", "wcs://{b}/missing", "out.bin"], "wcs://{b}/missing"),
    (["fops", "wcs://{b}/missing", "avthumb/mp4"], "wcs://{b}/missing"),
    (["list", "wcs://{b}-nope", "res.json"], "wcs://{b}-nope"),
    (["listall", "wcs://{b}-nope", "res.json"], "wcs://{b}-nope"),
    (["put", "wcs://{b}-nope/k", "local.txt"], "wcs://{b}-nope/k"),
    (["multiput", "wcs://{b}-nope/k", "local.txt"], "wcs://{b}-nope/k"),
    (["bucketstat", "{b}-nope"], "wcs://{b}-nope"),
], ids=lambda v: v[0] if isinstance(v, list) else "")
def test_service_error_line_names_the_object_or_bucket(c, bucket, tmp_path, argv, subject):
    (tmp_path / "local.txt").write_bytes(b"data\n")
    run = c(*[a.format(b=bucket) for a in argv])
    line = assert_one_error_line(run, 5) if argv[0] != "multiput" else run.err_lines[-2]
    assert run.status == 5
    assert line.startswith("wcscmd: error: %s: HTTP " % subject.format(b=bucket)), line
    assert "(reqid " in line
    assert run.json["code"] >= 400  # the service's answer is still the JSON on stdout
