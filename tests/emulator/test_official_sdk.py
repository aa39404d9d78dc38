"""Cross-check with another client: the official ``wcs-python3-sdk`` 5.0.36, unmodified, against the emulator.

The official SDK is installed into a cached virtualenv (``~/.cache/wcs-tests/official-venv``) and driven by a
script run from a directory outside this repository, so ``import wcs`` there is the official package. Its
``Config`` is a singleton read from a ``.wcscfg``; the emulator writes one and the test adds the multipart
settings. Skipped with a reason when the package cannot be installed (no network).
"""

import json
import os
import subprocess
import textwrap

import pytest

from tests.helpers.official_sdk import VENV, VenvUnavailable, clean_env, official_python
from wcs.commons.util import BLOCK_SIZE, etag, urlsafe_base64_decode
from wcs.emulator import Emulator

SCRIPT = textwrap.dedent('''
    import json, sys, time
    from wcs.commons.config import Config
    from wcs.commons.util import urlsafe_base64_encode as b64
    from wcs.services.client import Client

    config_path, small, big, bucket = sys.argv[1:5]
    cli = Client(Config(config_path))
    out = {"module": __import__("wcs").__file__}
    code, text, _ = cli.simple_upload(small, bucket, "small.txt")
    out["simple"] = [code, text]
    out["multipart"] = list(cli.multipart_upload(big, bucket, "big.bin")[:2])
    out["stat"] = list(cli.stat(bucket, "big.bin")[:2])
    out["list"] = list(cli.bucket_list(bucket)[:2])
    out["copy"] = list(cli.copy(bucket, "small.txt", bucket, "copy.txt")[:2])
    out["move"] = list(cli.move(bucket, "copy.txt", bucket, "moved.txt")[:2])
    out["delete"] = list(cli.delete(bucket, "moved.txt")[:2])
    out["stat_deleted"] = list(cli.stat(bucket, "moved.txt")[:2])
    code, body, _ = cli.fmgr_copy("resource/%s/bucket/%s/key/%s" % (
        b64(bucket + ":small.txt"), b64(bucket), b64("fmgr-copy.txt")))
    out["fmgr"] = [code, body]
    for _ in range(200):
        status = list(cli.fmgr_status(body["persistentId"])[:2])
        if status[1]["code"] not in (0, 1, 4):
            break
        time.sleep(0.05)
    out["fmgr_status"] = status
    out["list_after"] = list(cli.bucket_listAll(bucket)[:2])
    print(json.dumps(out))
''')


def _official_python() -> str:
    try:
        return official_python()
    except VenvUnavailable as exc:
        pytest.skip(str(exc))


def test_official_python3_sdk_works_unmodified(tmp_path):
    python = _official_python()
    small = tmp_path / "small.txt"
    small.write_bytes(b"hello from the official sdk")
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(BLOCK_SIZE + 3 * 1024 * 1024 + 17))  # two 4 MiB blocks, several bput chunks
    workdir = tmp_path / "outside-repo"
    workdir.mkdir()
    script = workdir / "drive.py"
    script.write_text(SCRIPT)
    config = tmp_path / ".wcscfg"
    with Emulator(data_dir=str(tmp_path / "data"), buckets=["official"]) as emu:
        emu.write_config(str(config))
        with open(config, "a") as fp:
            fp.write("block_size = %d\nbput_size = %d\nconcurrency = 2\ntmp_record_folder = %s/\n"
                     % (BLOCK_SIZE, 1024 * 1024, tmp_path / "records"))
        env = clean_env()
        proc = subprocess.run([python, str(script), str(config), str(small), str(big), "official"],
                              cwd=str(workdir), capture_output=True, text=True, timeout=300, env=env)
        assert proc.returncode == 0, proc.stderr[-3000:]
        out = json.loads(proc.stdout.strip().splitlines()[-1])
        counters = emu.counters
    assert out["module"].startswith(VENV)
    assert out["simple"][0] == 200
    assert urlsafe_base64_decode(out["simple"][1]).decode() == "hash=" + etag(str(small))
    assert out["multipart"] == [200, {"hash": etag(str(big)), "key": "big.bin"}]
    assert counters["mkblk"] == 2 and counters["bput"] >= 4
    code, stat = out["stat"]
    assert code == 200 and stat["fsize"] == big.stat().st_size and stat["hash"] == etag(str(big))
    code, listing = out["list"]
    assert code == 200 and [i["key"] for i in listing["items"]] == ["big.bin", "small.txt"]
    assert out["copy"][0] == 200 and out["move"][0] == 200 and out["delete"][0] == 200
    assert out["stat_deleted"][0] == 404
    assert out["fmgr"][0] == 200
    code, status = out["fmgr_status"]
    assert code == 200 and status["code"] == 3 and status["items"][0]["code"] == 3
    assert sorted(i["key"] for i in out["list_after"][1]["items"]) == ["big.bin", "fmgr-copy.txt", "small.txt"]
