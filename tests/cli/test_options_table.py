"""Help that fits the command and options that mean something (issue 22, item 10): each command takes the
options that can affect it, wherever they are written, as the official tool always allowed; any other is
refused (exit 2) by name; ``--help`` lists what applies; an unknown command gets the closest one.
"""

import json
import re

import pytest

from tests.cli.conftest import assert_one_error_line
from wcs.cli.definition import COMMANDS, build_parser, check_options, normalize_argv
from wcs.cli.options import GLOBAL, OPTIONS


def parse(*argv):
    args = build_parser().parse_args(normalize_argv(list(argv)))
    check_options(args)
    return args


# Forms scripts written for the official wcscmd use: global options before or after, in any order.
OFFICIAL_FORMS = [
    ["put", "--overwrite", "1", "wcs://b/k", "f"],
    ["--overwrite", "1", "put", "wcs://b/k", "f"],
    ["put", "wcs://b/k", "f", "--overwrite", "1", "--deadline", "600", "--returnbody", "x"],
    ["multiput", "wcs://b/k", "f", "--upload-id", "abc", "--overwrite", "1"],
    ["--upload-id", "abc", "multiput", "wcs://b/k", "f"],
    ["list", "wcs://b", "r", "--limit", "4", "--prefix", "a/", "--mode", "0", "--marker", "m"],
    ["--limit", "4", "listall", "wcs://b", "r"],
    ["fops", "wcs://b/k", "avthumb/mp4", "--notify", "http://n", "--force", "1", "--separate", "1",
     "--output", "b:o"],
    ["deletePrefix", "wcs://b", "logs/", "--notify", "http://n"],
    ["setdeadline", "wcs://b/k", "3", "--relevance"],
    ["bucketstat", "b", "--startdate", "2024-01-01", "--enddate", "2024-01-02", "--islistdetails", "true",
     "--storagetype", "Standard"],
    ["get", "http://h/k", "f", "--traffic_limit", "100"],
    ["-s", "-c", "cfg", "--debug", "1", "listbucket"],
    ["stat", "wcs://b/k", "-c", "cfg", "--ssl", "--debug"],
    ["--put-url", "http://u", "--mgr-url", "http://m", "del", "wcs://b/k"],
    ["sync", "./site", "wcs://b/www", "--delete", "--exclude", "*.tmp", "-n", "--transfers", "4"],
    ["put", "-r", "wcs://b/www", "./site", "--skip-existing", "--no-clobber"],
]


@pytest.mark.parametrize("argv", OFFICIAL_FORMS, ids=[" ".join(a[:2]) for a in OFFICIAL_FORMS])
def test_the_forms_scripts_use_still_parse(argv):
    assert parse(*argv).command in {c.name for c in COMMANDS}


@pytest.mark.parametrize("argv, needle", [
    (["listbucket", "--upload-id", "X"], "--upload-id does not apply to listbucket (it is for: multiput)"),
    (["--upload-id", "X", "listbucket"], "--upload-id does not apply to listbucket"),
    (["stat", "wcs://b/k", "--overwrite", "1"], "--overwrite does not apply to stat"),
    (["list", "wcs://b", "r", "--notify", "http://n"], "--notify does not apply to list"),
    (["put", "-r", "wcs://b/p", ".", "--overwrite", "1"], "--overwrite does not apply to put -r"),
    (["put", "wcs://b/k", "f", "--delete"], "--delete does not apply to put"),
    (["put", "wcs://b/k", "f", "--exclude", "*.tmp"], "--exclude/--include/--filter-from needs -r"),
    (["get", "wcs://b/k", "f", "--dry-run"], "--dry-run needs -r"),
    (["cat", "wcs://b/k", "--mime-type", "text/plain"], "--mime-type does not apply to cat"),
    (["sync", ".", "wcs://b", "--upload-id", "u"], "--upload-id does not apply to sync"),
    (["crc64", "f", "--bwlimit", "1M"], "--bwlimit does not apply to crc64"),
    (["fopsStatus", "id", "--limit", "3"], "--limit does not apply to fopsStatus"),
])
def test_an_option_the_command_cannot_use_exits_2_naming_it(wcscmd, argv, needle):
    line = assert_one_error_line(wcscmd(*argv), 2)
    assert needle in line and "--help" in line


def test_the_table_covers_every_command_and_tag():
    tags = {option.tag for option in OPTIONS}
    used = {tag for command in COMMANDS for tag in command.tags + (command.recursive or ())}
    assert used <= tags and tags - used == {GLOBAL}
    assert all(command.group in ("objects", "folders", "listing", "jobs", "config") for command in COMMANDS)


@pytest.mark.parametrize("word, suggestion", [("lst", "list"), ("deleteprefix", "deletePrefix"),
                                              ("multput", "multiput"), ("synk", "sync"), ("stats", "stat")])
def test_an_unknown_command_suggests_the_closest(wcscmd, word, suggestion):
    line = assert_one_error_line(wcscmd(word, "x"), 2)
    assert "unknown command %r; did you mean `%s`?" % (word, suggestion) in line


def test_an_unknown_command_without_a_close_one(wcscmd):
    line = assert_one_error_line(wcscmd("frobnicate"), 2)
    assert "unknown command 'frobnicate'" in line and "did you mean" not in line


# argparse titles the section "options:" from Python 3.10 on, "optional arguments:" before.
_OPTIONS_HEADING = re.compile(r"\n(?:options|optional arguments):")


def test_main_help_lists_every_command_on_one_line_in_groups_and_every_folder_option(wcscmd):
    out = wcscmd("--help").out
    commands = _OPTIONS_HEADING.split(out.split("Commands", 1)[1], 1)[0]
    for title in ("objects:", "folders:", "listing:", "jobs:", "configuration and local files:"):
        assert "\n %s\n" % title in commands
    lines = commands.splitlines()
    for command in COMMANDS:
        found = [line for line in lines if line.split()[:2] == ["wcscmd", command.name]]
        assert found and all(len(line) <= 120 for line in found)
    assert [line.split()[1:3] for line in lines if "-r" in line.split()[:3]] == [
        ["cp", "-r"], ["mv", "-r"], ["put", "-r"], ["get", "-r"]]
    for flag in ("-r, --recursive", "--delete", "--dry-run", "--exclude", "--include", "--filter-from",
                 "--max-delete", "--size-only", "--transfers", "--no-clobber", "--bwlimit", "--mime-type",
                 "--profile", "--json"):
        assert flag in out


@pytest.mark.parametrize("command", [c.name for c in COMMANDS])
def test_each_command_help_shows_only_what_applies(wcscmd, command):
    run = wcscmd(command, "--help")
    assert run.status == 0
    options = _OPTIONS_HEADING.split(run.out, 1)[1].split("Options of any command", 1)[0]
    spec = next(c for c in COMMANDS if c.name == command)
    accepted = set(spec.tags) | set(spec.recursive or ())
    for option in OPTIONS:
        shown = any(re.search(r"^  (-\w[ ,A-Z_|-]*, )?%s\b" % re.escape(flag), options, re.M)
                    for flag in option.flags if flag.startswith("--"))
        if option.tag != GLOBAL:
            assert shown == (option.tag in accepted), (command, option.name)
    assert "Options of any command" in run.out and "--profile NAME" in run.out


def test_help_is_short_for_a_command_with_few_options(wcscmd):
    for command in ("stat", "listbucket", "del", "fopsStatus"):
        assert len(wcscmd(command, "--help").out.splitlines()) < 45


@pytest.mark.parametrize("argv", [
    ["listbucket"], ["stat", "wcs://{b}/k"], ["put", "wcs://{b}/k2", "{f}"], ["multiput", "wcs://{b}/k3", "{f}"],
    ["get", "wcs://{b}/k", "{d}/copy"], ["cp", "wcs://{b}/k", "wcs://{b}/k4"], ["mv", "wcs://{b}/k", "wcs://{b}/k5"],
    ["setdeadline", "wcs://{b}/k", "3"], ["del", "wcs://{b}/k"], ["list", "wcs://{b}", "{d}/l.json"],
    ["listall", "wcs://{b}", "{d}/a.json"], ["bucketstat", "{b}"], ["crc64", "{f}"], ["records"],
    ["deletePrefix", "wcs://{b}", "nothing/"], ["sync", "{d}/site", "wcs://{b}/www"],
    ["put", "-r", "wcs://{b}/www2", "{d}/site"], ["get", "-r", "wcs://{b}/www", "{d}/back"],
])
def test_json_and_verbose_on_every_command(wcscmd, cfgfile, bucket, tmp_path, argv):
    data = tmp_path / "f.txt"
    data.write_bytes(b"json lines\n")
    (tmp_path / "site").mkdir(exist_ok=True)
    (tmp_path / "site" / "index.html").write_bytes(b"<p>\n")
    assert wcscmd("-c", cfgfile, "put", "wcs://%s/k" % bucket, data, "-q").status == 0
    words = [w.format(b=bucket, f=data, d=tmp_path) for w in argv]
    run = wcscmd("-c", cfgfile, *words, "--json", "-v")
    assert run.status == 0, run.err
    [line] = run.out.splitlines()  # one document, on one line
    assert isinstance(json.loads(line), dict)
    said = [line for line in run.err_lines if not line.startswith("wcscmd: upload id:")]
    assert said and all(line.startswith("wcscmd: ") for line in said)
    assert "s" in said[-1].rsplit(" ", 1)[-1]  # ends with the time taken
    if argv[0] in ("stat", "get", "sync"):
        quiet = wcscmd("-c", cfgfile, *words, "-q", "-v")  # --quiet wins
        assert quiet.status == 0 and quiet.err_lines == []
