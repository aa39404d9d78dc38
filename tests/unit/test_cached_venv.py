"""The cached virtualenvs of ``tests/helpers/official_sdk.py`` are built once when several test processes
ask for them at the same time (a second builder used to clear the venv under the first one's
``pip install``: five compat tests skipped with "cannot install ... (no network?)")."""

import base64
import hashlib
import os
import subprocess
import sys
import threading
import time
import zipfile

import pytest

from tests.helpers.official_sdk import VenvUnavailable, cached_venv

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_threads_asking_at_once_build_the_venv_once(tmp_path):
    venv = str(tmp_path / "venv")
    builds = []
    start = threading.Barrier(4)
    results = []

    def build(path, packages):
        builds.append(path)
        time.sleep(0.3)  # long enough for every other asker to find the venv missing
        os.makedirs(os.path.join(path, "bin"))
        os.symlink(sys.executable, os.path.join(path, "bin", "python"))

    def ask():
        start.wait()
        results.append(cached_venv(venv, [], "import sys", build=build))

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert builds == [venv]
    assert results == [os.path.join(venv, "bin", "python")] * 4
    assert os.path.exists(venv + ".lock")


def test_a_failed_build_or_check_is_reported(tmp_path):
    def failing(path, packages):
        raise VenvUnavailable("no network")

    with pytest.raises(VenvUnavailable, match="no network"):
        cached_venv(str(tmp_path / "a"), ["x"], "import sys", build=failing)

    def incomplete(path, packages):
        os.makedirs(os.path.join(path, "bin"))
        os.symlink(sys.executable, os.path.join(path, "bin", "python"))

    with pytest.raises(VenvUnavailable, match="fails"):
        cached_venv(str(tmp_path / "b"), ["x"], "import not_there_at_all", build=incomplete)


def _wheel(folder) -> str:
    """A local wheel of an empty package, so that ``pip install`` needs no network."""
    name = "wcslocktest"
    files = {"%s/__init__.py" % name: b"",
             "%s-0.1.dist-info/METADATA" % name: b"Metadata-Version: 2.1\nName: %s\nVersion: 0.1\n" % name.encode(),
             "%s-0.1.dist-info/WHEEL" % name: b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
                                               b"Tag: py3-none-any\n"}
    record = []
    for path, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append("%s,sha256=%s,%d" % (path, digest, len(data)))
    record.append("%s-0.1.dist-info/RECORD,," % name)
    path = os.path.join(str(folder), "%s-0.1-py3-none-any.whl" % name)
    with zipfile.ZipFile(path, "w") as archive:
        for member, data in files.items():
            archive.writestr(member, data)
        archive.writestr("%s-0.1.dist-info/RECORD" % name, "\n".join(record) + "\n")
    return path


@pytest.mark.slow  # builds a real venv (5-20 s)
def test_processes_asking_at_once_all_get_a_working_venv(tmp_path):
    wheel = _wheel(tmp_path)
    venv = str(tmp_path / "venv")
    script = ("import sys; sys.path.insert(0, %r); from tests.helpers.official_sdk import cached_venv; "
              "print(cached_venv(%r, [%r], 'import wcslocktest'))" % (REPO, venv, wheel))
    env = dict(os.environ, PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
    procs = [subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              env=env, cwd="/") for _ in range(5)]
    outcomes = [proc.communicate(timeout=600) for proc in procs]
    for proc, (out, err) in zip(procs, outcomes):
        assert proc.returncode == 0, err.decode()[-1500:]
        assert out.decode().strip() == os.path.join(venv, "bin", "python")
