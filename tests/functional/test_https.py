"""``ishttps`` and ``isverify`` against an emulator serving HTTPS with a self-signed certificate."""

import shutil
import subprocess

import pytest

from wcs.commons.config import Config
from wcs.commons.util import etag
from wcs.services.client import Client

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl to make a certificate")


@pytest.fixture(scope="module")
def tls_emulator(tmp_path_factory):
    from wcs.emulator import Emulator

    folder = tmp_path_factory.mktemp("tls")
    cert, key = str(folder / "cert.pem"), str(folder / "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "1", "-subj", "/CN=127.0.0.1"], check=True, capture_output=True)
    with Emulator(data_dir=str(folder / "data"), buckets=["tls-bucket"], tls_cert=cert, tls_key=key) as emu:
        yield emu


def tls_config(emu, tmp_path, **values):
    host = emu.url.split("://", 1)[1]  # no scheme: ishttps decides it
    return Config(access_key=emu.access_key, secret_key=emu.secret_key, put_url=host, mgr_url=host,
                  download_url=host + "/{bucket}",
                  tmp_record_folder=str(tmp_path / "records"), ishttps=True, **values)


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_https_without_verification(tls_emulator, tmp_path, make_file):
    path = make_file(1000)
    with Client(tls_config(tls_emulator, tmp_path, isverify=False)) as client:
        assert client.download_url("tls-bucket", "k").startswith("https://")
        assert client.simple_upload(path, "tls-bucket", "k", overwrite=1).code == 200
        assert client.multipart_upload(path, "tls-bucket", "m", overwrite=1).code == 200
        assert client.stat("tls-bucket", "k").body["hash"] == etag(path)


def test_https_with_verification_refuses_a_self_signed_certificate_without_retrying(tls_emulator, tmp_path):
    before = tls_emulator.counters.get("mgr", 0)
    with Client(tls_config(tls_emulator, tmp_path, isverify=True)) as client:
        res = client.stat("tls-bucket", "k")
    assert res.code == -1 and "SSL" in type(res.error.__cause__).__name__ and not res.error.retryable
    assert tls_emulator.counters.get("mgr", 0) == before


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_silent_connections_do_not_block_tls_handshakes(tls_emulator):
    import socket
    import time

    import requests

    held = [socket.create_connection(("127.0.0.1", tls_emulator.port)) for _ in range(50)]
    try:
        started = time.monotonic()
        assert requests.get(tls_emulator.url + "/tls-bucket/missing", verify=False, timeout=10).status_code == 404
        assert time.monotonic() - started < 3.0
    finally:
        for sock in held:
            sock.close()
