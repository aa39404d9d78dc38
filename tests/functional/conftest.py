"""Helpers for the service tests: files with known content, a client with a wrong secret, faults."""

import pytest

from tests.helpers.files import write_file
from wcs.commons.http import Backoff, HttpClient
from wcs.commons.util import etag
from wcs.services.client import Client


@pytest.fixture
def make_file(tmp_path):
    """``make_file(size, name=None, seed=0)`` -> path of a new file of that size."""
    counter = [0]

    def make(size, name=None, seed=0):
        counter[0] += 1
        return write_file(tmp_path / (name or "data-%d.bin" % counter[0]), size, seed)

    return make


@pytest.fixture
def uploaded(client, bucket, make_file):
    """Upload ``key`` with ``size`` bytes into the test bucket; returns the file's etag."""

    def upload(key, size=10, seed=0):
        path = make_file(size, seed=seed)
        assert client.simple_upload(path, bucket, key).code == 200
        return etag(path)

    return upload


@pytest.fixture
def fast_client(config):
    """A Client with 6 retries per step, backing off for milliseconds only (fault-injection tests)."""
    config.update(connection_retries=6, mkblk_retries=6, bput_retries=6, mkfile_retries=6)
    http = HttpClient(timeout=30, retries=config.connection_retries, pool_size=8,
                      backoff=Backoff(base=0.001, cap=0.01))
    cli = Client(config, http=http)
    try:
        yield cli
    finally:
        http.close()


@pytest.fixture
def bad_client(config):
    """A Client signing with a wrong secret key: every signed call must answer 401."""
    cfg = config.replace(secret_key="not-the-" + config.secret_key)
    cli = Client(cfg)
    try:
        yield cli
    finally:
        cli.close()


@pytest.fixture
def faults(emulator):
    """``faults("mkblk:500:0.2", seed=1)`` injects faults for this test only."""

    def set_faults(spec, seed=1):
        emulator.set_faults(spec, seed=seed)

    yield set_faults
    emulator.set_faults(None)

