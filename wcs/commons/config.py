"""``Config``: the settings of one client, read from and written to the ``.wcscfg`` format.

The format is the official SDK's: a ``[default]`` section of ``key = value`` lines, ``#`` comments,
optionally double-quoted values. A file without a ``[default]`` section (``[DEFAULT]`` counts as one)
is read whole, every section in order, as the official SDK reads it. Unlike the official SDK there is
no singleton: every instance owns its values, typed by the key's default, validated on load and on
assignment. ``Config()`` reads ``~/.wcscfg`` when it exists (``Config(None)``: the defaults only).

A file is as tolerant as the official SDK's reader: a value that is malformed or out of range is
logged as one warning naming the file, the line and the key, the key keeps its default, and only
a use of that key raises the :class:`~wcs.commons.errors.ConfigError` (reading ``cfg.<key>``,
:meth:`Config.require`). A line that is not ``key = value`` is an error at once.

Precedence, written down once: command line / per-call arguments > environment (``WCS_*``, only via
:meth:`Config.load`) > config file > the defaults below.
"""

import copy
import logging
import os
import re
import shlex
import stat
from typing import IO, Any, Dict, List, Mapping, Optional, Tuple

from wcs.commons import settings
from wcs.commons.errors import ConfigError, InvalidArgument
from wcs.commons.settings import base_url
from wcs.commons.util import BLOCK_SIZE

log = logging.getLogger(__name__)

DEFAULT_PATH = os.path.join("~", ".wcscfg")
SECTION = "default"
HOME_FILE = object()
"""The default ``path`` of :class:`Config`: ``~/.wcscfg`` when that file exists."""

# Every key of the official SDK with its default; the default's type is the key's type.
DEFAULTS: Dict[str, Any] = {
    "access_key": "",
    "secret_key": "",
    "put_url": "",
    "mgr_url": "",
    "block_size": BLOCK_SIZE,
    "bput_size": BLOCK_SIZE,
    "connection_retries": 3,
    "connection_timeout": 40,
    "mkblk_retries": 3,
    "bput_retries": 3,
    "mkfile_retries": 3,
    "tmp_record_folder": "/tmp/multipart/",
    "concurrency": 4,
    "ishttps": False,
    "isverify": True,
    "keepalive": False,
    "upload_id": "",
    "output": "",
    "notifyurl": "",
    "separate": 0,
    "force": 0,
    "limit": 1000,
    "prefix": "",
    "mode": 3,
    "marker": "",
    "overwrite": 0,
    "returnUrl": "",
    "returnBody": "",
    "callbackUrl": "",
    "callbackBody": "",
    "persistentNotifyUrl": "",
    "persistentOps": "",
    "contentDetect": "",
    "detectNotifyURL": "",
    "detectNotifyRule": "",
    "hashAlgorithm": "",
    "deadline": 7200,
    "traffic_limit": 0,
    # Ours (the official SDK has no download settings): where objects are served, see settings.Endpoints.
    "download_url": "",
    "download_domains": "",
    "download_threshold": 32 * 1024 * 1024,
    "download_part_size": 8 * 1024 * 1024,
}

SECRET_KEYS = frozenset({"secret_key"})

ENVIRONMENT = {
    "WCS_ACCESS_KEY": "access_key",
    "WCS_SECRET_KEY": "secret_key",
    "WCS_PUT_URL": "put_url",
    "WCS_MGR_URL": "mgr_url",
    "WCS_DOWNLOAD_URL": "download_url",
}

FLOAT_KEYS = frozenset({"connection_timeout"})

# Which keys each part of the SDK uses, so that a bad value fails only the calls that need it.
HTTP_KEYS = ("connection_timeout", "connection_retries", "ishttps", "isverify")
TRANSFER_KEYS = ("block_size", "bput_size", "concurrency", "mkblk_retries", "bput_retries", "mkfile_retries",
                 "tmp_record_folder", "traffic_limit")
POLICY_KEYS = ("overwrite", "returnUrl", "returnBody", "callbackUrl", "callbackBody", "persistentNotifyUrl",
               "persistentOps", "contentDetect", "detectNotifyURL", "detectNotifyRule", "hashAlgorithm",
               "deadline")
JOB_KEYS = ("notifyurl", "separate", "force", "output")

_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0")

_SECTION_RE = re.compile(r"^\s*\[([^\]]+)\]\s*$")
_DATA_RE = re.compile(r"^\s*(?P<key>\w+)\s*=\s*(?P<value>.*?)\s*$")
_SKIP_RE = re.compile(r"^\s*(#.*)?$")


def _check_range(key: str, value: Any) -> Optional[str]:
    """Why ``value`` is not acceptable for ``key``, or None when it is."""
    if key == "download_part_size" and (value <= 0 or value % BLOCK_SIZE):
        return "must be a positive multiple of 4 MiB (%d bytes), got %d" % (BLOCK_SIZE, value)
    if key == "download_threshold" and value < 0:
        return "must not be negative, got %d" % value
    if key == "block_size" and (value <= 0 or value % BLOCK_SIZE):
        return "must be a positive multiple of 4 MiB (%d bytes), got %d" % (BLOCK_SIZE, value)
    if key == "bput_size" and value <= 0:
        return "must be positive, got %d" % value
    if key in ("connection_retries", "mkblk_retries", "bput_retries", "mkfile_retries", "concurrency",
               "traffic_limit") and value < 0:
        return "must not be negative, got %d" % value
    if key in ("connection_timeout", "deadline") and value <= 0:
        return "must be positive, got %s" % value
    if key == "limit" and not 1 <= value <= 1000:
        return "must be between 1 and 1000, got %d" % value
    if key == "mode" and value not in (0, 1, 3):
        return "must be 0, 1 or 3 (3 = flat listing), got %d" % value
    if key in ("overwrite", "separate", "force") and value not in (0, 1):
        return "must be 0 or 1, got %d" % value
    return None


def coerce(key: str, value: Any) -> Any:
    """Convert ``value`` (often text) to the type of ``key`` and check its range.

    Raises:
        ValueError: with a message naming what is wrong (callers add file/line context).
    """
    default = DEFAULTS[key]
    result: Any
    if isinstance(default, bool):
        if isinstance(value, bool):
            result = value
        elif str(value).strip().lower() in _TRUE:
            result = True
        elif str(value).strip().lower() in _FALSE:
            result = False
        else:
            raise ValueError("must be a boolean (true/false, yes/no, on/off, 1/0), got %r" % (value,))
    elif isinstance(default, int):
        if isinstance(value, bool):
            raise ValueError("must be an integer, got %r" % (value,))
        try:
            if key in FLOAT_KEYS:
                # The official SDK takes float(connection_timeout); whole numbers stay ints.
                number = value if isinstance(value, (int, float)) else float(str(value).strip())
                result = int(number) if float(number).is_integer() else float(number)
                if result != result or result in (float("inf"), float("-inf")):
                    raise ValueError
            else:
                result = int(str(value).strip()) if not isinstance(value, int) else value
        except (ValueError, OverflowError):
            raise ValueError("must be %s, got %r" % ("a number" if key in FLOAT_KEYS else "an integer", value)) \
                from None
        problem = _check_range(key, result)
        if problem:
            raise ValueError(problem)
    else:
        result = "" if value is None else str(value)
        if "\n" in result or "\r" in result:
            # A .wcscfg value is one line; accepting this would make dump_config unreadable.
            raise ValueError("must be a single line")
        if key == "download_domains":
            settings.parse_domains(result)
    return result


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


Entry = Tuple[str, str, int]  # (key, raw value, line number)


def read_entries(text: str, path: str = "<string>") -> List[Entry]:
    """The ``key = value`` lines of a file that count, in order (later ones win).

    Lines before any section count. When the file has a ``[default]`` section (in any case), only
    those sections count and keys elsewhere are ignored with a warning; otherwise every section is
    read, as the official SDK reads it. Unknown keys are ignored with a warning.

    Raises:
        ConfigError: a line is neither a comment, a section nor ``key = value``.
    """
    entries: List[Tuple[str, str, int, bool]] = []  # (key, value, line, in a default section)
    in_default = True
    has_default = False
    for lineno, line in enumerate(text.splitlines(), 1):
        if _SKIP_RE.match(line):
            continue
        section = _SECTION_RE.match(line)
        if section:
            in_default = section.group(1).strip().lower() == SECTION
            has_default = has_default or in_default
            continue
        data = _DATA_RE.match(line)
        if not data:
            shown = line.strip()[:80]
            if any(name in line for name in SECRET_KEYS):
                shown = "<a %s line, not shown>" % "/".join(sorted(n for n in SECRET_KEYS if n in line))
            else:
                shown = repr(shown)
            raise ConfigError("malformed line %s (expected 'key = value')" % shown, path, lineno)
        entries.append((data.group("key"), _unquote(data.group("value")), lineno, in_default))
    chosen: List[Entry] = []
    for key, value, lineno, in_default in entries:
        if key not in DEFAULTS:
            log.warning("%s:%d: ignoring unknown key %r", path, lineno, key)
        elif has_default and not in_default:
            log.warning("%s:%d: ignoring key %r outside the [%s] section", path, lineno, key, SECTION)
        else:
            chosen.append((key, value, lineno))
    return chosen


def parse(text: str, path: str = "<string>") -> Dict[str, str]:
    """Raw ``key -> text`` of the lines that count (see :func:`read_entries`), without validation."""
    return {key: value for key, value, _ in read_entries(text, path)}


class Config:
    """Settings of one client. Attributes are the ``.wcscfg`` keys (see ``DEFAULTS``).

    Args:
        path: a ``.wcscfg`` file to read (as the official ``Config(configfile)``); by default
            ``~/.wcscfg`` when it exists; None keeps the defaults.
        **overrides: key values applied after the file.

    Raises:
        ConfigError: the file cannot be read, or a line in it is not ``key = value`` (a bad value
            only warns; see the module docstring).
        InvalidArgument: an override names an unknown key or has a bad value.
    """

    def __init__(self, path: Any = HOME_FILE, **overrides: Any) -> None:
        object.__setattr__(self, "_values", dict(DEFAULTS))
        object.__setattr__(self, "_problems", {})  # key -> (raw text, message, file, line)
        object.__setattr__(self, "path", None)
        if "configfile" in overrides:  # the official SDK's keyword
            path = overrides.pop("configfile")
        if path is HOME_FILE:
            home = os.path.expanduser(DEFAULT_PATH)
            path = home if os.path.exists(home) else None
        if path is not None:
            self.read_config_file(path)
        self.update(**overrides)

    @classmethod
    def load(cls, path: Optional[str] = None, environ: Optional[Mapping[str, str]] = None,
             **overrides: Any) -> "Config":
        """File (``path`` or ``~/.wcscfg`` when it exists), then ``WCS_*`` environment, then overrides.

        An explicitly named ``path`` must exist; the default one is optional.
        """
        cfg = cls(HOME_FILE if path is None else path)
        env = os.environ if environ is None else environ
        for name, key in ENVIRONMENT.items():
            if env.get(name):
                cfg._values[key] = coerce(key, env[name])
                cfg._problems.pop(key, None)
        cfg.update(**overrides)
        return cfg

    def read_config_file(self, configfile: str) -> None:
        """Read ``configfile`` over the current values; log a warning when other users may read or
        write it (it holds the secret key)."""
        path = os.path.expanduser(str(configfile))
        try:
            # utf-8-sig: files saved by some Windows editors start with a byte order mark.
            with open(path, encoding="utf-8-sig") as fp:
                text = fp.read()
                mode = os.fstat(fp.fileno()).st_mode
        except OSError as exc:
            raise ConfigError("cannot read config file: %s" % (exc.strerror or exc), path) from None
        except UnicodeDecodeError:
            raise ConfigError("config file is not UTF-8 text", path) from None
        for key, value, lineno in read_entries(text, path):
            try:
                self._values[key] = coerce(key, value)
            except ValueError as exc:
                self._values[key] = DEFAULTS[key]
                self._problems[key] = (value, str(exc), path, lineno)
                log.warning("%s; ignored: a call that uses %s fails until it is fixed",
                            ConfigError(str(exc), path, lineno, key), key)
            else:
                self._problems.pop(key, None)
        object.__setattr__(self, "path", path)
        if os.name == "posix" and stat.S_ISREG(mode) and mode & 0o066:
            log.warning("config file %s can be %s by other users (mode %03o) and holds the secret key: "
                        "chmod 600 %s", path, "read and written" if mode & 0o022 and mode & 0o044 else
                        "written" if mode & 0o022 else "read", stat.S_IMODE(mode), shlex.quote(path))

    def problem(self, key: str) -> Optional[ConfigError]:
        """The error of ``key`` when the file gave it a bad value, else None."""
        found = self._problems.get(key)
        if found is None:
            return None
        _, message, path, lineno = found
        return ConfigError(message, path, lineno, key)

    def raw(self, key: str) -> Optional[str]:
        """The text the file gave a key whose value is bad (None for a good one)."""
        found = self._problems.get(key)
        return None if found is None else found[0]

    def require(self, *keys: str) -> "Config":
        """Self, when none of ``keys`` has a bad value from the file.

        Raises:
            ConfigError: naming the file, the line and the first such key.
        """
        for key in keys:
            error = self.problem(key)
            if error is not None:
                raise error
        return self

    def update(self, **values: Any) -> "Config":
        """Set several keys at once (None values are skipped, as unset command-line options)."""
        for key, value in values.items():
            if value is not None:
                setattr(self, key, value)
        return self

    def replace(self, **values: Any) -> "Config":
        """A copy with some keys changed; this instance is untouched."""
        return copy.deepcopy(self).update(**values)

    def option_list(self) -> list:
        """The key names, in the order of the official SDK's file."""
        return list(DEFAULTS)

    def as_dict(self) -> Dict[str, Any]:
        return dict(self._values)

    def dump_config(self, stream: IO[str]) -> None:
        """Write every key in the ``.wcscfg`` format; :class:`Config` reads it back identically
        (a bad value from the file is written as it was given, so it stays reported)."""
        stream.write("[%s]\n" % SECTION)
        for key, value in self._values.items():
            raw = self.raw(key)
            text = str(value) if raw is None else raw
            if text != text.strip() or (len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'"):
                text = '"%s"' % text
            stream.write("%s = %s\n" % (key, text))

    # -- the typed pieces the services are built from (snapshots: later changes need a new call) --

    @property
    def credentials(self) -> settings.Credentials:
        return settings.Credentials(self._values["access_key"], self._values["secret_key"])

    @property
    def endpoints(self) -> settings.Endpoints:
        v = self._values
        return settings.Endpoints(v["put_url"], v["mgr_url"], https=v["ishttps"], verify=v["isverify"],
                                  download_url=v["download_url"],
                                  download_domains=settings.parse_domains(v["download_domains"]))

    @property
    def transfer(self) -> settings.TransferConfig:
        return settings.from_values(settings.TransferConfig, self._values)

    @property
    def policy(self) -> settings.PolicyDefaults:
        return settings.from_values(settings.PolicyDefaults, self._values)

    @property
    def jobs(self) -> settings.JobDefaults:
        return settings.from_values(settings.JobDefaults, self._values)

    def __getattr__(self, name: str) -> Any:
        values = self.__dict__.get("_values")
        if values is not None and name in values:
            error = self.problem(name)
            if error is not None:
                raise error
            return values[name]
        raise AttributeError("Config has no key %r" % name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name not in DEFAULTS:
            raise InvalidArgument("unknown configuration key %r" % name)
        try:
            self._values[name] = coerce(name, value)
        except ValueError as exc:
            raise InvalidArgument("%s %s" % (name, exc)) from None
        self._problems.pop(name, None)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Config) and self._values == other._values

    def __repr__(self) -> str:
        shown = {k: ("<hidden>" if k in SECRET_KEYS and v else v) for k, v in self._values.items()}
        return "Config(%s)" % ", ".join("%s=%r" % kv for kv in shown.items())

    def __deepcopy__(self, memo: dict) -> "Config":
        clone = Config(None)
        clone._values.update(self._values)
        clone._problems.update(self._problems)
        object.__setattr__(clone, "path", self.path)
        return clone


__all__ = ["Config", "DEFAULTS", "DEFAULT_PATH", "HOME_FILE", "HTTP_KEYS", "JOB_KEYS", "POLICY_KEYS",
           "TRANSFER_KEYS", "base_url", "coerce", "parse", "read_entries"]
