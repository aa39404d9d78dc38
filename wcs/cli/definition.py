"""The command line of ``wcscmd``: the command table, which options each command takes, the parser.

Every option is defined once, in :mod:`wcs.cli.options`, and attached to the main parser and to
every subcommand parser, so that an option of the official tool may come before or after the
command's arguments as it always could. What each command accepts is the table :data:`COMMANDS`:
a command (and its ``-r`` form) lists the option tags it takes; :func:`check_options` refuses any
other option, wherever it was written (exit 2, naming it), and ``wcscmd CMD --help`` shows only the
options CMD takes. Options with a Config key are applied over the ``.wcscfg`` values through the
Config's own validation (:func:`overrides_from`).

Adding a command: a :class:`~wcs.cli.command.Command` row with its function, arguments, group and tags; options
of its own go in its ``arguments`` (like ``records --older-than``), shared ones (``-r``,
``--no-clobber``, ``--dry-run``, ``--exclude``...) by tag.
"""

import argparse
import functools
import textwrap
from typing import IO, Any, Callable, List, Mapping, Optional, Sequence

from wcs import __version__
from wcs.cli import options as opt
from wcs.cli import vendor_arguments
from wcs.cli.argtypes import Parser, UsageError, Version, older_than
from wcs.cli.command import PROG, Command
from wcs.cli.commands import on_call
from wcs.cli.context import Context, Override
from wcs.cli.options import OPTION_GROUPS, OPTIONS, Option
from wcs.cli.outputs import OUTPUT_HELP
from wcs.cli.status import EXIT_STATUS_HELP

DESCRIPTION = ("Wcscmd is a tool for managing objects in WCS Object Storage. It allows for uploading, "
               "downloading and removing objects from buckets.")

GROUPS = (("objects", "Objects"), ("folders", "Folders"), ("listing", "Listing"), ("jobs", "Jobs"),
          ("config", "Configuration and local files"))

# setdeadline 0 is easy to mistake for "no deadline": it deletes the object.
DEADLINE_HELP = ("days to keep the object: N > 0 expires it N days from now; 0 DELETES it (it expires at "
                 "once); -1 keeps it forever (also written '\"-1\"')")

_OBJ = ("uri", {"metavar": "wcs://BUCKET/OBJECT"})
_RESFILE = ("resfile", {"metavar": "RESFILE", "help": "file the listing is written to ('-': stdout)"})
_BUCKET = ("bucket", {"metavar": "wcs://BUCKET"})
_SRC_DST = (("src", {"metavar": "SOURCE", "help": "wcs://BUCKET/KEY, a local file (a folder with -r), or - (stdin)"}),
            ("dst", {"metavar": "DEST", "help": "wcs://BUCKET/KEY (wcs://BUCKET/DIR/: the source's name under "
                                                "DIR/), a local file or folder, or - (stdout)"}))
_JOB_ID = (("persistent_id", {"metavar": "persistentId"}),)

# What transfers accept: uploads add the policy and the block size, downloads take neither.
_UPLOAD = (opt.POLICY, opt.BLOCKS, opt.CONCURRENCY, opt.TRAFFIC, opt.PROGRESS, opt.CLOBBER)
_DOWNLOAD = (opt.CONCURRENCY, opt.TRAFFIC, opt.PROGRESS, opt.CLOBBER)
# cp and mv go every way: what an upload or a download of one file takes, -r for folders.
_COPY = (opt.BLOCKS, opt.CONCURRENCY, opt.TRAFFIC, opt.PROGRESS, opt.CLOBBER, opt.MIME, opt.RECURSIVE)
_COPY_TREE = (opt.BLOCKS, opt.CONCURRENCY, opt.TRAFFIC, opt.PROGRESS, opt.CLOBBER, opt.RECURSIVE, opt.TREE,
              opt.TRANSFERS, opt.DRY_RUN)
# apply and batch: what their uploads, downloads and fetches take.
_PLANS = (opt.BLOCKS, opt.CONCURRENCY, opt.TRAFFIC, opt.PROGRESS, opt.TRANSFERS, opt.FETCH)
_COPY_NOTE = ("SOURCE then DEST: a local path, wcs://BUCKET/KEY or -; between two wcs:// on the service; "
              "replaces what DEST has (--no-clobber: never)")

def _completion(args: argparse.Namespace, ctx: Context) -> int:
    """``completion``: the script is made from this table, which passes itself."""
    return on_call("shell", "cmd_completion")(args, ctx, COMMANDS)


COMMANDS: List[Command] = [
    Command("ls", "List buckets, one directory, or every key (-r)", "[wcs://BUCKET[/PREFIX]]",
            on_call("browse", "cmd_ls"),
            (("target", {"metavar": "wcs://BUCKET[/PREFIX]", "nargs": "?",
                         "help": "no argument: the buckets; wcs://BUCKET/DIR/: that directory (DIR: its "
                                 "sub-directories), -r: every key under it"}),), "listing",
            (opt.RECURSIVE, opt.SIZES, opt.LS),
            brief="ls [wcs://BUCKET[/PREFIX]]  List buckets, a directory (date, size, key), -r every key"),
    Command("du", "Objects and bytes under a prefix", "wcs://BUCKET[/PREFIX]", on_call("browse", "cmd_du"),
            (("target", {"metavar": "wcs://BUCKET[/PREFIX]"}),), "listing", (opt.SIZES, opt.DEPTH),
            note="--depth N: per sub-prefix too"),
    Command("cp", "Copy a file from src bucket to des bucket", "SOURCE DEST", on_call("copymove", "cmd_cp"),
            _SRC_DST, "objects", _COPY, _COPY_TREE, note=_COPY_NOTE, rparams="SOURCE DEST",
            brief="cp SOURCE DEST  Copy: local <-> wcs://, or wcs:// -> wcs:// on the service"),
    Command("mv", "Move a file from src bucket to des bucket", "SOURCE DEST", on_call("copymove", "cmd_mv"),
            _SRC_DST, "objects", _COPY, _COPY_TREE, note=_COPY_NOTE, rparams="SOURCE DEST",
            brief="mv SOURCE DEST  Move, as cp; the source goes once its copy is verified"),
    Command("rm", "Delete objects: keys, globs, or every key under a prefix (-r)", "wcs://BUCKET/KEY...",
            on_call("remove", "cmd_rm"),
            (("targets", {"metavar": "wcs://BUCKET/KEY", "nargs": "+",
                          "help": "a key, a glob ('wcs://b/www/*.html': * and ? stop at /, ** crosses it), or "
                                  "with -r a prefix"}),), "objects",
            (opt.RECURSIVE, opt.DRY_RUN),
            brief="rm wcs://BUCKET/KEY...  Delete keys, globs ('wcs://b/d/*.html'), -r a prefix; --dry-run"),
    Command("sync", "Make a bucket prefix hold a local folder, the other way round, another prefix, or "
            "another store's objects", "SOURCE DEST", on_call("trees", "cmd_sync"),
            (("src", {"metavar": "SOURCE", "help": "LOCAL_DIR, wcs://BUCKET[/PREFIX], or another store's URL "
                                                   "(s3://BUCKET/PREFIX, https://HOST/DIR/ with --files-from...) "
                                                   "to copy from"}),
             ("dst", {"metavar": "DEST", "help": "wcs://BUCKET[/PREFIX] or LOCAL_DIR to make like SOURCE"})),
            "folders", _UPLOAD + (opt.TREE, opt.TRANSFERS, opt.SYNC, opt.DRY_RUN, opt.PLAN, opt.MIGRATE, opt.FETCH),
            brief="sync SOURCE DEST  Make DEST hold SOURCE (local folders, bucket prefixes, s3://...)"),
    Command("apply", "Carry out a plan written by sync --plan, each action after its facts are checked again",
            "PLAN", on_call("migrations", "cmd_apply"),
            (("plan_file", {"metavar": "PLAN", "help": "the plan file (JSON Lines)"}),),
            "folders", _PLANS,
            brief="apply PLAN  Carry out a sync --plan file; what changed since is skipped and said"),
    Command("batch", "Run a file of cp/mv/rm/fetch lines as one plan: one summary, one exit status", "FILE",
            on_call("migrations", "cmd_batch"),
            (("batch_file", {"metavar": "FILE", "help": "one command a line: cp SRC DST, mv SRC DST, "
                                                        "rm wcs://B/K, fetch URL wcs://B/K"}),),
            "folders", _PLANS,
            brief="batch FILE  Run cp/mv/rm/fetch lines (s5cmd run), one summary"),
    Command("list", "List objects", "wcs://BUCKET RESFILE", on_call("listing", "cmd_list"),
            (_BUCKET, _RESFILE), "listing", (opt.LISTING,)),
    Command("listall", "List all files in the bucket.", "wcs://BUCKET RESFILE", on_call("listing", "cmd_listall"),
            (_BUCKET, _RESFILE), "listing", (opt.LISTING,)),
    Command("listbucket", "List buckets", "", on_call("listing", "cmd_listbucket"), (), "listing"),
    Command("cat", "Write an object to stdout (hash checked at the end)", "wcs://BUCKET/OBJECT",
            on_call("downloads", "cmd_cat"),
            (_OBJ,), "objects", (opt.TRAFFIC, opt.PROGRESS)),
    Command("get", "Download file", "URL [FILENAME]", on_call("trees", "cmd_get"),
            (("url", {"metavar": "URL"}), ("filename", {"metavar": "FILENAME", "nargs": "?"})), "objects",
            _DOWNLOAD + (opt.RECURSIVE,), _DOWNLOAD + (opt.RECURSIVE, opt.TREE, opt.TRANSFERS, opt.DRY_RUN)),
    Command("del", "Delete a file", "wcs://BUCKET/OBJECT", on_call("objects", "cmd_del"), (_OBJ,), "objects"),
    Command("setdeadline", "Set deadline of file", "wcs://BUCKET/OBJECT deadline", on_call("vendor", "cmd_setdeadline"),
            (_OBJ, ("days", {"metavar": "deadline", "help": DEADLINE_HELP})), "objects",
            (opt.DEADLINE, opt.RECURSIVE), (opt.RECURSIVE, opt.JOBS, opt.WAIT),
            note="0 deletes the object, -1 keeps it forever",
            brief="setdeadline wcs://BUCKET/OBJECT deadline  Expire in N days (0 deletes the object, -1 keeps it "
                  "forever)", rparams="wcs://BUCKET/PREFIX/ deadline"),
    Command("stat", "Get file info", "wcs://BUCKET/OBJECT", on_call("objects", "cmd_stat"), (_OBJ,), "objects"),
    Command("put", "Upload a local file to WCS", "wcs://BUCKET/OBJECT LOCALFILE", on_call("trees", "cmd_put"),
            (_OBJ, ("localfile", {"metavar": "LOCALFILE"})), "objects",
            _UPLOAD + (opt.OVERWRITE, opt.MIME, opt.RECURSIVE),
            _UPLOAD + (opt.RECURSIVE, opt.TREE, opt.TRANSFERS, opt.DRY_RUN)),
    Command("multiput", "Multipart upload a local file to WCS", "wcs://BUCKET/OBJECT LOCALFILE",
            on_call("uploads", "cmd_multiput"), (_OBJ, ("localfile", {"metavar": "LOCALFILE"})), "objects",
            _UPLOAD + (opt.OVERWRITE, opt.MIME, opt.RESUME)),
    Command("deletePrefix", "Delete multiple files according to prefix", "wcs://BUCKET PREFIX",
            on_call("jobs", "cmd_deletePrefix"),
            (_BUCKET, ("prefix", {"metavar": "PREFIX"})), "jobs", (opt.JOBS, opt.WAIT),
            note="--wait: until done"),
    Command("fops", "Fops audio/video processing", "wcs://BUCKET/OBJECT fopsparm", on_call("jobs", "cmd_fops"),
            (_OBJ, ("fops", {"metavar": "fopsparm"})), "jobs", (opt.JOBS,)),
    Command("fopsStatus", "Get fops task results", "persistentId", on_call("jobs", "cmd_fopsStatus"), _JOB_ID, "jobs"),
    Command("fmgrStatus", "Get fmgrStatus task results", "persistentId", on_call("jobs", "cmd_fmgrStatus"),
            _JOB_ID, "jobs"),
    Command("crc64", "Calculating 64-bit CRC value", "filePath", on_call("uploads", "cmd_crc64"),
            (("file", {"metavar": "filePath"}),), "config"),
    Command("bucketstat", "Get bucket storage", '"bucket1|bucket2|..."', on_call("bucketstat", "cmd_bucketstat"),
            (("buckets", {"metavar": '"bucket1|bucket2|..."'}),), "listing", (opt.BUCKETSTAT,),
            note="a table on a terminal; --statistics TYPE"),
    Command("records", "List or remove multipart resume records (of failed or abandoned multiputs)",
            "[list|clean] [UPLOAD_ID...] [--older-than DAYS]", on_call("records", "cmd_records"),
            (("action", {"choices": ("list", "clean"), "nargs": "?", "default": "list",
                         "help": "list (default) or clean: remove them"}),
             ("upload_ids", {"metavar": "UPLOAD_ID", "nargs": "*", "help": "only these uploads"}),
             ("--older-than", {"type": older_than, "metavar": "DAYS", "dest": "older_than",
                               "help": "only records not written for DAYS days (a running multiput "
                                       "writes its record after every block)"})), "config",
            note="records clean --older-than 7: remove what no multiput touched for a week",
            brief="records [list|clean] [UPLOAD_ID...]  Multipart resume records (clean --older-than 7)"),
    Command("completion", "Print a shell completion script: eval \"$(wcscmd completion bash)\"", "bash|zsh",
            _completion, (("shell", {"choices": ("bash", "zsh"), "metavar": "bash|zsh"}),), "config",
            brief="completion bash|zsh  Shell completion script: eval \"$(wcscmd completion bash)\""),
    # -- what the vendor's Go, Java, PHP and C# SDKs do (wcs/cli/commands/vendor.py) --------------------
    Command("append", "Append a local file or stdin to an object made by append", "wcs://BUCKET/OBJECT FILE|-",
            on_call("vendor", "cmd_append"),
            (_OBJ,) + vendor_arguments.APPEND_ARGUMENTS, "objects", (opt.MIME, opt.TRAFFIC, opt.PROGRESS)),
    Command("prefetch", "Fetch objects from the bucket's mirror origin (one line per key that failed)",
            "wcs://BUCKET/OBJECT...", on_call("vendor", "cmd_prefetch"),
            (("uris", {"metavar": "wcs://BUCKET/OBJECT", "nargs": "+"}),), "objects",
            brief="prefetch wcs://BUCKET/OBJECT...  Fetch objects from the bucket's mirror origin"),
    Command("info", "Media information of an object (from the download domain)",
            "--av|--av2|--image|--exif wcs://BUCKET/OBJECT", on_call("vendor", "cmd_info"),
            (_OBJ,) + vendor_arguments.INFO_ARGUMENTS,
            "objects", brief="info --av|--av2|--image|--exif wcs://BUCKET/OBJECT  Media information (JSON)"),
    Command("convert-type", "Change the storage class of an object (-r: of every object under a prefix)",
            "wcs://BUCKET/OBJECT CLASS", on_call("vendor", "cmd_convert_type"),
            (_OBJ, ("storage_class", {"metavar": "CLASS", "choices": ("Standard", "IA", "InfrequentAccess",
                                                                       "Archive"),
                                      "help": "Standard, IA (InfrequentAccess) or Archive"})),
            "objects", (opt.RECURSIVE,), (opt.RECURSIVE, opt.CONCURRENCY),
            brief="convert-type [-r] wcs://BUCKET/OBJECT CLASS  Storage class: Standard, IA, Archive",
            rparams="wcs://BUCKET[/PREFIX] CLASS"),
    Command("restore", "Restore an Archive object for DAYS days (-r: every Archive object under a prefix)",
            "wcs://BUCKET/OBJECT DAYS", on_call("vendor", "cmd_restore"),
            (_OBJ, ("days", {"metavar": "DAYS", "help": "days it stays readable once restored (1 or more)"})),
            "objects", (opt.RECURSIVE,), (opt.RECURSIVE, opt.CONCURRENCY),
            brief="restore [-r] wcs://BUCKET/OBJECT DAYS  Make an Archive object readable for DAYS days",
            rparams="wcs://BUCKET[/PREFIX] DAYS"),
    Command("zip", "ZIP objects and folders (dir/) of a bucket into a new object (an fmgr job)",
            "wcs://BUCKET/OUT.zip wcs://BUCKET/OBJECT|wcs://BUCKET/DIR/...", on_call("vendor", "cmd_zip"),
            vendor_arguments.ZIP_ARGUMENTS,
            "jobs", (opt.JOBS, opt.WAIT),
            brief="zip wcs://BUCKET/OUT.zip wcs://BUCKET/OBJECT...  ZIP objects and folders (fmgr compress)"),
    Command("deletem3u8", "Delete an m3u8 playlist and the ts segments it names (an fmgr job)",
            "wcs://BUCKET/OBJECT.m3u8", on_call("vendor", "cmd_deletem3u8"),
            (_OBJ, ("--keep-ts", {"action": "store_true", "dest": "keep_ts",
                                  "help": "delete the playlist only, not its segments"})),
            "jobs", (opt.JOBS, opt.WAIT)),
]

# Lines of the main --help beside the commands: the folder forms of put and get.
_FOLDER_FORMS = (("cp -r SOURCE DEST", "Copy a folder's contents or a prefix, any way", "cp"),
                 ("mv -r SOURCE DEST", "Move them (each source removed once its copy is verified)", "mv"),
                 ("put -r wcs://BUCKET[/PREFIX] LOCAL_DIR", "Upload every file of a folder", "put"),
                 ("get -r wcs://BUCKET[/PREFIX] LOCAL_DIR", "Download every object under a prefix", "get"))


def command_named(name: str) -> Command:
    return next(command for command in COMMANDS if command.name == name)


def _commands_help(width: int = 100) -> str:
    lines = ["Commands (wcscmd COMMAND --help: its parameters and the options it takes):"]
    for group, title in GROUPS:
        lines.append(" %s:" % title.lower())
        rows = [c.brief.split("  ", 1) if c.brief else
                ("%s %s" % (c.name, c.params), c.label + (" (%s)" % c.note if c.note else ""))
                for c in COMMANDS if c.group == group]
        if group == "folders":
            rows.extend((form, label) for form, label, _name in _FOLDER_FORMS)
        for synopsis, label in rows:
            lines.append("%s  %s" % (("  %s %s" % (PROG, synopsis.strip())).ljust(50), label.strip()))
    lines.append("")
    lines.extend(textwrap.wrap(OVERWRITE_RULE, width))
    return "\n".join(lines)


OVERWRITE_RULE = ("Overwriting: cp, mv, sync and the -r forms replace what the destination holds under the same "
                  "name, as aws and rclone (cp and mv of one object, and copies between two wcs:// prefixes, say "
                  "what they replaced); --no-clobber never replaces; put and multiput keep the official "
                  "overwrite setting (--overwrite 1 to replace).")


def _global_help(width: int = 100) -> str:
    """The global options in a few lines: a command's --help lists them, ``wcscmd --help`` explains them."""
    words = []
    for option in opt.GLOBAL_OPTIONS:
        flags = "/".join(option.flags)
        metavar = option.kwargs.get("metavar")
        words.append("%s %s" % (flags, metavar) if metavar and option.takes_value else flags)
    return textwrap.fill("Options of any command (see wcscmd --help): " + ", ".join(words), width,
                         subsequent_indent="  ", break_on_hyphens=False, break_long_words=False)


# Commands whose -r acts on every object under a prefix, one call each or one fmgr job (no folder involved).
_PREFIX_FORMS = ("restore", "convert-type", "setdeadline")


def _attach_options(parser: argparse.ArgumentParser, accepted: Optional[Sequence[str]], command: str = "") -> None:
    """Every option on ``parser``; those outside ``accepted`` (None: all, with help) parse but are not
    shown, so that :func:`check_options` can name them (argparse would only say "unrecognized"). A
    command's help leaves the global options to one paragraph (:func:`_global_help`)."""
    for title, options in OPTION_GROUPS:
        shown = [o for o in options if accepted is None or (o.tag != opt.GLOBAL and o.tag in accepted)]
        if command and title.startswith("Folders") and shown:
            title = "Folders (%s)" % ("sync" if command == "sync" else "%s -r" % command)
            if command in _PREFIX_FORMS:
                title = "Every object under a prefix (%s -r)" % command
        elif command and "(" in title and not title.endswith("(any command)"):
            title = title.split(" (", 1)[0]
        group = parser.add_argument_group(title)
        for option in options:
            kwargs = dict(option.kwargs, dest=option.dest, default=argparse.SUPPRESS)
            kwargs["help"] = option.help if option in shown else argparse.SUPPRESS
            group.add_argument(*option.flags, **kwargs)


class _ParsersOnDemand(dict):  # type: ignore[type-arg]
    """argparse's map of sub-command names to parsers, each parser built at its first lookup."""

    def __init__(self, builders: Mapping[str, Callable[[], argparse.ArgumentParser]]) -> None:
        super().__init__((name, None) for name in builders)
        self._builders = builders

    def __getitem__(self, name: str) -> argparse.ArgumentParser:
        parser = dict.__getitem__(self, name)
        if parser is None:
            parser = self._builders[name]()
            dict.__setitem__(self, name, parser)
        return parser

    def get(self, name: str, default: Any = None) -> Any:
        return self[name] if name in self else default


def build_parser(stdout: Optional[IO[str]] = None) -> argparse.ArgumentParser:
    """The whole command line: every option, accepted before or after the arguments.

    Args:
        stdout: where ``--help`` and ``--version`` are printed (default: ``sys.stdout``).
    """
    epilog = "\n\n".join([OUTPUT_HELP, EXIT_STATUS_HELP,
                          "For more information, visit WCS website: https://wcs.chinanetcenter.com/index"])
    parser = Parser(prog=PROG, usage="%(prog)s [options] COMMAND [parameters]",
                    description=DESCRIPTION + "\n\n" + _commands_help(), epilog=epilog,
                    formatter_class=argparse.RawDescriptionHelpFormatter, stdout=stdout)
    _attach_options(parser, None)
    parser.add_argument("--version", action=Version, version="%(prog)s " + __version__)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser, help=argparse.SUPPRESS,
                                prog=PROG)

    def command_parser(command: Command) -> argparse.ArgumentParser:
        usage = ("%s %s %s [options]" % (PROG, command.name, command.params)).replace("  ", " ")
        if command.recursive is not None:
            usage += "\n       %s %s -r %s [options]" % (PROG, command.name, command.rparams)
        description = command.label + (" (%s)" % command.note if command.note else "")
        sp = Parser(prog="%s %s" % (PROG, command.name), usage=usage, description=description,
                    epilog=_global_help() + "\n\n" + EXIT_STATUS_HELP,
                    formatter_class=argparse.RawDescriptionHelpFormatter, stdout=stdout)
        for dest, kwargs in command.arguments:
            sp.add_argument(dest, **kwargs)
        accepted = set(command.tags) | set(command.recursive or ())
        _attach_options(sp, sorted(accepted), command.name)
        sp.set_defaults(func=command.func)
        return sp

    # Each command's parser (every option, ~80 add_argument calls) is built when the command line names
    # it: building all 34 took ~60 ms of every run's start-up.
    builders = {command.name: functools.partial(command_parser, command) for command in COMMANDS}
    sub._name_parser_map = sub.choices = _ParsersOnDemand(builders)
    return parser


def check_options(args: argparse.Namespace) -> None:
    """Refuse an option the command cannot use (wherever it was written); then fill in defaults.

    Raises:
        UsageError: naming the option and what it is for.
    """
    name = getattr(args, "command", None)
    if name is None:  # --configure, --dump-config: every option shapes the configuration they show
        return
    command = command_named(name)
    recursive = bool(getattr(args, "recursive", False))
    tags = command.tags_for(recursive)
    form = command.name + (" -r" if recursive and command.recursive is not None else "")
    seen = set(_argument_dests(command))  # deletePrefix's PREFIX is no --prefix
    for option in OPTIONS:
        if option.tag == opt.GLOBAL or option.tag in tags or option.dest in seen or not hasattr(args, option.dest):
            continue
        seen.add(option.dest)
        shown = "/".join(o.name for o in OPTIONS if o.dest == option.dest)
        if command.recursive is not None and not recursive and option.tag in command.recursive:
            whole = "every object under a prefix" if command.name in _PREFIX_FORMS else "a whole folder"
            raise UsageError("%s needs -r (%s)" % (shown, whole), "%s %s" % (PROG, name))
        users = [f for c in COMMANDS for f, t in c.forms if option.tag in t]
        raise UsageError("%s does not apply to %s (it is for: %s)" % (shown, form, ", ".join(users) or "none"),
                         "%s %s" % (PROG, name))
    for option in OPTIONS:
        if option.default is not None and not hasattr(args, option.dest):
            setattr(args, option.dest, option.default)


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


def _argument_dests(command: Command) -> List[str]:
    return [kwargs.get("dest", name) for name, kwargs in command.arguments if not name.startswith("-")]


def overrides_from(args: argparse.Namespace) -> List[Override]:
    """``(--option, config key, value)`` for each config option given on the command line."""
    name = getattr(args, "command", None)
    arguments = _argument_dests(command_named(name)) if name else []
    found = []
    for option in OPTIONS:
        if option.key is not None and hasattr(args, option.dest) and option.dest not in arguments:
            found.append((option.flags[-1], option.key, getattr(args, option.dest)))
    return found


__all__ = ["COMMANDS", "Command", "GROUPS", "OPTIONS", "Option", "PROG", "build_parser", "check_options",
           "command_named", "normalize_argv", "overrides_from"]
