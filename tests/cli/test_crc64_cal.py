"""wcs_crc64_cal: the official command line, values and output lines, honest failures."""

import pytest

from tests.helpers.cli_runner import run_tool
from wcs.cli.crc64_cal import main
from wcs.cli.wcscmd import main as wcscmd_main
from wcs.commons.util import file_crc64_int as file_crc64


def run(capsys, *argv):
    return run_tool(capsys, main, *argv)


def test_values_space_separated_in_argument_order(capsys, tmp_path):
    hello, empty, big = tmp_path / "hello", tmp_path / "empty", tmp_path / "big"
    hello.write_bytes(b"hello")
    empty.write_bytes(b"")
    big.write_bytes(b"123456789" * 300000)  # several read chunks
    status, out, err = run(capsys, "crc64", str(hello), str(empty), str(big))
    assert status == 0 and err == ""
    # The official wcs_crc64_cal prints 11177612005948864433 for b"hello" and 0 for an empty file.
    assert out == "%s\n11177612005948864433 0 %d\n" % ([str(hello), str(empty), str(big)], file_crc64(str(big)))


def test_check_value_and_same_as_wcscmd_crc64(capsys, tmp_path):
    path = tmp_path / "check"
    path.write_bytes(b"123456789")
    # CRC-64/XZ check value, after the list of the files given (the official output)
    assert run(capsys, "crc64", str(path))[:2] == (0, "%s\n%d\n" % ([str(path)], 0x995DC9BBDF1939FA))
    capsys.readouterr()
    assert wcscmd_main(["crc64", str(path)]) == 0
    assert '"crc64Value": "%d"' % 0x995DC9BBDF1939FA in capsys.readouterr().out


@pytest.mark.parametrize("make", ["missing", "directory"])
def test_missing_file_or_directory_is_an_error(capsys, tmp_path, make):
    good = tmp_path / "good"
    good.write_bytes(b"x")
    bad = tmp_path / "bad"
    if make == "directory":
        bad.mkdir()
    status, out, err = run(capsys, "crc64", str(good), str(bad))
    assert status == 4 and out == ""
    assert len(err.splitlines()) == 1 and err.startswith("wcs_crc64_cal: error: ") and str(bad) in err


@pytest.mark.parametrize("argv", [[], ["crc64"], ["etag", "x"]])
def test_usage_errors(capsys, argv):
    status, out, err = run(capsys, *argv)
    assert status == 2 and out == "" and len(err.splitlines()) == 1 and "Traceback" not in err


def test_help_lists_only_its_own_exit_statuses(capsys):
    status, out, _ = run(capsys, "--help")
    assert status == 0 and "crc64" in out
    codes = [line.split()[0] for line in out.split("Exit status:", 1)[1].splitlines() if line.strip()]
    assert codes == ["0", "1", "2", "4", "130"]
