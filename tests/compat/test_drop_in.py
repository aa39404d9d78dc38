"""Issue 13: a script written for the official ``wcs-python3-sdk`` 5.0.36 runs unchanged on ours, with the same values.

``drop_in_script.py`` (every ``Client`` method, the utility functions, the classes at the official
import paths) runs twice at once, each against an emulator of its own holding the same buckets and
files: with the official SDK (its cached virtualenv, run outside this repository) and with ours (this
checkout on ``PYTHONPATH``). Both read the same ``.wcscfg``, which is also ``~/.wcscfg`` of their HOME,
so ``Config()`` means the same file on both sides. Every call must give the same code, the same body
type and the same body (ids, times, reqids and the emulator's address normalised), or raise an exception
of the official class; the exceptions are :data:`DIFFERENCES`, each a line of "Differences from the
official SDK" in ``docs/switching.md``.
"""

import json
import os
import re
import shutil
import subprocess
import sys

import pytest

from tests.helpers.official_sdk import VENV, VenvUnavailable, clean_env, official_python
from wcs.commons.util import BLOCK_SIZE, urlsafe_base64_encode
from wcs.emulator import Emulator

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "drop_in_script.py")
BUCKETS = ("compat", "compat2")
NO_RECORD_ID = "dropInNoRecord"  # the upload id drop_in_script.py gives without a record
OFFICIAL_RECORDS = "/tmp/multipart"  # the official SDK's record folder: fixed when it is imported

# call name -> the line of docs/switching.md (under "Differences from the official SDK") that says why ours differs.
DIFFERENCES = {
    "simple_upload_no_answer": "A call that gets no answer returns `(-1, {\"message\": ...}, {\"x-reqid\": None})`",
    "stat_no_answer": "A call that gets no answer returns `(-1, {\"message\": ...}, {\"x-reqid\": None})`",
    "delete_no_answer": "A call that gets no answer returns `(-1, {\"message\": ...}, {\"x-reqid\": None})`",
    "bucket_listAll_dirs": "`bucket_listAll` merges `commonPrefixes` of every page",
    "multipart_upload_new_id": "`multipart_upload` with an upload id that has no record starts a fresh upload",
}

_PERSISTENT_ID = re.compile(r"^[0-9a-f]{36}$")


def _official_python():
    try:
        return official_python()
    except VenvUnavailable as exc:
        pytest.skip(str(exc))


def _files(folder):
    os.makedirs(folder)
    contents = {"small.txt": b"hello drop-in", "other.txt": b"other content", "image.jpg": b"\xff\xd8\xff fake jpeg",
                # two blocks, several 1 MiB chunks each
                "big.bin": bytes(range(256)) * (2 * BLOCK_SIZE // 256 + 100)}
    for name, data in contents.items():
        with open(os.path.join(folder, name), "wb") as fp:
            fp.write(data)
    return folder


def _start(python, home, workdir, emulator, env_extra):
    with open(os.path.join(home, ".wcscfg"), "w", encoding="utf-8") as fp:
        fp.write(emulator.config_text())
        fp.write("block_size = %d\nbput_size = %d\nconcurrency = 2\ntmp_record_folder = %s\n"
                 % (BLOCK_SIZE, 1024 * 1024, os.path.join(home, "records", "")))
    env = dict(clean_env(), HOME=home, **env_extra)
    # The official SDK must not see this checkout: it runs from '/', without PYTHONPATH.
    cwd = workdir if env_extra else "/"
    return subprocess.Popen([python, SCRIPT, os.path.join(home, ".wcscfg"), workdir, BUCKETS[0]], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _finish(proc):
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err[-3000:]
    return json.loads(out.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """``{"official": output, "ours": output, "urls": {side: emulator url}}`` of one run of the script per SDK."""
    python = _official_python()
    base = tmp_path_factory.mktemp("drop-in")
    outputs, urls, procs = {}, {}, {}
    with Emulator(data_dir=str(base / "official-data"), buckets=BUCKETS) as official_emu, \
            Emulator(data_dir=str(base / "ours-data"), buckets=BUCKETS) as ours_emu:
        for side, emu, py, extra in (("official", official_emu, python, {}),
                                     ("ours", ours_emu, sys.executable, {"PYTHONPATH": ROOT})):
            home = str(base / ("home-" + side))
            os.makedirs(home)
            procs[side] = _start(py, home, _files(str(base / ("files-" + side))), emu, extra)
            urls[side] = emu.url
        try:
            for side, proc in procs.items():
                outputs[side] = _finish(proc)
        finally:
            for proc in procs.values():
                if proc.poll() is None:
                    proc.kill()
                    proc.communicate()
            # The official SDK makes the folder of an upload id it is given before it finds no record
            # there, under its fixed default tmp_record_folder.
            shutil.rmtree(os.path.join(OFFICIAL_RECORDS, NO_RECORD_ID), ignore_errors=True)
    return {"official": outputs["official"], "ours": outputs["ours"], "urls": urls}


def _normalise(value, url):
    """The value with what differs between two runs replaced: times, job ids, the emulator's address."""
    source = "%s/%s/small.txt" % (url, BUCKETS[0])
    replacements = ((url, "<emulator>"), (urlsafe_base64_encode(source), "<b64 source url>"))
    if isinstance(value, dict):
        return {k: ("<time>" if k == "putTime" and isinstance(v, int) else _normalise(v, url))
                for k, v in value.items()}
    if isinstance(value, list):
        return [_normalise(v, url) for v in value]
    if isinstance(value, str):
        if _PERSISTENT_ID.match(value):
            return "<persistentId>"
        for old, new in replacements:
            value = value.replace(old, new)
    return value


def _outcomes(runs, side):
    return [(name, _normalise(outcome, runs["urls"][side])) for name, outcome in runs[side]["calls"]]


def test_each_side_ran_its_own_sdk(runs):
    assert runs["official"]["module"].startswith(VENV)
    assert runs["ours"]["module"] == os.path.join(ROOT, "wcs", "__init__.py")


def test_the_same_calls_were_made(runs):
    official = [name for name, _ in runs["official"]["calls"]]
    assert [name for name, _ in runs["ours"]["calls"]] == official
    assert len(official) >= 140 and len(set(official)) == len(official)


def test_every_call_gives_the_official_code_body_type_and_body(runs):
    mismatches = []
    for (name, official), (_, ours) in zip(_outcomes(runs, "official"), _outcomes(runs, "ours")):
        if name in DIFFERENCES:
            continue
        if "raises" in official:
            # Ours may raise a subclass of the official class (our exception tree under it).
            if "raises" not in ours or official["raises"] not in ours["mro"]:
                mismatches.append((name, official, ours))
            continue
        if "headers" in official:
            assert "x-reqid" in official["headers"], (name, official)
            if "x-reqid" not in ours.get("headers", ()):  # ours carries every header, x-reqid always
                mismatches.append((name, "headers", official["headers"], ours.get("headers")))
            official = {k: v for k, v in official.items() if k != "headers"}
            ours = {k: v for k, v in ours.items() if k != "headers"}
        if ours != official:
            mismatches.append((name, official, ours))
    assert not mismatches, "\n".join(json.dumps(m)[:600] for m in mismatches)


def test_the_allowed_differences_are_real_and_documented(runs):
    official, ours = dict(_outcomes(runs, "official")), dict(_outcomes(runs, "ours"))
    with open(os.path.join(ROOT, "docs", "switching.md"), encoding="utf-8") as fp:
        page = fp.read()
    differences = page.split("## Differences from the official SDK", 1)[1].split("\n## ", 1)[0]
    for name, line in DIFFERENCES.items():
        if "raises" not in official[name]:
            assert official[name].get("code") == ours[name].get("code"), name  # the same status, another body
        assert official[name] != ours[name], "%s no longer differs: drop it from DIFFERENCES" % name
        assert line in differences, "docs/switching.md does not document %s" % name


def test_form_uploads_answer_the_raw_text_and_keep_the_decoded_form(runs):
    ours = dict(_outcomes(runs, "ours"))
    for name in ("simple_upload", "stream_upload", "smart_upload_small", "SimpleUpload.upload", "StreamUpload.upload"):
        assert ours[name]["type"] == "str" and ours[name]["code"] == 200, name
    assert ours["simple_upload_exists"]["body"].startswith('{"code": 406')
    assert ours["multipart_upload_exists"]["code"] == 406  # identical content, overwrite = 0: still 406
