"""A data dir made before appendable objects, storage classes and mirrors existed keeps working: its
database gains the new tables and every object in it is a normal Standard one."""

import hashlib
import os
import sqlite3
import time

import requests

from tests.helpers.emulator_api import Api
from wcs.commons.util import entry, urlsafe_base64_encode
from wcs.emulator import Emulator

# The schema of the data dirs the emulator made until then, verbatim (wcs/emulator/state/schema.py).
OLD_SCHEMA = """
CREATE TABLE IF NOT EXISTS settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS buckets (name TEXT PRIMARY KEY, created INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS objects (
    bucket TEXT NOT NULL, key TEXT NOT NULL, fsize INTEGER NOT NULL, hash TEXT NOT NULL,
    mime TEXT NOT NULL, put_time INTEGER NOT NULL, expires_at INTEGER, file_id TEXT NOT NULL,
    PRIMARY KEY (bucket, key));
CREATE TABLE IF NOT EXISTS blocks (
    id TEXT PRIMARY KEY, batch TEXT, size INTEGER NOT NULL, ord INTEGER NOT NULL,
    received INTEGER NOT NULL, created INTEGER NOT NULL, digests TEXT NOT NULL DEFAULT '',
    file TEXT, base INTEGER NOT NULL DEFAULT 0, scope TEXT);
CREATE TABLE IF NOT EXISTS moves (file_id TEXT PRIMARY KEY, source TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY, kind TEXT NOT NULL, created INTEGER NOT NULL, status TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS objects_expiring ON objects (expires_at) WHERE expires_at IS NOT NULL;
"""


def make_old_data_dir(path: str) -> None:
    """What the emulator of before left behind: bucket ``old`` with ``a.txt`` (``hello``)."""
    file_id = "0123456789abcdef0123456789abcdef"
    os.makedirs(os.path.join(path, "objects", file_id[:2]))
    for sub in ("blocks", "tmp"):
        os.makedirs(os.path.join(path, sub))
    with open(os.path.join(path, "objects", file_id[:2], file_id), "wb") as fp:
        fp.write(b"hello")
    conn = sqlite3.connect(os.path.join(path, "meta.sqlite3"))
    conn.execute("PRAGMA journal_mode=WAL")
    conn.executescript(OLD_SCHEMA)
    now = int(time.time() * 1000)
    with conn:
        conn.execute("INSERT INTO settings VALUES ('secret', ?)", (hashlib.sha256(b"s").hexdigest(),))
        conn.execute("INSERT INTO buckets VALUES ('old', ?)", (now,))
        conn.execute("INSERT INTO objects VALUES ('old', 'a.txt', 5, 'Fqr0xh3cxeii2r7eDztILNmuqUNN', "
                     "'text/plain', ?, NULL, ?)", (now - 86400000, file_id))
    conn.close()


def test_an_old_data_dir_is_migrated_and_its_objects_are_normal_standard(tmp_path):
    data_dir = str(tmp_path / "old-data")
    make_old_data_dir(data_dir)
    with Emulator(data_dir=data_dir) as emu:
        api = Api(emu)
        body = api.mgr("GET", "/stat/" + entry("old", "a.txt")).json()
        assert body["fsize"] == 5 and body["storageClass"] == "Standard" and body["objectType"] == "Normal"
        assert requests.get(emu.url + "/old/a.txt").content == b"hello"
        (item,) = api.mgr("GET", "/list?bucket=old").json()["items"]
        assert item["storageClass"] == "Standard"
        files = {"token": (None, api.token("old:a.txt")), "file": ("a.txt", b"!", "application/octet-stream")}
        assert api.session.post(emu.url + "/append/5", files=files).status_code == 409  # a normal object
        assert api.mgr("POST", "/converttype/%s/Archive" % entry("old", "a.txt")).status_code == 200
        assert requests.get(emu.url + "/old/a.txt").status_code == 403
        prefetch = api.mgr("POST", "/prefetch/" + urlsafe_base64_encode("old:" + urlsafe_base64_encode("a.txt")))
        assert prefetch.status_code == 404
        stats = api.mgr("GET", "/bucket/stat?name=%s&startdate=2020-01-01&enddate=2020-01-02"
                        % urlsafe_base64_encode("old")).json()
        assert [d["storage"] for d in stats["buckets"][0]["detail"]] == ["0.000", "0.000"]
        api.session.close()
    tables = {row[0] for row in sqlite3.connect(os.path.join(data_dir, "meta.sqlite3")).execute(
        "SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"object_ext", "mirrors", "objects", "blocks"} <= tables
    with Emulator(data_dir=data_dir) as emu:  # and it opens again, the class kept
        assert Api(emu).mgr("GET", "/stat/" + entry("old", "a.txt")).json()["storageClass"] == "Archive"
