"""Fixtures every functional test builds on: a real emulator on 127.0.0.1 and a client pointed at it."""

import os
import sys
import uuid

import pytest

from wcs.commons.config import DEFAULTS, Config


def pytest_configure(config):
    """With ``PYTHONDONTWRITEBYTECODE`` set (this machine's image sets it), every test process would
    rewrite the asserts of all 170 test modules again (~5 CPU-s each: pytest caches its rewrite only
    where bytecode may be written) and every ``wcscmd`` or emulator subprocess would compile the package
    from source again. The run's own processes write their bytecode (into ``__pycache__``, ignored by
    git): set here, before xdist starts its workers, so they and every subprocess inherit it."""
    if sys.dont_write_bytecode:
        os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
        sys.dont_write_bytecode = False


@pytest.fixture(autouse=True)
def no_records_in_the_default_folder(monkeypatch):
    """Fail a test whose multipart upload would write a resume record under the real default
    ``tmp_record_folder`` (shared by every user and run): tests give a tmp_path folder instead."""
    from wcs.services.resume import RecordStore

    default = os.path.realpath(os.path.expanduser(DEFAULTS["tmp_record_folder"]))
    save = RecordStore.save

    def guarded_save(store, record):
        where = os.path.realpath(store.directory)
        assert os.path.commonpath([where, default]) != default, \
            "test writes a resume record to the default folder %s; set tmp_record_folder" % default
        save(store, record)

    monkeypatch.setattr(RecordStore, "save", guarded_save)


@pytest.fixture(autouse=True)
def no_real_home_config(monkeypatch, tmp_path_factory):
    """``Config()`` reads ``~/.wcscfg``: every test gets an empty HOME (outside its tmp_path, which some
    tests list), so no file of the machine leaks in."""
    monkeypatch.setenv("HOME", str(tmp_path_factory.mktemp("home")))


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
                  put_url=emulator.url, mgr_url=emulator.url, download_url=emulator.url + "/{bucket}",
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
