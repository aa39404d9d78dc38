"""Every option of ``wcscmd``, once: its flags, value type, ``.wcscfg`` key, help, and what it is for.

Each :class:`Option` carries a ``tag`` naming what it acts on (``policy``: the upload policy,
``listing``, ``tree``: folder transfers...); the command table (:mod:`wcs.cli.definition`) says
which tags each command form accepts, and an option whose tag a command does not accept is refused
(exit 2) wherever it was written. Options tagged :data:`GLOBAL` (which config file and profile,
where the service is, how much to print) are accepted by every command, as the official tool
accepts all its options anywhere. Options with a Config key are applied over the ``.wcscfg`` values
through the Config's own validation, so ``--limit 0`` fails exactly like ``limit = 0`` in the file.

Shared definitions for commands still to come live here too: :data:`NO_CLOBBER`, ``-r``, ``-v``,
``--json``, ``--quiet``; a new command accepts them by listing their tags. Pure data: ``--help``
imports it.
"""

import argparse
from typing import Any, Callable, Dict, List, NamedTuple, Optional, Tuple

from wcs.cli import argtypes


class Option(NamedTuple):
    flags: Tuple[str, ...]
    dest: str
    key: Optional[str]  # the Config key it overrides, or None for options only the CLI uses
    kwargs: Dict[str, Any]
    help: str
    tag: str  # what it acts on: a command accepts it when the command's form accepts the tag
    default: Any = None  # the value when not given (set after the command line is checked)

    @property
    def name(self) -> str:
        """How messages name it: its long form (``--dry-run``)."""
        return next((flag for flag in self.flags if flag.startswith("--")), self.flags[0])

    @property
    def takes_value(self) -> bool:
        return self.kwargs.get("action") not in ("store_true", "store_const", "count")


# Tags. GLOBAL options are accepted by every command; the others by the command forms that list them.
GLOBAL = "global"
POLICY = "policy"  # upload policy fields (official)
OVERWRITE = "overwrite"  # --overwrite: put and multiput only (folder uploads always replace)
LISTING = "listing"
JOBS = "jobs"
DEADLINE = "setdeadline"
BUCKETSTAT = "bucketstat"
RESUME = "resume"  # --upload-id
BLOCKS = "blocks"  # --block-size
CONCURRENCY = "concurrency"
TRAFFIC = "traffic"  # --traffic_limit (a header for the service) and --bwlimit (ours, client side)
PROGRESS = "progress"  # --stats
MIME = "mime"  # --mime-type / --content-type, --no-guess-mime-type
CLOBBER = "clobber"  # --no-clobber
RECURSIVE = "recursive"  # -r: the flag that chooses a folder form (put -r, get -r)
TREE = "tree"  # options of folder transfers
SYNC = "sync"  # options of sync only
WAIT = "wait"  # --wait, --wait-timeout: follow an fmgr job to its end (zip, deletem3u8, setdeadline -r)


def _rule(sign: str) -> Callable[[str], Tuple[str, str]]:
    def parse(text: str) -> Tuple[str, str]:
        if not text:
            raise argparse.ArgumentTypeError("empty pattern")
        return sign, text

    return parse


def non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("expected an integer, got %r" % text) from None
    if value < 0:
        raise argparse.ArgumentTypeError("expected 0 or more, got %d" % value)
    return value


def seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("expected a number of seconds, got %r" % text) from None
    if not value >= 0:
        raise argparse.ArgumentTypeError("expected 0 or more seconds, got %r" % text)
    return value


_TRUE = {"action": "store_true"}

# The shared definition of --no-clobber: every command that writes where something may exist takes it.
NO_CLOBBER = Option(("--no-clobber",), "no_clobber", None, _TRUE,
                    "Never replace what exists at the destination: skip it and say so (put/multiput ask "
                    "stat first; folders: existing files are skipped, as --skip-existing)", CLOBBER)

# The official options (same spelling), grouped by what they are for, plus ours.
OPTION_GROUPS: List[Tuple[str, List[Option]]] = [
    ("Configuration (any command)", [
        Option(("--configure",), "configure", None, _TRUE,
               "Invoke interactive (re)configuration tool (with --profile: write that section).", GLOBAL),
        Option(("-c", "--config"), "config", None, {"metavar": "FILE"},
               "Config file name. Defaults to $WCS_CONFIG_FILE, else $HOME/.wcscfg", GLOBAL),
        Option(("--profile",), "profile", None, {"metavar": "NAME"},
               "Read the [NAME] section of the config file instead of [default] (default: $WCS_PROFILE)",
               GLOBAL),
        Option(("--dump-config",), "dump_config", None, _TRUE,
               "Dump current configuration after parsing config file, environment and command line "
               "options and exit (each value says where it came from).", GLOBAL),
        Option(("-s", "--ssl"), "ishttps", "ishttps", {"action": "store_const", "const": True},
               "Use https connection when communicating with WCS (also for hosts written as http://...)",
               GLOBAL),
        Option(("--put-url",), "put_url", "put_url", {"metavar": "URL"}, "Upload domain (overrides put_url)",
               GLOBAL),
        Option(("--mgr-url",), "mgr_url", "mgr_url", {"metavar": "URL"}, "Manager domain (overrides mgr_url)",
               GLOBAL),
        Option(("--download-url",), "download_url", "download_url", {"metavar": "URL"},
               "Download origin of buckets, with {bucket} (overrides download_url)", GLOBAL),
        Option(("--encryption-type",), "encryption_type", "encryption_type",
               {"metavar": "SHA-1|SM3"},
               "Signing algorithm of the tokens: SHA-1 (HMAC-SHA1, the default) or SM3 (HMAC-SM3, "
               "announced by an encryption-type header) (overrides encryption_type)", GLOBAL),
    ]),
    ("Output (any command)", [
        Option(("-q", "--quiet"), "quiet", None, _TRUE,
               "No progress and no per-file lines (errors, warnings and the notes of a multiput - its upload id, "
               "what a resume found - are still shown).",
               GLOBAL),
        Option(("-v", "--verbose"), "verbose", None, _TRUE,
               "Say what is done on stderr: each call with its answer and time; each file of a folder and "
               "why (--quiet wins)", GLOBAL),
        Option(("--json",), "json", None, _TRUE,
               "Print stdout documents as JSON Lines: each on one line (not indented)", GLOBAL),
        Option(("--debug",), "debug", None, _TRUE, "Enable debug output (logging and tracebacks on stderr).",
               GLOBAL),
    ]),
    ("Upload policy (put, multiput; folder uploads except --overwrite)", [
        Option(("--overwrite",), "overwrite", "overwrite", {"type": argtypes.flag01},
               "Whether overwrite existed key, bool type", OVERWRITE),
        Option(("--deadline",), "deadline", "deadline", {"type": argtypes.positive_int, "metavar": "SECONDS"},
               "Token expiration time, Unit is second", POLICY),
        Option(("--returnurl",), "returnurl", "returnUrl", {}, "Url for return", POLICY),
        Option(("--returnbody",), "returnbody", "returnBody", {}, "Body of return", POLICY),
        Option(("--callbackurl",), "callbackurl", "callbackUrl", {}, "Url for callback", POLICY),
        Option(("--callbackbody",), "callbackbody", "callbackBody", {}, "Body of callback", POLICY),
        Option(("--persistentntyurl",), "persistentntyurl", "persistentNotifyUrl", {},
               "Url for persistent ops notify", POLICY),
        Option(("--persistentops",), "persistentops", "persistentOps", {}, "Persistent ops", POLICY),
        Option(("--contentdetect",), "contentdetect", "contentDetect", {}, "Content detect type", POLICY),
        Option(("--detectntyurl",), "detectntyurl", "detectNotifyURL", {}, "Url for detect notify", POLICY),
        Option(("--detectntyrule",), "detectntyrule", "detectNotifyRule", {}, "Rule for detect notify", POLICY),
        Option(("--hashalgorithm",), "hashalgorithm", "hashAlgorithm", {},
               "Hash algorithm, currently supports 'crc64ecma' for calculating 64-bit CRC value.", POLICY),
    ]),
    ("Content (put, multiput)", [
        Option(("--mime-type", "--content-type"), "mime_type", None, {"metavar": "TYPE"},
               "Content type to store (default: guessed from the file name's extension)", MIME),
        Option(("--no-guess-mime-type",), "no_guess_mime_type", None, _TRUE,
               "Send no content type unless --mime-type gives one: the service decides, as the official "
               "tool", MIME),
    ]),
    ("Listing (list, listall)", [
        Option(("--limit",), "limit", "limit", {}, "Limit for list objects of bucket (1-1000)", LISTING),
        Option(("--prefix",), "prefix", "prefix", {}, "Prefix for list objects of bucket", LISTING),
        Option(("--mode",), "mode", "mode", {}, "Mode for list objects of bucket (0, 1; 3 = flat)", LISTING),
        Option(("--marker",), "marker", "marker", {}, "Start string for list", LISTING),
    ]),
    ("Jobs (deletePrefix, fops; zip, deletem3u8, setdeadline -r)", [
        Option(("--output",), "output", "output", {},
               "Save request result to specified key, like:<bucket>:<key>", JOBS),
        Option(("--notify",), "notifyurl", "notifyurl", {"metavar": "NOTIFYURL"},
               "Notify url for request result", JOBS),
        Option(("--separate",), "separate", "separate", {"type": argtypes.flag01},
               "Whether separate notify, bool type", JOBS),
        Option(("--force",), "force", "force", {"type": argtypes.flag01},
               "Whether to enforce data processing, bool type", JOBS),
        Option(("--wait",), "wait", None, _TRUE,
               "Follow the job to its end and exit by its result (9: an operation failed, or still running "
               "after --wait-timeout)", WAIT),
        Option(("--wait-timeout",), "wait_timeout", None, {"type": seconds, "metavar": "SECONDS"},
               "How long --wait follows the job (default 600)", WAIT, 600.0),
    ]),
    ("setdeadline and bucketstat", [
        Option(("--relevance",), "relevance", None, _TRUE,
               "Whether modify deadline relevant .ts when modify deadline of m3u8 file", DEADLINE),
        Option(("--startdate",), "startdate", None, {"type": argtypes.date}, "Start date (YYYY-MM-DD)",
               BUCKETSTAT),
        Option(("--enddate",), "enddate", None, {"type": argtypes.date}, "End date (YYYY-MM-DD)", BUCKETSTAT),
        Option(("--islistdetails",), "islistdetails", None, {"choices": ("true", "false")},
               "Is list details (true/false)", BUCKETSTAT),
        Option(("--storagetype",), "storagetype", None, {}, "storage type", BUCKETSTAT),
        Option(("--statistics",), "statistics", None, {"metavar": "TYPE"},
               "bucketstat: read /bucket/statistics of TYPE (uploadRequest, uploadTraffic...) instead of the "
               "storage used", BUCKETSTAT),
    ]),
    ("Transfers", [
        NO_CLOBBER,
        Option(("--upload-id",), "upload_id", "upload_id", {},
               "UploadId for Multipart Upload, in case you want continue an existing upload", RESUME),
        Option(("--block-size",), "block_size", "block_size", {"type": argtypes.size, "metavar": "SIZE"},
               "Multipart block size, a multiple of 4 MiB (e.g. 8M)", BLOCKS),
        Option(("--concurrency",), "concurrency", "concurrency", {"type": int, "metavar": "N"},
               "Parallel blocks (uploads) or ranges (downloads)", CONCURRENCY),
        Option(("--traffic_limit",), "traffic_limit", "traffic_limit", {},
               "Upload/Download traffic limit (a header: the service throttles)", TRAFFIC),
        Option(("--bwlimit",), "bwlimit", "bwlimit", {"type": argtypes.rate, "metavar": "RATE"},
               "Client-side limit in bytes per second for all connections together, e.g. 10M, 512k, "
               "1.5MiB (binary units; 0: none)", TRAFFIC),
        Option(("--stats",), "stats", None, {"type": seconds, "metavar": "SECONDS"},
               "When stderr is no terminal, a status line every SECONDS (0: none; default 10)", PROGRESS,
               10.0),
    ]),
    ("Folders (sync; put -r, get -r)", [
        Option(("-r", "--recursive"), "recursive", None, _TRUE,
               "Whole folder: put -r wcs://BUCKET[/PREFIX] LOCAL_DIR, get -r wcs://BUCKET[/PREFIX] LOCAL_DIR; "
               "every object under a prefix: restore -r, convert-type -r, setdeadline -r", RECURSIVE),
        Option(("--skip-existing",), "skip_existing", None, _TRUE,
               "Skip files the destination already has (as --no-clobber)", TREE),
        Option(("--delete",), "delete", None, _TRUE,
               "sync: delete destination files the source lacks (only after a run without any error)", SYNC),
        Option(("--max-delete",), "max_delete", None, {"type": non_negative_int, "metavar": "N"},
               "sync --delete: delete nothing if more than N files would be deleted", SYNC),
        Option(("--size-only",), "size_only", None, _TRUE,
               "sync: compare sizes only, not etags (cheaper, misses same-size edits)", SYNC),
        Option(("--exclude",), "filters", None, {"action": "append", "type": _rule("-"), "metavar": "PATTERN"},
               "Leave out paths matching the glob (** crosses /); rules apply in order, first match wins", TREE),
        Option(("--include",), "filters", None, {"action": "append", "type": _rule("+"), "metavar": "PATTERN"},
               "Take part when matching; once given, paths no rule matches are left out", TREE),
        Option(("--filter-from",), "filters", None,
               {"action": "append", "type": _rule("file"), "metavar": "FILE"},
               "Read '+ PATTERN' / '- PATTERN' rules from FILE, in place", TREE),
        Option(("-n", "--dry-run"), "dry_run", None, _TRUE, "Print the plan; change nothing", TREE),
        Option(("--transfers",), "transfers", None, {"type": argtypes.positive_int, "metavar": "N"},
               "Files transferred at once (default 8)", TREE, 8),
        Option(("--fail-fast",), "fail_fast", None, _TRUE, "Start no transfer after the first failure", TREE),
        Option(("--follow-symlinks",), "follow_symlinks", None, _TRUE,
               "Follow symlinks (default: skip them with a note)", TREE),
        Option(("--hash-cache",), "hash_cache", None, {"metavar": "FILE"},
               "Local etag cache (default ~/.cache/wcs/etags.sqlite)", TREE),
        Option(("--no-hash-cache",), "no_hash_cache", None, _TRUE, "Keep no etag cache between runs", TREE),
    ]),
]

OPTIONS: List[Option] = [option for _title, options in OPTION_GROUPS for option in options]
GLOBAL_OPTIONS: List[Option] = [option for option in OPTIONS if option.tag == GLOBAL]


def option_named(dest: str) -> Option:
    """The first option writing ``dest`` (``filters`` has three)."""
    return next(option for option in OPTIONS if option.dest == dest)
