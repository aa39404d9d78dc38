"""The command line of ``wcscmd``: every option in named groups, the command table, the parser.

Every option of the official tool keeps its spelling, and options may come before or after the
command's arguments: they are defined once, in :data:`OPTION_GROUPS`, and attached to the main
parser and to every subcommand parser. Options with a Config key are applied over the ``.wcscfg``
values through the Config's own validation (:func:`overrides_from`), so ``--limit 0`` fails exactly
like ``limit = 0`` in the file does.
"""

import argparse
from typing import IO, Any, Callable, Dict, List, NamedTuple, Optional, Sequence, Tuple

from wcs import __version__
from wcs.cli import argtypes
from wcs.cli.argtypes import Parser, UsageError, Version
from wcs.cli.commands import jobs, listing, objects, records, transfers, trees
from wcs.cli.context import Context, Override
from wcs.cli.outputs import OUTPUT_HELP
from wcs.cli.status import EXIT_STATUS_HELP
from wcs.cli.tree_options import add_tree_options

PROG = "wcscmd"
DESCRIPTION = ("Wcscmd is a tool for managing objects in WCS Object Storage. It allows for uploading, "
               "downloading and removing objects from buckets.")


class Option(NamedTuple):
    flags: Tuple[str, ...]
    dest: str
    key: Optional[str]  # the Config key it overrides, or None for options only the CLI uses
    kwargs: Dict[str, Any]
    help: str


# The official options (same spelling), grouped by what they are for, plus a few additions
# (--quiet, --block-size, --concurrency, --put-url, --mgr-url).
OPTION_GROUPS: List[Tuple[str, List[Option]]] = [
    ("Configuration", [
        Option(("--configure",), "configure", None, {"action": "store_true"},
               "Invoke interactive (re)configuration tool."),
        Option(("-c", "--config"), "config", None, {"metavar": "FILE"},
               "Config file name. Defaults to $HOME/.wcscfg"),
        Option(("--dump-config",), "dump_config", None, {"action": "store_true"},
               "Dump current configuration after parsing config file, environment and command line "
               "options and exit."),
        Option(("-s", "--ssl"), "ishttps", "ishttps", {"action": "store_const", "const": True},
               "Use https connection when communicating with WCS (also for hosts written as http://...)"),
        Option(("--put-url",), "put_url", "put_url", {"metavar": "URL"}, "Upload domain (overrides put_url)"),
        Option(("--mgr-url",), "mgr_url", "mgr_url", {"metavar": "URL"}, "Manager domain (overrides mgr_url)"),
        Option(("--download-url",), "download_url", "download_url", {"metavar": "URL"},
               "Download origin of buckets, with {bucket} (overrides download_url)"),
        Option(("--encryption-type",), "encryption_type", "encryption_type", {"metavar": "SHA-1|SM3"},
               "Signing algorithm of the tokens: SHA-1 (HMAC-SHA1, the default) or SM3 (HMAC-SM3, "
               "announced by an encryption-type header) (overrides encryption_type)"),
    ]),
    ("Upload policy", [
        Option(("--overwrite",), "overwrite", "overwrite", {"type": argtypes.flag01},
               "Whether overwrite existed key, bool type"),
        Option(("--deadline",), "deadline", "deadline", {"type": argtypes.positive_int, "metavar": "SECONDS"},
               "Token expiration time, Unit is second"),
        Option(("--returnurl",), "returnurl", "returnUrl", {}, "Url for return"),
        Option(("--returnbody",), "returnbody", "returnBody", {}, "Body of return"),
        Option(("--callbackurl",), "callbackurl", "callbackUrl", {}, "Url for callback"),
        Option(("--callbackbody",), "callbackbody", "callbackBody", {}, "Body of callback"),
        Option(("--persistentntyurl",), "persistentntyurl", "persistentNotifyUrl", {},
               "Url for persistent ops notify"),
        Option(("--persistentops",), "persistentops", "persistentOps", {}, "Persistent ops"),
        Option(("--contentdetect",), "contentdetect", "contentDetect", {}, "Content detect type"),
        Option(("--detectntyurl",), "detectntyurl", "detectNotifyURL", {}, "Url for detect notify"),
        Option(("--detectntyrule",), "detectntyrule", "detectNotifyRule", {}, "Rule for detect notify"),
        Option(("--hashalgorithm",), "hashalgorithm", "hashAlgorithm", {},
               "Hash algorithm, currently supports 'crc64ecma' for calculating 64-bit CRC value."),
    ]),
    ("Listing", [
        Option(("--limit",), "limit", "limit", {}, "Limit for list objects of bucket (1-1000)"),
        Option(("--prefix",), "prefix", "prefix", {}, "Prefix for list objects of bucket"),
        Option(("--mode",), "mode", "mode", {}, "Mode for list objects of bucket (0, 1; 3 = flat)"),
        Option(("--marker",), "marker", "marker", {}, "Start string for list"),
    ]),
    ("Jobs (fmgr/fops)", [
        Option(("--output",), "output", "output", {},
               "Save request result to specified key, like:<bucket>:<key>"),
        Option(("--notify",), "notifyurl", "notifyurl", {"metavar": "NOTIFYURL"},
               "Notify url for request result"),
        Option(("--separate",), "separate", "separate", {"type": argtypes.flag01},
               "Whether separate notify, bool type"),
        Option(("--force",), "force", "force", {"type": argtypes.flag01},
               "Whether to enforce data processing, bool type"),
    ]),
    ("setdeadline and bucketstat", [
        Option(("--relevance",), "relevance", None, {"action": "store_true"},
               "Whether modify deadline relevant .ts when modify deadline of m3u8 file"),
        Option(("--startdate",), "startdate", None, {"type": argtypes.date}, "Start date (YYYY-MM-DD)"),
        Option(("--enddate",), "enddate", None, {"type": argtypes.date}, "End date (YYYY-MM-DD)"),
        Option(("--islistdetails",), "islistdetails", None, {"choices": ("true", "false")},
               "Is list details (true/false)"),
        Option(("--storagetype",), "storagetype", None, {}, "storage type"),
    ]),
    ("Transfer tuning", [
        Option(("--upload-id",), "upload_id", "upload_id", {},
               "UploadId for Multipart Upload, in case you want continue an existing upload"),
        Option(("--block-size",), "block_size", "block_size", {"type": argtypes.size, "metavar": "SIZE"},
               "Multipart block size, a multiple of 4 MiB (e.g. 8M)"),
        Option(("--concurrency",), "concurrency", "concurrency", {"type": int, "metavar": "N"},
               "Parallel block uploads for multiput"),
        Option(("--traffic_limit",), "traffic_limit", "traffic_limit", {}, "Upload/Download traffic limit"),
    ]),
    ("Output", [
        Option(("-q", "--quiet"), "quiet", None, {"action": "store_true"},
               "No progress bars (errors and the multiput upload id are still shown)."),
        Option(("--debug",), "debug", None, {"action": "store_true"},
               "Enable debug output (logging and tracebacks on stderr)."),
    ]),
]

OPTIONS: List[Option] = [option for _title, options in OPTION_GROUPS for option in options]


class Command(NamedTuple):
    name: str
    label: str  # the official one-line description
    params: str  # the official parameter synopsis
    func: Callable[[argparse.Namespace, Context], int]
    positionals: Tuple[Tuple[str, Dict[str, Any]], ...]
    note: str = ""  # one more line under the synopsis in the main --help (ours, not official)


# setdeadline 0 is easy to mistake for "no deadline": it deletes the object.
DEADLINE_HELP = ("days to keep the object: N > 0 expires it N days from now; 0 DELETES it (it expires at "
                 "once); -1 keeps it forever (also written '\"-1\"')")

_OBJ = ("uri", {"metavar": "wcs://BUCKET/OBJECT"})
_RESFILE = ("resfile", {"metavar": "RESFILE", "help": "file the listing is written to ('-': stdout)"})
_BUCKET = ("bucket", {"metavar": "wcs://BUCKET"})
_SRC_DST = (("src", {"metavar": "wcs://srcBUCKET/srcOBJECT"}), ("dst", {"metavar": "wcs://dstBUCKET/desOBJECT"}))
_JOB_ID = (("persistent_id", {"metavar": "persistentId"}),)
COMMANDS: List[Command] = [
    Command("list", "List objects", "wcs://BUCKET RESFILE", listing.cmd_list, (_BUCKET, _RESFILE)),
    Command("listall", "List all files in the bucket.", "wcs://BUCKET RESFILE", listing.cmd_listall,
            (_BUCKET, _RESFILE)),
    Command("listbucket", "List buckets", "", listing.cmd_listbucket, ()),
    Command("cat", "Write an object to stdout (hash checked at the end)", "wcs://BUCKET/OBJECT", transfers.cmd_cat,
            (_OBJ,)),
    Command("get", "Download file", "URL [FILENAME]", trees.cmd_get,
            (("url", {"metavar": "URL"}), ("filename", {"metavar": "FILENAME", "nargs": "?"}))),
    Command("del", "Delete a file", "wcs://BUCKET/OBJECT", objects.cmd_del, (_OBJ,)),
    Command("mv", "Move a file from src bucket to des bucket",
            "wcs://srcBUCKET/srcOBJECT wcs://dstBUCKET/desOBJECT", objects.cmd_mv, _SRC_DST),
    Command("cp", "Copy a file from src bucket to des bucket",
            "wcs://srcBUCKET/srcOBJECT wcs://dstBUCKET/desOBJECT", objects.cmd_cp, _SRC_DST),
    Command("setdeadline", "Set deadline of file", "wcs://BUCKET/OBJECT deadline", objects.cmd_setdeadline,
            (_OBJ, ("days", {"metavar": "deadline", "help": DEADLINE_HELP})),
            "deadline in days: 0 deletes the object, -1 keeps it forever"),
    Command("stat", "Get file info", "wcs://BUCKET/OBJECT", objects.cmd_stat, (_OBJ,)),
    Command("put", "Upload a local file to WCS", "wcs://BUCKET/OBJECT LOCALFILE", trees.cmd_put,
            (_OBJ, ("localfile", {"metavar": "LOCALFILE"}))),
    Command("multiput", "Multipart upload a local file to WCS", "wcs://BUCKET/OBJECT LOCALFILE",
            transfers.cmd_multiput, (_OBJ, ("localfile", {"metavar": "LOCALFILE"}))),
    Command("deletePrefix", "Delete multiple files according to prefix", "wcs://BUCKET PREFIX",
            jobs.cmd_deletePrefix, (_BUCKET, ("prefix", {"metavar": "PREFIX"}))),
    Command("fops", "Fops audio/video processing", "wcs://BUCKET/OBJECT fopsparm", jobs.cmd_fops,
            (_OBJ, ("fops", {"metavar": "fopsparm"}))),
    Command("fopsStatus", "Get fops task results", "persistentId", jobs.cmd_fopsStatus, _JOB_ID),
    Command("fmgrStatus", "Get fmgrStatus task results", "persistentId", jobs.cmd_fmgrStatus, _JOB_ID),
    Command("crc64", "Calculating 64-bit CRC value", "filePath", transfers.cmd_crc64,
            (("file", {"metavar": "filePath"}),)),
    Command("sync", "Make a bucket prefix hold a local folder, or the other way round (-r: see put, get)",
            "LOCAL_DIR wcs://BUCKET[/PREFIX] | wcs://BUCKET[/PREFIX] LOCAL_DIR", trees.cmd_sync,
            (("src", {"metavar": "SOURCE", "help": "LOCAL_DIR or wcs://BUCKET[/PREFIX] to copy from"}),
             ("dst", {"metavar": "DEST", "help": "wcs://BUCKET[/PREFIX] or LOCAL_DIR to make like SOURCE"}))),
    Command("bucketstat", "Get bucket storage", '"bucket1|bucket2|..."', listing.cmd_bucketstat,
            (("buckets", {"metavar": '"bucket1|bucket2|..."'}),)),
    Command("records", "List or remove multipart resume records (of failed or abandoned multiputs)",
            "[list|clean] [UPLOAD_ID...] [--older-than DAYS]", records.cmd_records,
            (("action", {"choices": ("list", "clean"), "nargs": "?", "default": "list",
                         "help": "list (default) or clean: remove them"}),
             ("upload_ids", {"metavar": "UPLOAD_ID", "nargs": "*", "help": "only these uploads"}),
             ("--older-than", {"type": records.older_than, "metavar": "DAYS", "dest": "older_than",
                               "help": "only records not written for DAYS days (a running multiput "
                                       "writes its record after every block)"})),
            "records clean --older-than 7: remove what no multiput touched for a week"),
]


def _common_options() -> Parser:
    # SUPPRESS as the default: an option given before the command must not be reset by the
    # subcommand parser, which would otherwise write its own defaults over it.
    common = Parser(add_help=False, argument_default=argparse.SUPPRESS)
    for title, options in OPTION_GROUPS:
        group = common.add_argument_group(title)
        for option in options:
            group.add_argument(*option.flags, dest=option.dest, help=option.help, **option.kwargs)
    return common


def _commands_help() -> str:
    lines = ["Commands:"]
    for command in COMMANDS:
        lines.append("  %s" % command.label)
        lines.append("      %s %s %s" % (PROG, command.name, command.params))
        if command.note:
            lines.append("      (%s)" % command.note)
    return "\n".join(line.rstrip() for line in lines)


def build_parser(stdout: Optional[IO[str]] = None) -> argparse.ArgumentParser:
    """The whole command line: every official option, accepted before or after the arguments.

    Args:
        stdout: where ``--help`` and ``--version`` are printed (default: ``sys.stdout``).
    """
    common = _common_options()
    epilog = "\n\n".join([_commands_help(), OUTPUT_HELP, EXIT_STATUS_HELP,
                          "For more information, visit WCS website: https://wcs.chinanetcenter.com/index"])
    parser = Parser(prog=PROG, usage="%(prog)s [options] COMMAND [parameters]", description=DESCRIPTION,
                    epilog=epilog, parents=[common], formatter_class=argparse.RawDescriptionHelpFormatter,
                    stdout=stdout)
    parser.add_argument("--version", action=Version, version="%(prog)s " + __version__)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser, help=argparse.SUPPRESS,
                                prog=PROG)
    for command in COMMANDS:
        usage = "%s %s %s [options]" % (PROG, command.name, command.params)
        sp = sub.add_parser(command.name, parents=[common], usage=usage.replace("  ", " "),
                            description=command.label, epilog=EXIT_STATUS_HELP,
                            formatter_class=argparse.RawDescriptionHelpFormatter, stdout=stdout)
        for dest, kwargs in command.positionals:
            sp.add_argument(dest, **kwargs)
        add_tree_options(sp, command.name)
        sp.set_defaults(func=command.func)
    return parser


_DEBUG_VALUES = ("0", "1", "true", "false", "yes", "no", "on", "off")


def normalize_argv(argv: Sequence[str]) -> List[str]:
    """Accept the official ``--debug VALUE`` (optparse took a value) alongside the ``--debug`` flag."""
    out: List[str] = []
    i = 0
    while i < len(argv):
        word = argv[i]
        value = None
        if word == "--debug" and i + 1 < len(argv) and argv[i + 1].lower() in _DEBUG_VALUES:
            value = argv[i + 1].lower()
            i += 1
        elif word.startswith("--debug="):
            value = word.split("=", 1)[1].lower()
        if value is None:
            out.append(word)
        elif value in ("1", "true", "yes", "on"):
            out.append("--debug")
        elif value not in _DEBUG_VALUES:
            raise UsageError("argument --debug: expected 1/0 or true/false, got %r" % value, PROG)
        i += 1
    return out


def overrides_from(args: argparse.Namespace) -> List[Override]:
    """``(--option, config key, value)`` for each config option given on the command line."""
    found = []
    for option in OPTIONS:
        if option.key is not None and hasattr(args, option.dest):
            found.append((option.flags[-1], option.key, getattr(args, option.dest)))
    return found
