"""Storage classes and Archive restore over raw HTTP (reference 6.11, 6.12): converttype and restore with
the documented codes (401 and 403 as the reference writes them), stat and list showing the class and
the restore, downloads of Archive objects, a restore in progress, restored, and expired."""

from urllib.parse import quote

import pytest
import requests

from tests.helpers.emulator_api import Api
from tests.helpers.waiting import wait_until
from wcs.commons.util import entry
from wcs.emulator import Emulator


@pytest.fixture
def slow_restore(tmp_path, monkeypatch):
    """An emulator whose restores stay in progress for a minute (what a test sees cannot depend on timing)."""
    monkeypatch.setenv("WCS_EMULATOR_RESTORE_DELAY", "60")
    with Emulator(data_dir=str(tmp_path / "slow"), buckets=["b"]) as emu:
        api = Api(emu)
        yield api
        api.session.close()


@pytest.fixture
def quick_restore(tmp_path, monkeypatch):
    """An emulator whose restores are done at once and whose "day" lasts one second."""
    monkeypatch.setenv("WCS_EMULATOR_RESTORE_DELAY", "0")
    monkeypatch.setenv("WCS_EMULATOR_RESTORE_DAY_SECONDS", "1")
    with Emulator(data_dir=str(tmp_path / "quick"), buckets=["b"]) as emu:
        api = Api(emu)
        yield api
        api.session.close()


def convert(api, bucket, key, cls):
    return api.mgr("POST", "/converttype/%s/%s" % (entry(bucket, key), cls))


def restore(api, bucket, key, days):
    return api.mgr("POST", "/restore/%s/days/%s" % (entry(bucket, key), days))


def stat(api, bucket, key):
    return api.mgr("GET", "/stat/" + entry(bucket, key)).json()


def get(api, bucket, key):
    return requests.get("%s/%s/%s" % (api.url, bucket, quote(key)))


def test_convert_between_classes_with_the_documented_codes(api, bucket):
    api.put(bucket, "k", b"data")
    assert stat(api, bucket, "k")["storageClass"] == "Standard"
    resp = convert(api, bucket, "k", "IA")
    assert resp.status_code == 200 and resp.json() == {"code": 200, "message": "ok"}
    assert stat(api, bucket, "k")["storageClass"] == "InfrequentAccess"
    (item,) = api.mgr("GET", "/list?bucket=" + bucket).json()["items"]
    assert item["storageClass"] == "InfrequentAccess" and "restoreState" not in item
    same = convert(api, bucket, "k", "IA")
    assert same.status_code == 403 and same.json()["message"].startswith("Invalid Object State")
    assert convert(api, bucket, "k", "InfrequentAccess").status_code == 403  # the same class, named long
    assert convert(api, bucket, "k", "Standard").status_code == 200
    missing = convert(api, bucket, "nope", "IA")
    assert missing.status_code == 403 and missing.json()["message"] == "File Not Found"  # sic: 403
    assert convert(api, bucket, "k", "Glacier").status_code == 400
    assert convert(api, "no-such-bucket", "k", "IA").status_code == 404
    assert api.mgr("POST", "/converttype/%s/IA" % entry(bucket, "k"), token="AK:bad").status_code == 401


def test_archive_objects_refuse_downloads_until_restored(slow_restore):
    api = slow_restore
    api.put("b", "cold.txt", b"frozen")
    assert convert(api, "b", "cold.txt", "Archive").status_code == 200
    body = stat(api, "b", "cold.txt")
    assert body["storageClass"] == "Archive" and body["restoreState"] == "none"
    assert body["restoreExpirationDate"] == ""
    refused = get(api, "b", "cold.txt")
    assert refused.status_code == 403
    assert "Invalid Object State" in refused.json()["message"] and "restore" in refused.json()["message"]
    assert requests.head("%s/b/cold.txt" % api.url).status_code == 403
    assert requests.get("%s/b/cold.txt" % api.url, params={"op": "imageInfo"}).status_code == 403
    # converting an Archive object that is not restored is refused; so are copies of it
    assert convert(api, "b", "cold.txt", "Standard").status_code == 403
    copy = api.mgr("POST", "/copy/%s/%s" % (entry("b", "cold.txt"), entry("b", "copy")))
    assert copy.status_code == 403
    # a move keeps the class
    assert api.mgr("POST", "/move/%s/%s" % (entry("b", "cold.txt"), entry("b", "cold2"))).status_code == 200
    assert stat(api, "b", "cold2")["storageClass"] == "Archive"

    assert restore(api, "b", "cold2", 2).json() == {"code": 200, "message": "ok"}
    body = stat(api, "b", "cold2")
    assert body["restoreState"] == "restoring" and body["restoreExpirationDate"] == ""
    again = restore(api, "b", "cold2", 2)
    assert again.status_code == 409 and again.json()["message"] == "Restore Is InProgress"
    assert get(api, "b", "cold2").status_code == 403
    assert convert(api, "b", "cold2", "Standard").status_code == 403


def test_restore_codes(api, bucket):
    api.put(bucket, "std", b"x")
    standard = restore(api, bucket, "std", 1)
    assert standard.status_code == 401 and standard.json()["message"].startswith("Invalid Object State")  # sic
    api.put(bucket, "ia", b"x")
    assert convert(api, bucket, "ia", "IA").status_code == 200
    ia = restore(api, bucket, "ia", 1)
    assert ia.status_code == 403 and ia.json()["message"].startswith("Unsupported Operation")
    assert restore(api, bucket, "missing", 1).status_code == 404
    api.put(bucket, "arc", b"x")
    assert convert(api, bucket, "arc", "Archive").status_code == 200
    for days in ("0", "-1", "x", "1.5", "9" * 40):
        assert restore(api, bucket, "arc", days).status_code == 400, days
    assert restore(api, "no-such-bucket", "arc", 1).status_code == 404


@pytest.mark.slow
def test_restore_completes_then_expires(quick_restore):
    api = quick_restore
    api.put("b", "long", b"warm for an hour")
    api.put("b", "short", b"warm for a second")
    for key in ("long", "short"):
        assert convert(api, "b", key, "Archive").status_code == 200
    assert restore(api, "b", "long", 3600).status_code == 200
    body = stat(api, "b", "long")
    assert body["restoreState"] == "restored" and body["restoreExpirationDate"].endswith("Z")
    assert get(api, "b", "long").content == b"warm for an hour"
    items = {i["key"]: i for i in api.mgr("GET", "/list?bucket=b").json()["items"]}
    assert items["long"]["restoreState"] == "restored" and items["short"]["restoreState"] == "none"
    # restoring a restored object extends it at once
    assert restore(api, "b", "long", 7200).status_code == 200
    assert stat(api, "b", "long")["restoreExpirationDate"] > body["restoreExpirationDate"]
    # a restored Archive object may be converted; Standard is then readable for good
    assert convert(api, "b", "long", "Standard").status_code == 200
    assert stat(api, "b", "long")["storageClass"] == "Standard"

    assert restore(api, "b", "short", 1).status_code == 200  # one "day" = one second here
    assert wait_until(lambda: stat(api, "b", "short")["restoreState"] == "none", timeout=15, interval=0.1)
    assert get(api, "b", "short").status_code == 403
    assert restore(api, "b", "short", 1).status_code == 200  # and it can be restored again


def test_a_restore_in_progress_ends_by_itself(tmp_path, monkeypatch):
    monkeypatch.setenv("WCS_EMULATOR_RESTORE_DELAY", "0.3")
    with Emulator(data_dir=str(tmp_path / "d"), buckets=["b"]) as emu:
        api = Api(emu)
        api.put("b", "k", b"thawing")
        assert convert(api, "b", "k", "Archive").status_code == 200
        assert restore(api, "b", "k", 1).status_code == 200
        assert wait_until(lambda: stat(api, "b", "k")["restoreState"] == "restored", timeout=15, interval=0.05)
        assert get(api, "b", "k").content == b"thawing"
        api.session.close()


def test_restore_settings_from_the_environment():
    from wcs.emulator.settings import Settings

    assert (Settings().restore_delay, Settings().restore_day_seconds) == (3.0, 86400.0)
    custom = Settings.from_env({"WCS_EMULATOR_RESTORE_DELAY": "0", "WCS_EMULATOR_RESTORE_DAY_SECONDS": "0.5"})
    assert (custom.restore_delay, custom.restore_day_seconds) == (0.0, 0.5)
    for bad in ({"WCS_EMULATOR_RESTORE_DELAY": "-1"}, {"WCS_EMULATOR_RESTORE_DAY_SECONDS": "0"},
                {"WCS_EMULATOR_RESTORE_DELAY": "nan"}, {"WCS_EMULATOR_RESTORE_DAY_SECONDS": "inf"}):
        with pytest.raises(ValueError):
            Settings.from_env(bad)
