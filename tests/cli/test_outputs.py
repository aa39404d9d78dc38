"""The stdout documents declared in ``wcs/cli/outputs.py`` (shown by ``--help`` and docs/wcscmd.md) are what the
commands print, and every command declares one."""

import json

from tests.docs import pages
from wcs.cli import outputs
from wcs.cli.definition import COMMANDS, build_parser


def declared(form):
    [document] = [document for document in outputs.DOCUMENTS if form in document.forms]
    return outputs.top_level_keys(document.shape)


def test_every_command_declares_its_stdout_once():
    forms = [form for document in outputs.DOCUMENTS for form in document.forms]
    assert len(forms) == len(set(forms))
    assert {form.split()[0] for form in forms} == {command.name for command in COMMANDS}


def test_top_level_keys_skip_nested_objects_and_value_descriptions():
    assert outputs.top_level_keys('{"a": <x, "y">, "b": {"c"}, "d": [{"e"}], "f"}') == ["a", "b", "d", "f"]
    assert declared("stat") == ["code", "reqid", "body"]


def test_help_shows_every_declared_document():
    text = build_parser().format_help()
    assert outputs.OUTPUT_HELP in text
    for document in outputs.DOCUMENTS:
        assert document.forms[0] in outputs.OUTPUT_HELP


def test_the_summary_example_of_the_folders_page_has_the_declared_keys():
    [example] = [block for block in pages.blocks("docs/folders.md") if block.lang == "json"]
    assert list(json.loads(example.text)) == declared("sync")


def test_commands_print_the_keys_they_declare(wcscmd, cfgfile, bucket, tmp_path):
    data = tmp_path / "data.bin"
    data.write_bytes(b"declared output\n" * 100)
    folder = tmp_path / "site"
    folder.mkdir()
    (folder / "index.html").write_bytes(b"<p>x</p>\n")
    obj = "wcs://%s/k" % bucket
    runs = {
        "listbucket": ("listbucket",),
        "put": ("put", obj, data),
        "stat": ("stat", obj),
        "cp": ("cp", obj, obj + "2"),
        "mv": ("mv", obj + "2", obj + "3"),
        "setdeadline": ("setdeadline", obj + "3", "30"),
        "multiput": ("multiput", obj + "4", data),
        "get": ("get", obj, tmp_path / "copy.bin"),
        "list": ("list", "wcs://" + bucket, tmp_path / "list.json"),
        "listall": ("listall", "wcs://" + bucket, tmp_path / "all.json"),
        "bucketstat": ("bucketstat", bucket, "--startdate", "2026-01-01", "--enddate", "2026-01-02"),
        "crc64": ("crc64", data),
        "records": ("records",),
        "records clean": ("records", "clean"),
        "put -r": ("put", "-r", "wcs://%s/tree" % bucket, folder),
        "get -r": ("get", "-r", "wcs://%s/tree" % bucket, tmp_path / "restore"),
        "sync": ("sync", folder, "wcs://%s/synced" % bucket),
        "cp -r": ("cp", "-r", folder, "wcs://%s/copied" % bucket),
        "rm": ("rm", obj + "4"),
        "del": ("del", obj),
    }
    for form, argv in runs.items():
        run = wcscmd("-c", cfgfile, *argv)
        assert run.status == 0, (form, run.err)
        assert list(run.json) == declared(form), form
    run = wcscmd("-c", cfgfile, "sync", folder, "wcs://%s/synced" % bucket, "--dry-run")
    assert list(run.json) == declared("sync") + ["planned"]

    job = wcscmd("-c", cfgfile, "deletePrefix", "wcs://" + bucket, "tree")
    assert job.status == 0 and list(job.json) == declared("deletePrefix")
    run = wcscmd("-c", cfgfile, "fmgrStatus", job.json["body"]["persistentId"])
    assert list(run.json) == declared("fmgrStatus")


def test_cat_prints_the_object_and_no_document(wcscmd, cfgfile, bucket, tmp_path):
    data = tmp_path / "data.txt"
    data.write_text("only the object\n")
    assert wcscmd("-c", cfgfile, "put", "wcs://%s/k" % bucket, data).status == 0
    run = wcscmd("-c", cfgfile, "cat", "wcs://%s/k" % bucket)
    assert (run.status, run.out) == (0, "only the object\n")
    assert declared("cat") == []
