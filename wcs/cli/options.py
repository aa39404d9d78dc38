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
from wcs.commons.settings import DEFAULT_TRANSFERS


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
RECURSIVE = "recursive"  # -r: a folder or a whole prefix (cp -r, mv -r, put -r, get -r; ls -r, rm -r)
TREE = "tree"  # options of folder transfers
SYNC = "sync"  # options of sync only
DRY_RUN = "dry-run"  # -n/--dry-run: folder transfers and rm
LS = "ls"  # --summarize, -l
SIZES = "sizes"  # -H: sizes for people (ls, du)
DEPTH = "depth"  # du --depth
WAIT = "wait"  # --wait, --wait-timeout: follow an fmgr job to its end (deletePrefix, zip, deletem3u8, setdeadline -r)
TRANSFERS = "transfers"  # --transfers: folder transfers, apply and batch
PLAN = "plan"  # sync --plan
MIGRATE = "migrate"  # sync from another store: its journal, server-side fetches, MD5 checks
FETCH = "fetch"  # fmgr fetch batches and the other store's filesystem: sync from a store, apply, batch


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
    ("Listing (ls, du)", [
        Option(("-H", "--human-readable"), "human", None, _TRUE, "Sizes as KiB, MiB, GiB (binary units)", SIZES),
        Option(("--summarize",), "summarize", None, _TRUE, "ls: end with the number of objects and their size",
               LS),
        Option(("-l", "--long"), "long", None, _TRUE,
               "ls: a storage class column before the key (Archive objects: whether and until when restored)",
               LS),
        Option(("--depth",), "depth", None, {"type": non_negative_int, "metavar": "N"},
               "du: also one line per sub-prefix down to N levels (default 0: the total only)", DEPTH, 0),
    ]),
    ("Jobs: waiting (deletePrefix; zip, deletem3u8, setdeadline -r)", [
        Option(("--wait",), "wait", None, _TRUE,
               "Follow the job to its end, print its final status and exit by it (9: an operation failed, or "
               "still running after --wait-timeout)", WAIT),
        Option(("--wait-timeout",), "wait_timeout", None, {"type": seconds, "metavar": "SECONDS"},
               "How long --wait follows the job (default 600)", WAIT, 600.0),
    ]),
    ("Folders (sync; cp -r, mv -r, put -r, get -r; rm)", [
        Option(("-r", "--recursive"), "recursive", None, _TRUE,
               "A whole folder or prefix: cp -r SOURCE DEST (the folder's contents go under DEST), mv -r, "
               "put -r, get -r; ls -r lists every key, rm -r deletes every key under a prefix; restore -r, "
               "convert-type -r, setdeadline -r act on every object under a prefix", RECURSIVE),
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
        Option(("-n", "--dry-run"), "dry_run", None, _TRUE, "Print the plan; change nothing", DRY_RUN),
        Option(("--transfers",), "transfers", None, {"type": argtypes.positive_int, "metavar": "N"},
               "Files transferred at once (default %d)" % DEFAULT_TRANSFERS, TRANSFERS, DEFAULT_TRANSFERS),
        Option(("--files-from",), "files_from", None, {"metavar": "LIST"},
               "Only the paths listed in LIST, one a line, relative to the source (an HTTP origin's keys; "
               "a tab and the size, another and the MD5, may follow)", TREE),
        Option(("--fail-fast",), "fail_fast", None, _TRUE, "Start no transfer after the first failure", TREE),
        Option(("--follow-symlinks",), "follow_symlinks", None, _TRUE,
               "Follow symlinks (default: skip them with a note)", TREE),
        Option(("--hash-cache",), "hash_cache", None, {"metavar": "FILE"},
               "Local etag cache (default ~/.cache/wcs/etags.sqlite)", TREE),
        Option(("--no-hash-cache",), "no_hash_cache", None, _TRUE, "Keep no etag cache between runs", TREE),
        Option(("--plan",), "plan", None, {"metavar": "FILE"},
               "sync: write every action it would take, with its reason and the facts it relied on, to FILE "
               "(JSON Lines) and change nothing; wcscmd apply FILE carries it out", PLAN),
    ]),
    ("Other stores (sync s3://..., https://... wcs://...; apply, batch)", [
        Option(("--journal",), "journal", None, {"metavar": "FILE"},
               "What each source object became, for incremental and resumed runs (default "
               "~/.cache/wcs/migrations.sqlite)", MIGRATE),
        Option(("--no-journal",), "no_journal", None, _TRUE,
               "Keep no journal: a re-run copies again what WCS cannot prove unchanged", MIGRATE),
        Option(("--no-server-side",), "no_server_side", None, _TRUE,
               "Copy every object through this machine instead of letting the service fetch it", MIGRATE),
        Option(("--no-md5",), "no_md5", None, _TRUE,
               "Do not give the service the source's MD5 to check (S3 buckets with SSE-KMS or SSE-C, whose "
               "ETags are no MD5s)", MIGRATE),
        Option(("--fetch-batch",), "fetch_batch", None, {"type": argtypes.positive_int, "metavar": "N"},
               "Fetch operations per fmgr job (default 50, at most 1000)", FETCH),
        Option(("--jobs",), "jobs", None, {"type": argtypes.positive_int, "metavar": "N"},
               "Fetch jobs followed at once (default 4)", FETCH),
        Option(("--storage-option",), "storage_options", None, {"action": "append", "metavar": "KEY=VALUE"},
               "An option of the other store's filesystem (fsspec), e.g. endpoint_url=https://..., "
               "profile=NAME; VALUE is JSON when it parses as JSON; a.b=v nests", FETCH),
    ]),
]

OPTIONS: List[Option] = [option for _title, options in OPTION_GROUPS for option in options]
GLOBAL_OPTIONS: List[Option] = [option for option in OPTIONS if option.tag == GLOBAL]


def option_named(dest: str) -> Option:
    """The first option writing ``dest`` (``filters`` has three)."""
    return next(option for option in OPTIONS if option.dest == dest)
