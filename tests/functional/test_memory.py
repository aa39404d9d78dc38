"""Peak memory of big uploads: the client streams, so a 256 MiB file costs far less than 256 MiB of RAM.

The client runs in a subprocess (the emulator stays in the test process) so its peak RSS is its own.
"""

import json
import os
import subprocess
import sys
import textwrap

import pytest

from tests.helpers.files import MiB

SIZE = 256 * MiB
LIMIT = 64 * MiB

SCRIPT = textwrap.dedent("""
    import json, os, sys
    from wcs.commons.config import Config
    from wcs.services.client import Client

    def status(name):
        with open("/proc/self/status") as fp:
            for line in fp:
                if line.startswith(name + ":"):
                    return int(line.split()[1]) * 1024

    def reset_peak():
        # Linux: writing 5 resets VmHWM to the current RSS, so each upload is measured on its own.
        try:
            with open("/proc/self/clear_refs", "w") as fp:
                fp.write("5")
            return True
        except OSError:
            return False

    url, ak, sk, bucket, path, records = sys.argv[1:]
    cfg = Config(access_key=ak, secret_key=sk, put_url=url, mgr_url=url, tmp_record_folder=records,
                 concurrency=4, bput_size=4 * 1024 * 1024, overwrite=1)
    out = {}
    with Client(cfg) as client:
        warm = path + ".warm"
        with open(warm, "wb") as fp:
            fp.write(b"x" * 1024)
        assert client.simple_upload(warm, bucket, "warm").code == 200
        assert client.multipart_upload(warm, bucket, "warm").code == 200
        def stream(path, bucket, key):  # a stream of unknown length: blocks held in memory as they fill
            with open(path, "rb") as fp:
                return client.upload_fileobj(fp, bucket, key)

        for name, call in (("simple", client.simple_upload), ("multipart", client.multipart_upload),
                           ("stream", stream)):
            resettable = reset_peak()
            base = status("VmRSS") if resettable else status("VmHWM")
            res = call(path, bucket, name)
            assert res.code == 200, res
            out[name] = status("VmHWM") - base
    print(json.dumps(out))
""")


@pytest.mark.slow
@pytest.mark.timeout(120)
@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="reads /proc/self/status (Linux)")
def test_peak_rss_of_256_mib_uploads(emulator, bucket, tmp_path):
    path = tmp_path / "big.bin"
    with open(str(path), "wb") as fp:
        fp.truncate(SIZE)  # sparse: created at once, read back as zeros
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, emulator.url, emulator.access_key, emulator.secret_key, bucket, str(path),
         str(tmp_path / "records")],
        capture_output=True, text=True, timeout=110)
    assert proc.returncode == 0, proc.stderr
    growth = json.loads(proc.stdout.strip().splitlines()[-1])
    for name, grown in growth.items():
        assert grown < LIMIT, "%s upload of 256 MiB grew peak RSS by %.1f MiB" % (name, grown / MiB)
