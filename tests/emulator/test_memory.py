"""Memory stays flat: a 512 MiB form upload and download through a child emulator process grow its peak
RSS (VmHWM) by less than 64 MiB."""

import os
import subprocess
import sys

import pytest
import requests
from requests_toolbelt import MultipartEncoder

from wcs.commons.auth import Auth
from wcs.commons.util import etag, urlsafe_base64_decode
from wcs.emulator import DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SIZE = 512 * 1024 * 1024
LIMIT_KIB = 64 * 1024


def _vm(pid: int) -> dict:
    values = {}
    with open("/proc/%d/status" % pid) as fp:
        for line in fp:
            name, _, rest = line.partition(":")
            if name in ("VmHWM", "VmRSS"):
                values[name] = int(rest.split()[0])
    return values


@pytest.mark.slow
@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="needs Linux /proc")
def test_512_mib_upload_and_download_keep_rss_flat(tmp_path):
    source = tmp_path / "big.bin"
    with open(source, "wb") as fp:
        fp.truncate(SIZE)  # sparse: costs no disk on the client side
        for offset in range(0, SIZE, 64 * 1024 * 1024):
            fp.seek(offset)
            fp.write(os.urandom(4096))
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen([sys.executable, "-m", "wcs.emulator", "--port", "0", "--data-dir", str(tmp_path / "d"),
                             "--bucket", "mem"], stdout=subprocess.PIPE, text=True, env=env)
    try:
        url = proc.stdout.readline().split()[-1]
        assert requests.get(url + "/mem/warmup").status_code == 404
        before = _vm(proc.pid)["VmHWM"]
        token = Auth(DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY).uploadtoken({"scope": "mem:big.bin"})
        with open(source, "rb") as fp:
            encoder = MultipartEncoder({"token": token, "file": ("big.bin", fp, "application/octet-stream")})
            resp = requests.post(url + "/file/upload", data=encoder, headers={"Content-Type": encoder.content_type},
                                 timeout=120)
        assert resp.status_code == 200, resp.text
        after_upload = _vm(proc.pid)["VmHWM"]
        received = 0
        with requests.get(url + "/mem/big.bin", stream=True, timeout=120) as download:
            assert download.status_code == 200
            for chunk in download.iter_content(1024 * 1024):
                received += len(chunk)
        assert received == SIZE
        after_download = _vm(proc.pid)["VmHWM"]
        assert after_upload - before < LIMIT_KIB, (before, after_upload)
        assert after_download - before < LIMIT_KIB, (before, after_download)
        assert urlsafe_base64_decode(resp.text).decode() == "hash=" + etag(str(source))
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        proc.stdout.close()
