"""Fixtures every functional test builds on: a real emulator on 127.0.0.1 and a client pointed at it."""

import uuid

import pytest

from wcs.commons.config import Config


@pytest.fixture(scope="session")
def emulator(tmp_path_factory):
    """A running in-process emulator (port 0 on 127.0.0.1); ``.url``, ``.access_key``, ``.secret_key``."""
    from wcs.emulator import Emulator

    with Emulator(data_dir=str(tmp_path_factory.mktemp("emulator-data"))) as emu:
        yield emu


@pytest.fixture
def bucket(emulator):
    """A fresh, empty bucket for one test."""
    name = "t-" + uuid.uuid4().hex[:16]
    emulator.create_bucket(name)
    return name


@pytest.fixture
def config(emulator, tmp_path):
    """A Config pointing at the emulator; resume records under this test's tmp_path."""
    return Config(access_key=emulator.access_key, secret_key=emulator.secret_key,
                  put_url=emulator.url, mgr_url=emulator.url,
                  tmp_record_folder=str(tmp_path / "records"), connection_timeout=30)


@pytest.fixture
def client(config):
    """A Client on the emulator, closed after the test."""
    from wcs.services.client import Client

    cli = Client(config)
    try:
        yield cli
    finally:
        cli.close()
