"""wcs_etag_cal: the official output format, argument order, and honest failures."""

import pytest

from tests.helpers.cli_runner import run_tool
from wcs.cli.etag_cal import main


def run(capsys, *argv):
    return run_tool(capsys, main, *argv)


def test_etags_space_separated_in_argument_order(capsys, tmp_path):
    hello, empty, big = tmp_path / "hello", tmp_path / "empty", tmp_path / "big"
    hello.write_bytes(b"hello")
    empty.write_bytes(b"")
    big.write_bytes(b"\0" * (4 * 1024 * 1024 + 1))
    status, out, err = run(capsys, "etag", str(hello), str(empty), str(big), str(hello))
    assert status == 0 and err == ""
    assert out.splitlines()[-1] == ("Fqr0xh3cxeii2r7eDztILNmuqUNN Fto5o-5ea0sNMlW_75VgGJCv2AcJ "
                                    "lhCFgki5yzon0rjN9uJusf6qtsF6 Fqr0xh3cxeii2r7eDztILNmuqUNN")
    assert out.splitlines()[0] == str([str(hello), str(empty), str(big), str(hello)]) and len(out.splitlines()) == 2


def test_single_file(capsys, tmp_path):
    path = tmp_path / "t"
    path.write_bytes(b"test")
    # As the official tool: the list of the files given, then the etag (issue 13).
    assert run(capsys, "etag", str(path))[:2] == (0, "%s\nFqlKj-XMsZumHEwIc9OR6YeYL7vT\n" % [str(path)])


@pytest.mark.parametrize("make", ["missing", "directory"])
def test_missing_file_or_directory_is_an_error(capsys, tmp_path, make):
    good = tmp_path / "good"
    good.write_bytes(b"x")
    bad = tmp_path / "bad"
    if make == "directory":
        bad.mkdir()
    status, out, err = run(capsys, "etag", str(good), str(bad))
    assert status == 4
    assert out == ""  # nothing partial on stdout
    assert len(err.splitlines()) == 1 and err.startswith("wcs_etag_cal: error: ") and str(bad) in err


@pytest.mark.parametrize("argv", [[], ["etag"], ["sha1", "x"]])
def test_usage_errors(capsys, argv):
    status, out, err = run(capsys, *argv)
    assert status == 2 and out == "" and len(err.splitlines()) == 1 and "Traceback" not in err


def test_help_lists_only_its_own_exit_statuses(capsys):
    status, out, _ = run(capsys, "--help")
    assert status == 0
    section = out.split("Exit status:", 1)[1]
    codes = [line.split()[0] for line in section.splitlines() if line.strip()]
    assert codes == ["0", "1", "2", "4", "130"]
    for foreign in ("config", "service", "network", "integrity", "resume"):
        assert foreign not in section.lower()
