"""How the CLI is put together: exit statuses from one enum, stdio injected into main, the Client as the only door."""

import ast
import io
import os

import pytest

from wcs.cli import status
from wcs.cli.status import EXIT_STATUS_HELP, FILE_TOOL_EXIT_STATUS_HELP, ExitStatus

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLI = os.path.join(ROOT, "wcs", "cli")


def _help_codes(text):
    return [int(line.split()[0]) for line in text.split("Exit status:", 1)[1].splitlines() if line.strip()]


def test_exit_status_help_is_generated_from_the_enum():
    assert _help_codes(EXIT_STATUS_HELP) == [int(member) for member in ExitStatus]
    for member in ExitStatus:
        assert member.description and member.description in EXIT_STATUS_HELP
    assert _help_codes(FILE_TOOL_EXIT_STATUS_HELP) == [0, 1, 2, 4, 130]
    assert status.exit_status_help([ExitStatus.NETWORK]) == "Exit status:\n  6    " + ExitStatus.NETWORK.description


def test_main_uses_the_streams_and_environment_it_is_given(capsys, tmp_path):
    from wcs.cli.wcscmd import main

    out, err = io.StringIO(), io.StringIO()
    environ = {"WCS_ACCESS_KEY": "AK-injected", "WCS_MGR_URL": "http://127.0.0.1:9"}
    assert main(["-c", os.devnull, "--dump-config"], stdout=out, stderr=err, environ=environ) == 0
    assert "AK-injected" in out.getvalue() and err.getvalue() == ""
    out, err = io.StringIO(), io.StringIO()
    assert main(["-c", os.devnull, "stat", "wcs://b/k"], stdout=out, stderr=err, environ={}) == ExitStatus.CONFIG
    assert out.getvalue() == "" and err.getvalue().startswith("wcscmd: error: access_key")
    out = io.StringIO()
    assert main(["--help"], stdout=out, stderr=err) == 0 and "Exit status:" in out.getvalue()
    out = io.StringIO()
    assert main(["put", "--help"], stdout=out) == 0 and "wcscmd put" in out.getvalue()
    out = io.StringIO()
    assert main(["--version"], stdout=out) == 0 and out.getvalue().startswith("wcscmd ")
    assert capsys.readouterr() == ("", "")  # nothing went to the process's own streams


@pytest.mark.parametrize("tool", ["etag_cal", "crc64_cal"])
def test_file_tools_use_the_streams_they_are_given(capsys, tmp_path, tool):
    import importlib

    main = importlib.import_module("wcs.cli." + tool).main
    path = tmp_path / "f"
    path.write_bytes(b"x")
    out, err = io.StringIO(), io.StringIO()
    assert main([tool.split("_")[0], str(path)], stdout=out, stderr=err) == 0 and out.getvalue().strip()
    assert main([tool.split("_")[0], str(tmp_path / "missing")], stdout=out, stderr=err) == ExitStatus.LOCAL_FILE
    assert len(err.getvalue().splitlines()) == 1
    out = io.StringIO()
    assert main(["--help"], stdout=out, stderr=err) == 0 and "Exit status:" in out.getvalue()
    assert capsys.readouterr() == ("", "")


def _imports(path):
    with open(path, encoding="utf-8") as fp:
        tree = ast.parse(fp.read(), path)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            yield node.module, [alias.name for alias in node.names]
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, []


def test_the_cli_reaches_the_services_only_through_the_client():
    found = []
    for folder, _dirs, files in os.walk(CLI):
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                for module, names in _imports(path):
                    if module.startswith("wcs.services") and (module, names) != ("wcs.services.client", ["Client"]):
                        found.append((os.path.relpath(path, ROOT), module, names))
    assert found == []


def test_no_cli_module_reads_the_process_streams_outside_the_entry_points():
    # main(...) and the file tools' run_tool take stdio in; below them nothing reads sys.std* or os.environ.
    allowed = {"core.py", "filetool.py", "argtypes.py", "demo.py"}
    wanted = {("sys", "stdin"), ("sys", "stdout"), ("sys", "stderr"), ("os", "environ")}
    offenders = []
    for folder, _dirs, files in os.walk(CLI):
        for name in files:
            if name.endswith(".py") and name not in allowed:
                path = os.path.join(folder, name)
                with open(path, encoding="utf-8") as fp:
                    tree = ast.parse(fp.read(), path)
                offenders.extend((name, node.attr) for node in ast.walk(tree)
                                 if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                                 and (node.value.id, node.attr) in wanted)
    assert offenders == []


def test_client_delete_prefix_builds_the_fops_and_check_upload_id_delegates(monkeypatch):
    from wcs.commons.config import Config
    from wcs.commons.errors import InvalidArgument
    from wcs.commons.util import urlsafe_base64_encode as b64
    from wcs.services.client import Client

    sent = []
    monkeypatch.setattr(Client, "prefix_delete", lambda self, fops, **kw: sent.append((fops, kw)) or "result")
    with Client(Config()) as client:
        assert client.delete_prefix("b", "logs/") == "result"
        client.delete_prefix("b", "p", output="b:out", notifyurl="http://n", separate=1, force=0)
        with pytest.raises(InvalidArgument):
            client.delete_prefix("b", "")
    assert sent == [("bucket/%s/prefix/%s" % (b64("b"), b64("logs/")), {"notifyurl": None, "separate": None,
                                                                          "force": None}),
                    ("bucket/%s/prefix/%s/output/%s" % (b64("b"), b64("p"), b64("b:out")),
                     {"notifyurl": "http://n", "separate": 1, "force": 0})]
    assert Client.check_upload_id("abc-1_2") == "abc-1_2"
    with pytest.raises(InvalidArgument):
        Client.check_upload_id("../x")
