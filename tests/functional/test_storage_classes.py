"""Storage classes and Archive restore through the Client: ``convert_type`` and ``restore`` with the codes the
reference writes (401 and 403 as written), ``ObjectInfo`` showing the class and the restore, downloads of
an Archive object refused with ``NotRestored`` until a restore is done, and the ``_prefix`` forms."""

import io

import pytest

from tests.helpers.waiting import wait_until
from wcs.commons.config import Config
from wcs.commons.errors import InvalidArgument, NotRestored, ServiceError
from wcs.emulator import Emulator
from wcs.emulator.settings import Settings
from wcs.services.client import Client


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    """An emulator whose restores take 0.2 s."""
    with Emulator(data_dir=str(tmp_path_factory.mktemp("quick")), buckets=["b"],
                  settings=Settings(restore_delay=0.2)) as emu:
        yield emu


@pytest.fixture
def qc(quick, tmp_path):
    cfg = Config(access_key=quick.access_key, secret_key=quick.secret_key, put_url=quick.url, mgr_url=quick.url,
                 download_url=quick.url + "/{bucket}", tmp_record_folder=str(tmp_path / "records"))
    with Client(cfg) as client:
        for item in client.list_objects("b"):
            client.delete("b", item.key)
        yield client


def put(client, key, data=b"data"):
    client.upload_fileobj(io.BytesIO(data), "b", key, size=len(data)).raise_for_status()


def test_convert_type_between_classes_with_the_documented_codes(qc):
    put(qc, "k")
    assert qc.stat_object("b", "k").storage_class == "Standard"
    ok = qc.convert_type("b", "k", "IA")
    assert ok.code == 200 and ok.data == {"code": 200, "message": "ok"}
    assert qc.stat_object("b", "k").storage_class == "InfrequentAccess"
    same = qc.convert_type("b", "k", "infrequentaccess")  # any spelling of the class
    assert same.code == 403 and same.message.startswith("Invalid Object State")
    assert qc.convert_type("b", "k", "Archive").ok
    info = qc.stat_object("b", "k")
    assert info.archived and info.restore_state == "none" and info.needs_restore is True
    unrestored = qc.convert_type("b", "k", "Standard")
    assert unrestored.code == 403 and "restore" in unrestored.message
    missing = qc.convert_type("b", "nothing", "IA")
    assert missing.code == 403 and missing.message.startswith("File Not Found")  # 403, as written
    assert qc.convert_type("no-such-bucket", "k", "IA").code == 404
    with pytest.raises(InvalidArgument):
        qc.convert_type("b", "k", "Glacier")


def test_restore_codes_and_a_download_refused_until_restored(qc, tmp_path):
    put(qc, "std")
    put(qc, "ia")
    put(qc, "arch", b"archived bytes")
    qc.convert_type("b", "ia", "IA").raise_for_status()
    qc.convert_type("b", "arch", "Archive").raise_for_status()
    assert qc.restore("b", "std", 1).code == 401  # Invalid Object State, 401 as the reference writes it
    assert qc.restore("b", "ia", 1).code == 403
    assert qc.restore("b", "missing", 1).code == 404
    with pytest.raises(InvalidArgument):
        qc.restore("b", "arch", 0)

    target = tmp_path / "got"
    refused = qc.download_file("b", "arch", target)
    assert refused.code == 403 and isinstance(refused.error, NotRestored) and not target.exists()
    with pytest.raises(NotRestored, match="Archive storage and not restored") as caught:
        refused.raise_for_status()
    assert isinstance(caught.value, ServiceError) and caught.value.result == refused and caught.value.code == 403
    sink = io.BytesIO()
    with pytest.raises(NotRestored):
        qc.download_fileobj("b", "arch", sink).raise_for_status()
    url = qc.download_url("b", "arch")
    assert isinstance(qc.download(url, tmp_path / "by-url").error, NotRestored)

    started = qc.restore("b", "arch", 2)
    assert started.code == 200 and qc.stat_object("b", "arch").restore_state == "restoring"
    assert qc.restore("b", "arch", 2).code == 409  # Restore Is InProgress
    info = wait_until(lambda: (lambda i: i if i.restore_state == "restored" else None)(qc.stat_object("b", "arch")))
    assert info.needs_restore is False and info.restore_until
    assert qc.download_file("b", "arch", target).ok and target.read_bytes() == b"archived bytes"
    # other answers of 403 are not taken for an unrestored object
    assert qc.download_file("b", "std", tmp_path / "std").error is None


def test_listings_show_class_type_and_restore(qc):
    put(qc, "l/std")
    put(qc, "l/arch")
    qc.append("b", "l/log", b"x").raise_for_status()
    qc.convert_type("b", "l/arch", "Archive").raise_for_status()
    items = {item.key: item for item in qc.list_objects("b", prefix="l/")}
    assert items["l/std"].storage_class == "Standard" and items["l/std"].restore_state is None
    assert items["l/arch"].archived and items["l/arch"].restore_state == "none" and items["l/arch"].needs_restore
    assert items["l/log"].appendable and not items["l/std"].appendable


def test_restore_and_convert_a_whole_prefix(qc):
    for key in ("p/a", "p/b", "p/c", "q/other"):
        put(qc, key)
    qc.convert_type("b", "p/a", "Archive").raise_for_status()
    qc.convert_type("b", "p/b", "Archive").raise_for_status()
    seen = []
    summary = qc.restore_prefix("b", "p/", 1, on_done=lambda info, error, result: seen.append((info.key, error)))
    assert (summary.listed, summary.done, summary.failed) == (3, 2, 0) and summary.ok
    assert summary.skipped == {"not Archive": 1}
    assert sorted(seen) == [("p/a", None), ("p/b", None)]
    again = qc.restore_prefix("b", "p/", 1)
    assert again.skipped == {"not Archive": 1, "restoring": 2} and again.done == 0

    converted = qc.convert_type_prefix("b", "p/", "IA")  # the Archive ones are not restored yet: refused
    assert (converted.done, converted.failed) == (1, 2) and not converted.ok
    assert sorted(error["key"] for error in converted.errors) == ["p/a", "p/b"]
    assert all(error["code"] == 403 for error in converted.errors)
    assert converted.to_json()["errors"][0]["message"].startswith("HTTP 403: Invalid Object State")
    assert qc.convert_type_prefix("b", "p/", "InfrequentAccess").skipped == {"already IA": 1}
    assert qc.stat_object("b", "q/other").storage_class == "Standard"  # outside the prefix
    with pytest.raises(InvalidArgument):
        qc.restore_prefix("b", "p/", "soon")
