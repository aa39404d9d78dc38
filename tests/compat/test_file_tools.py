"""Issue 13, point 6: ``wcs_etag_cal`` and ``wcs_crc64_cal`` print exactly what the official tools print.

Both tools run as subprocesses on the same files: the official ones from the cached virtualenv of
``wcs-python3-sdk`` 5.0.36 (outside this repository), ours from this checkout. Their output is the list
of the files given, then the values on one line.
"""

import os
import subprocess
import sys

import pytest

from tests.helpers.official_sdk import VenvUnavailable, clean_env, official_python, official_script

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _official(tool, *argv):
    try:
        python = official_python()
    except VenvUnavailable as exc:
        pytest.skip(str(exc))
    return subprocess.run([python, official_script(tool)] + list(argv), cwd="/", env=clean_env(),
                          capture_output=True, text=True, timeout=120)


def _ours(module, *argv):
    return subprocess.run([sys.executable, "-m", module] + list(argv), cwd=ROOT, env=dict(clean_env(), PYTHONPATH=ROOT),
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def files(tmp_path):
    contents = {"hello.txt": b"hello", "empty": b"", "two blocks.bin": b"\x07" * (4 * 1024 * 1024 + 1)}
    paths = []
    for name, data in contents.items():
        (tmp_path / name).write_bytes(data)
        paths.append(str(tmp_path / name))
    return paths


@pytest.mark.parametrize("tool, module, command", [("wcs_etag_cal", "wcs.cli.etag_cal", "etag"),
                                                   ("wcs_crc64_cal", "wcs.cli.crc64_cal", "crc64")])
@pytest.mark.slow
def test_output_is_the_official_tools(files, tool, module, command):
    for argv in ([command] + files, [command, files[0]]):
        official, ours = _official(tool, *argv), _ours(module, *argv)
        assert official.returncode == ours.returncode == 0, official.stderr + ours.stderr
        assert ours.stdout == official.stdout and len(ours.stdout.splitlines()) == 2
        assert ours.stdout.splitlines()[0] == str(argv[1:])
