"""The ``.wcscfg`` format: every key with its default and type, checking a value, reading the lines.

The format is the official SDK's: a ``[default]`` section of ``key = value`` lines, ``#`` comments,
optionally double-quoted values. A file without a ``[default]`` section (``[DEFAULT]`` counts as one)
is read whole, every section in order, as the official SDK reads it. :class:`~wcs.commons.config.Config`
is built on these pieces.
"""

import logging
import os
import re
from dataclasses import fields
from typing import Any, Dict, List, Tuple

from wcs.commons import settings
from wcs.commons.auth import SHA1, encryption_type_of
from wcs.commons.errors import ConfigError, InvalidArgument

log = logging.getLogger("wcs.commons.config")  # one logger name for everything about config files


DEFAULT_PATH = os.path.join("~", ".wcscfg")
SECTION = "default"
HOME_FILE = object()
"""The default ``path`` of :class:`Config`: ``~/.wcscfg`` when that file exists."""

# Every key of the official SDK, in the order of its file, then ours; the default's type is the key's type.
KEYS = (
    "access_key", "secret_key", "put_url", "mgr_url", "block_size", "bput_size", "connection_retries",
    "connection_timeout", "mkblk_retries", "bput_retries", "mkfile_retries", "tmp_record_folder", "concurrency",
    "ishttps", "isverify", "keepalive", "upload_id", "output", "notifyurl", "separate", "force", "limit", "prefix",
    "mode", "marker", "overwrite", "returnUrl", "returnBody", "callbackUrl", "callbackBody",
    "persistentNotifyUrl", "persistentOps", "contentDetect", "detectNotifyURL", "detectNotifyRule",
    "hashAlgorithm", "deadline", "traffic_limit",
    # Ours (the official SDK has no download settings): where objects are served, see settings.Endpoints.
    "download_url", "download_domains", "download_threshold", "download_part_size",
    # The signing algorithm, SHA-1 or SM3 (the Java SDK's ENCRYPTION_TYPE; see wcs.commons.auth).
    "encryption_type",
)

# The defaults of the keys that are settings are those of the settings (written there, once).
_SETTINGS_NAMES = {"https": "ishttps", "verify": "isverify"}
_FROM_SETTINGS = {_SETTINGS_NAMES.get(item.name, item.name): item.default
                  for cls in (settings.Credentials, settings.Endpoints, settings.TransferConfig,
                              settings.PolicyDefaults, settings.JobDefaults)
                  for item in fields(cls)}
# The keys that are no field of the settings: the per-call keys of the official methods, the text form of
# download_domains and the signing algorithm (read by the Auth a Client builds).
_OWN_DEFAULTS = {"keepalive": False, "upload_id": "", "limit": 1000, "prefix": "", "mode": 3, "marker": "",
                 "download_domains": "", "encryption_type": SHA1}
DEFAULTS: Dict[str, Any] = {key: _OWN_DEFAULTS[key] if key in _OWN_DEFAULTS else _FROM_SETTINGS[key]
                            for key in KEYS}

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
        problem = settings.value_problem(key, result)
        if problem:
            raise ValueError(problem)
    else:
        result = "" if value is None else str(value)
        if "\n" in result or "\r" in result:
            # A .wcscfg value is one line; accepting this would make dump_config unreadable.
            raise ValueError("must be a single line")
        if key == "download_domains":
            settings.parse_domains(result)
        if key == "encryption_type":
            result = _encryption_type(result)
    return result


def _encryption_type(text: str) -> str:
    try:
        return encryption_type_of(text)
    except InvalidArgument:
        raise ValueError("must be SHA-1 or SM3 (the signing algorithm), got %r" % text) from None


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
