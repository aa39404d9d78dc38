"""The command line itself: commands, options anywhere, URIs, DAYS, the get file-name rule, --help."""

import pytest

from tests.cli.conftest import assert_one_error_line
from wcs.cli import uri
from wcs.cli.wcscmd import COMMANDS, build_parser, default_filename, normalize_argv, parse_days
from wcs.commons.errors import InvalidArgument

OFFICIAL_COMMANDS = ["list", "listall", "listbucket", "get", "del", "mv", "cp", "setdeadline", "stat", "put",
                     "multiput", "deletePrefix", "fops", "fopsStatus", "fmgrStatus", "bucketstat"]
OFFICIAL_OPTIONS = ["--configure", "--dump-config", "--config", "-c", "--ssl", "-s", "--upload-id", "--limit",
                    "--prefix", "--mode", "--marker", "--overwrite", "--returnurl", "--returnbody", "--callbackurl",
                    "--callbackbody", "--persistentntyurl", "--persistentops", "--contentdetect", "--detectntyurl",
                    "--detectntyrule", "--notify", "--separate", "--force", "--output", "--relevance", "--deadline",
                    "--traffic_limit", "--startdate", "--enddate", "--debug", "--hashalgorithm"]


def parse(*argv):
    return build_parser().parse_args(normalize_argv(list(argv)))


def test_help_lists_every_command_and_option(wcscmd):
    run = wcscmd("--help")
    assert run.status == 0
    for name in OFFICIAL_COMMANDS:
        assert "  wcscmd %s" % name in run.out
    for option in OFFICIAL_OPTIONS:
        assert option in run.out
    assert "Exit status:" in run.out and "130" in run.out
    assert {c.name for c in COMMANDS} >= set(OFFICIAL_COMMANDS)


def test_subcommand_help(wcscmd):
    run = wcscmd("setdeadline", "--help")
    assert run.status == 0
    assert "wcscmd setdeadline wcs://BUCKET/OBJECT deadline" in run.out


@pytest.mark.parametrize("argv", [
    ["list", "wcs://B", "./result", "--limit", "4", "--marker", "2"],
    ["--limit", "4", "--marker", "2", "list", "wcs://B", "./result"],
    ["list", "--limit", "4", "wcs://B", "--marker", "2", "./result"],
    ["--limit", "9", "list", "wcs://B", "./result", "--limit", "4", "--marker", "2"],
])
def test_options_before_or_after_arguments(argv):
    args = parse(*argv)
    assert (args.command, args.bucket, args.resfile) == ("list", "wcs://B", "./result")
    assert (args.limit, args.marker) == ("4", "2")


def test_official_invocations_parse():
    args = parse("put", "wcs://bucket/key", "./file", "--overwrite", "1")
    assert (args.uri, args.localfile, args.overwrite) == ("wcs://bucket/key", "./file", 1)
    args = parse("get", "http://domain/key", "./file")
    assert (args.url, args.filename) == ("http://domain/key", "./file")
    assert parse("get", "http://domain/key").filename is None
    args = parse("bucketstat", "b1|b2", "--startdate", "2024-01-01", "--enddate", "2024-01-31")
    assert (args.buckets, args.startdate, args.enddate) == ("b1|b2", "2024-01-01", "2024-01-31")
    args = parse("-c", "./cfg", "stat", "wcs://b/k")
    assert (args.config, args.uri) == ("./cfg", "wcs://b/k")
    assert parse("--configure").configure is True
    assert parse("-s", "listbucket").ishttps is True


def test_unset_options_stay_unset():
    # An option not typed must not override the config file (argparse defaults are suppressed).
    args = parse("stat", "wcs://b/k")
    assert not hasattr(args, "limit") and not hasattr(args, "overwrite")


@pytest.mark.parametrize("days", ["-1", '"-1"', "'-1'", "30", "0"])
def test_setdeadline_days(days):
    args = parse("setdeadline", "wcs://b/dir/k", days)
    assert args.days == days
    assert parse_days(args.days) == int(days.strip("'\""))
    args = parse("setdeadline", "wcs://b/k", days, "--debug")
    assert args.debug is True


@pytest.mark.parametrize("days", ["abc", "", '""', "1.5", "-2"])
def test_setdeadline_bad_days(days):
    with pytest.raises(InvalidArgument):
        parse_days(days)


def test_official_debug_with_value():
    assert parse("--debug", "1", "stat", "wcs://b/k").debug is True
    assert not hasattr(parse("--debug", "0", "stat", "wcs://b/k"), "debug")
    assert parse("stat", "wcs://b/k", "--debug").debug is True


@pytest.mark.parametrize("text, expected", [
    ("wcs://b/k", ("b", "k")),
    ("wcs://b/dir/sub/k.txt", ("b", "dir/sub/k.txt")),
    ("WCS://b/k", ("b", "k")),
    ("wcs://b/a key with spaces%20?#+", ("b", "a key with spaces%20?#+")),
    ("wcs://b/ключ/文件", ("b", "ключ/文件")),
])
def test_parse_object(text, expected):
    assert uri.parse_object(text) == expected


@pytest.mark.parametrize("text", ["b/k", "s3://b/k", "wcs://", "wcs:///k", "wcs://b", "wcs://b/", "wcs:// /k",
                                  "wcs://a:b/k", ""])
def test_parse_object_rejects(text):
    with pytest.raises(InvalidArgument) as info:
        uri.parse_object(text)
    assert "\n" not in str(info.value)


def test_parse_bucket():
    assert uri.parse_bucket("wcs://b") == "b"
    assert uri.parse_bucket("wcs://b/") == "b"
    assert uri.parse_object("wcs://b", allow_empty_key=True) == ("b", "")
    for bad in ("wcs://b/k", "b", "wcs://"):
        with pytest.raises(InvalidArgument):
            uri.parse_bucket(bad)


@pytest.mark.parametrize("url, name", [
    ("http://domain/key.txt", "key.txt"),
    ("http://domain/dir/key.txt", "key.txt"),
    ("http://domain/dir/key.txt?wsiphost=local", "dir/key.txt"),
    ("http://domain/dir/%E6%96%87%E4%BB%B6.txt", "文件.txt"),
    ("https://domain/a%20b.txt", "a b.txt"),
])
def test_default_filename_follows_official_rule(url, name):
    assert default_filename(url) == name


@pytest.mark.parametrize("url", ["http://domain/", "http://domain/dir/", "http://domain/../../etc/passwd?x=1",
                                 "http://domain/%2E%2E/x?y"])
def test_default_filename_refuses_unsafe_or_empty(url):
    with pytest.raises(InvalidArgument):
        default_filename(url)


@pytest.mark.parametrize("argv, needle", [
    ([], "no command given"),
    (["frobnicate"], "unknown command 'frobnicate'"),
    (["stat"], "required"),
    (["stat", "wcs://b/k", "extra"], "unrecognized arguments"),
    (["list", "wcs://b", "r", "--nope"], "unrecognized arguments"),
    (["put", "wcs://b/k", "f", "--overwrite", "maybe"], "--overwrite"),
    (["bucketstat", "b", "--startdate", "2024-13-01"], "--startdate"),
    (["multiput", "wcs://b/k", "f", "--block-size", "lots"], "--block-size"),
])
def test_usage_errors_exit_2_with_one_line(wcscmd, argv, needle):
    line = assert_one_error_line(wcscmd(*argv), 2) if argv else None
    if not argv:  # no command: the help goes to stderr, then the error line
        run = wcscmd()
        assert run.status == 2 and run.out == ""
        line = run.err_lines[-1]
    assert needle in line


@pytest.mark.parametrize("argv, needle", [
    (["stat", "b/k"], "expected wcs://"),
    (["stat", "wcs://b"], "missing object key"),
    (["stat", "wcs:///k"], "missing bucket"),
    (["del", "wcs://b/"], "missing object key"),
    (["list", "wcs://b/k", "r"], "without a key"),
    (["setdeadline", "wcs://b/k", "soon"], "DAYS"),
    (["get", "ftp://x/y"], "http"),
    (["bucketstat", "b1||b2"], "'|'"),
    (["deletePrefix", "wcs://b", ""], "PREFIX"),
])
def test_bad_arguments_exit_2_before_any_network(wcscmd, tmp_path, argv, needle):
    # No config exists at all: argument errors must be reported before the config is even needed.
    line = assert_one_error_line(wcscmd(*argv), 2)
    assert needle in line


@pytest.mark.parametrize("kind, host, port, reason, expected", [
    ("refused", "127.0.0.1", 1, "[Errno 111] Connection refused",
     "cannot reach 127.0.0.1:1: [Errno 111] Connection refused"),
    ("dns", "nowhere.invalid", 80, "[Errno -2] Name or service not known",
     "cannot reach nowhere.invalid:80: Failed to resolve 'nowhere.invalid' ([Errno -2] Name or service not known)"),
    ("unreachable", "far.example", 80, "[Errno 101] Network is unreachable",
     "cannot reach far.example:80: [Errno 101] Network is unreachable"),
    ("connect timeout", "::1", 8930, "connection timed out after 40 s",
     "cannot reach [::1]:8930: connection timed out after 40 s"),
    ("read timeout", "h", 80, "nothing received for 40 s",
     "no answer from h:80: nothing received for 40 s (connection_timeout)"),
    ("reset", "h", 443, "[Errno 104] Connection reset by peer",
     "the connection to h:443 broke off: [Errno 104] Connection reset by peer"),
])
def test_network_message_is_short_and_made_of_the_fields(kind, host, port, reason, expected):
    from wcs.cli.wcscmd import network_message
    from wcs.commons.errors import NetworkError

    error = NetworkError("ConnectionError: HTTPConnectionPool(host=...): Max retries exceeded ...", kind=kind,
                         host=host, port=port, reason=reason)
    assert network_message(error) == expected


def test_network_message_without_a_host_or_a_known_kind_is_the_text():
    from wcs.cli.wcscmd import network_message
    from wcs.commons.errors import NetworkError

    assert network_message(NetworkError("something else entirely", kind="refused")) == "something else entirely"
    assert network_message(NetworkError("the server does not resume ranged transfers", host="h", port=80)) \
        == "the server does not resume ranged transfers"


def test_help_does_not_load_the_sdk():
    # `wcscmd --help` and usage errors must stay instant: requests and tqdm load only when a command uses them.
    import subprocess
    import sys

    code = ("import sys; from wcs.cli.wcscmd import main; main(['--help']); "
            "sys.stderr.write(repr(sorted(m for m in ('requests', 'tqdm') if m in sys.modules)))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stderr == "[]"


def test_a_command_loads_its_own_module_and_parser_only():
    # Start-up of every run: the 34 commands' parsers and modules are not built for the one that runs.
    import subprocess
    import sys

    code = ("import sys; from wcs.cli.wcscmd import main; main(['stat', '--help']); "
            "sys.stderr.write(repr(sorted(m for m in sys.modules if m.startswith('wcs.cli.commands.'))))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stderr == "[]"  # --help needs the parser, not the function
    from wcs.cli.definition import build_parser

    parser = build_parser()
    parser.parse_args(["stat", "wcs://b/k"])
    choices = parser._subparsers._group_actions[0].choices  # the map of sub-commands
    assert [name for name in choices if dict.__getitem__(choices, name) is not None] == ["stat"]


def test_setdeadline_help_says_that_0_deletes_the_object(wcscmd):
    run = wcscmd("setdeadline", "--help")
    assert run.status == 0
    assert "0 DELETES it" in " ".join(run.out.split()) and "-1 keeps it forever" in " ".join(run.out.split())
    run = wcscmd("--help")
    assert "0 deletes the object, -1 keeps it forever" in run.out
