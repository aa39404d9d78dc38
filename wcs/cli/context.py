"""What every ``wcscmd`` command shares: the effective Config, one Client, and the output channels.

The output contract (one JSON document on stdout, one line per error on stderr, secrets masked) is
described in :mod:`wcs.cli.wcscmd`; this module is where it is enforced. Lines on stderr first take
any progress bar off its line (:attr:`Context.live`), so a message never lands inside a bar.
"""

import json
import logging
import os
import shlex
import time
from typing import IO, Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from wcs.cli.pipes import GuardedStream
from wcs.cli.status import ExitStatus
from wcs.commons.config import CONFIG_FILE_VARIABLE, DEFAULT_PATH, Config
from wcs.commons.errors import ConfigError, InvalidArgument

SECRET_MASK = "***"

# Settings each kind of call needs, to fail early with a config hint rather than with an HTTP 401.
NEEDS_MGR = ("access_key", "secret_key", "mgr_url")
LISTING_WORKERS = 16  # threads of a command that walks a whole listing: its key ranges are fetched at once
NEEDS_PUT = ("access_key", "secret_key", "put_url")
NEEDS_STATUS = ("mgr_url",)

_ENV_FOR = {"access_key": "WCS_ACCESS_KEY", "secret_key": "WCS_SECRET_KEY", "put_url": "WCS_PUT_URL",
            "mgr_url": "WCS_MGR_URL"}

Override = Tuple[str, str, Any]  # (option as typed, config key, value)


class Context:
    """Per-invocation state handed to every ``cmd_*`` function.

    Args:
        prog: program name used as the prefix of messages.
        config_path: ``-c FILE``, or None for the optional default ``~/.wcscfg``.
        overrides: command-line settings, applied over file and environment.
        quiet: no progress bars and no per-file lines (errors and the multiput upload id are always shown).
        argv: the command line as given to ``main`` (to tell how to run it again).
        profile: ``--profile NAME`` (None: ``$WCS_PROFILE``, else ``[default]``).
        json_lines: ``--json``: documents on one line each.
        verbose: ``-v``: say what is done (ignored with ``quiet``).
        stats: ``--stats``: seconds between status lines of a transfer when stderr is no terminal.
        command: the command's name (for messages).
    """

    def __init__(self, *, prog: str, config_path: Optional[str], overrides: Iterable[Override],
                 quiet: bool, stdout: IO[str], stderr: IO[str], stdin: IO[str],
                 environ: Mapping[str, str], argv: Iterable[str] = (), profile: Optional[str] = None,
                 json_lines: bool = False, verbose: bool = False, stats: float = 0.0,
                 command: Optional[str] = None) -> None:
        self.prog = prog
        self.command = command
        self.started = time.monotonic()
        self.said_verbose = False  # a -v line was printed (else the run ends with a generic one)
        self.argv: List[str] = list(argv)
        self.config_path = config_path
        self.profile = profile
        self.overrides: List[Override] = list(overrides)
        self.quiet = quiet
        self.json_lines = json_lines
        self.verbose = verbose and not quiet
        self.stats = stats
        # Writes that fail because the reader went away (`| head`) are noted, for the exit status 141.
        self.stdout: Any = GuardedStream(stdout)
        self.live: Any = None  # the progress line drawn on stderr now (has .clear()), if any
        self.stderr = stderr
        self.stdin = stdin
        self.environ = environ
        self.emitted = False
        self.hint: Optional[str] = None  # printed after the error line if the command fails
        self.advice: Optional[str] = None  # appended to a service error's line ("; add --overwrite 1 ...")
        # What the command acts on (``wcs://b/k``, ``wcs://b``): service errors are told as about it.
        self.subject: Optional[str] = None
        self._secrets: List[str] = []
        self._cfg: Optional[Config] = None
        self._client: Any = None
        secret = environ.get("WCS_SECRET_KEY")
        if secret:
            self._add_secret(secret)

    # -- configuration -------------------------------------------------------------------------

    def configure_hint(self) -> str:
        where = "" if self.config_path is None else " -c %s" % shlex.quote(self.config_path)
        if self.profile:
            where += " --profile %s" % shlex.quote(self.profile)
        return "run '%s%s --configure' to create or fix it" % (self.prog, where)

    def config_file(self) -> str:
        """The config file of this run: ``-c FILE``, ``$WCS_CONFIG_FILE`` or ``~/.wcscfg``."""
        return self.config_path or self.environ.get(CONFIG_FILE_VARIABLE) or os.path.expanduser(DEFAULT_PATH)

    def config(self) -> Config:
        """The effective Config: file, then ``WCS_*`` environment, then command-line options.

        Raises:
            ConfigError: the named file is missing or malformed (default file: only if malformed).
            InvalidArgument: an option value is out of range or of the wrong type.
        """
        if self._cfg is None:
            cfg = Config.load(self.config_path, environ=self.environ, profile=self.profile)
            self._add_secret(cfg.secret_key)
            for option, key, value in self.overrides:
                try:
                    setattr(cfg, key, value)
                except InvalidArgument as exc:
                    raise InvalidArgument("invalid value for %s: %s" % (option, exc)) from None
                cfg.set_source(key, "flag %s" % option)
            if any(key == "ishttps" and value for _option, key, value in self.overrides):
                _upgrade_to_https(cfg)
            self._cfg = cfg
        return self._cfg

    def require(self, *keys: str) -> Config:
        """The Config, after checking that ``keys`` are set (credentials, hosts).

        Raises:
            ConfigError: one of them is empty; the message says where it could have come from.
        """
        cfg = self.config()
        missing = [key for key in keys if not getattr(cfg, key)]
        if missing:
            source = cfg.path or self.config_file()
            found = "in %s" % source if cfg.path else "(no config file at %s)" % source
            env = ", ".join(_ENV_FOR[k] for k in missing if k in _ENV_FOR)
            raise ConfigError("%s not set %s%s" % (", ".join(missing), found,
                                                   " nor in the environment (%s)" % env if env else ""))
        return cfg

    def client(self, *needs: str, workers: int = 0) -> Any:
        """The one Client of this invocation (created on first use, closed by ``main``).

        ``workers``: the transfers the command runs at once when that is more than ``concurrency``
        (a tree's ``--transfers``): the client's pool and connections are sized for them when it is built.
        """
        cfg = self.require(*needs)
        if self._client is None:
            from wcs.services.client import Client  # loaded only by commands that talk to WCS

            self._client = Client(cfg, workers=workers)
        return self._client

    def in_flight(self) -> int:
        """Transfer tasks running now (0 before any Client exists)."""
        return self._client.transfers_in_flight() if self._client is not None else 0

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    # -- output --------------------------------------------------------------------------------

    def _add_secret(self, secret: Optional[str]) -> None:
        # Very short values would mask ordinary text (and are not real secrets anyway).
        if secret and len(secret) >= 4 and secret not in self._secrets:
            self._secrets.append(secret)

    def mask(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, SECRET_MASK)
        return text

    def emit(self, document: Any) -> None:
        """Write the command's one JSON document to stdout (on one line with ``--json``)."""
        indent = None if self.json_lines else 2
        try:
            text = json.dumps(document, indent=indent, ensure_ascii=False, default=str)
            self.stdout.write(self.mask(text) + "\n")
        except UnicodeEncodeError:  # a non-UTF-8 stdout (e.g. LANG=C on old systems)
            self.stdout.write(self.mask(json.dumps(document, indent=indent, default=str)) + "\n")
        self.stdout.flush()
        self.emitted = True
        if self.verbose:
            from wcs.cli import printing

            printing.verbose(self, printing.describe(self, document) or "")

    def emit_result(self, result: Any, **extra: Any) -> int:
        """Print a Result as JSON; a non-2xx or -1 result raises for the error boundary.

        Raises:
            ServiceError: the service answered with a non-2xx status.
            NetworkError: no answer came (code -1).
        """
        self.emit(result_document(result, **extra))
        result.raise_for_status()
        return ExitStatus.SUCCESS

    def line(self, text: str, kind: str = "") -> None:
        """One message line on stderr, prefixed with the program name (and ``error:`` etc.)."""
        text = " ".join(str(text).splitlines())  # one line, whatever a path or message holds
        prefix = "%s: %s" % (self.prog, kind + ": " if kind else "")
        live = self.live
        if live is not None:
            live.clear()  # the message gets a line of its own; the bar is drawn again below it
        self.stderr.write(self.mask(prefix + text) + "\n")
        self.stderr.flush()

    def lines(self, texts: Sequence[str], kind: str = "") -> None:
        """:meth:`line` for each of ``texts``, written at once (one write, one flush: thousands of
        per-file lines cost what one does)."""
        if not texts:
            return
        prefix = "%s: %s" % (self.prog, kind + ": " if kind else "")
        live = self.live
        if live is not None:
            live.clear()
        self.stderr.write(self.mask("".join(prefix + " ".join(str(text).splitlines()) + "\n" for text in texts)))
        self.stderr.flush()


def _upgrade_to_https(cfg: Config) -> None:
    """``-s/--ssl``: every host is reached over https, also one written as ``http://...``.

    In the file, a host's own scheme wins over ``ishttps`` (the official rule, kept for the SDK), and
    ``--write-config`` writes ``http://`` hosts; the flag is the user's explicit word for this run.
    """
    for key in ("put_url", "mgr_url"):
        host = getattr(cfg, key)
        if host[:7].lower() == "http://":
            setattr(cfg, key, "https://" + host[7:])


def result_document(result: Any, **extra: Any) -> Dict[str, Any]:
    """The stable JSON shape of a service answer: code, reqid, body, then any extras."""
    # The decoded answer (a form upload's body is its raw Base64 text, as in the official SDK).
    document: Dict[str, Any] = {"code": result.code, "reqid": result.reqid,
                                "body": getattr(result, "data", result.body)}
    upload_id = getattr(result, "upload_id", None)
    if upload_id:
        document["upload_id"] = upload_id
    document.update(extra)
    return document


class MaskingFormatter(logging.Formatter):
    """Log lines (``--debug``) pass through the same secret mask as every other message."""

    def __init__(self, ctx_mask: Any, fmt: str) -> None:
        super().__init__(fmt)
        self._mask = ctx_mask

    def format(self, record: logging.LogRecord) -> str:
        record.levelname = record.levelname.lower()  # "wcscmd: warning: ..." like the other lines
        return self._mask(super().format(record))
