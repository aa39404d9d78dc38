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
from typing import Any, Dict, List, Optional, Tuple

from wcs.commons import settings
from wcs.commons.auth import SHA1, encryption_type_of
from wcs.commons.bandwidth import parse_rate
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
    # Ours: bytes per second for all the connections of a client together (0: no limit); the file and
    # the environment may write it as 10M, 512k, 1.5MiB (wcs.commons.bandwidth).
    "bwlimit",
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
RATE_KEYS = frozenset({"bwlimit"})

# Which keys each part of the SDK uses, so that a bad value fails only the calls that need it.
HTTP_KEYS = ("connection_timeout", "connection_retries", "ishttps", "isverify", "bwlimit")
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
            if key in RATE_KEYS:
                result = parse_rate(value)
            elif key in FLOAT_KEYS:
                # The official SDK takes float(connection_timeout); whole numbers stay ints.
                number = value if isinstance(value, (int, float)) else float(str(value).strip())
                result = int(number) if float(number).is_integer() else float(number)
                if result != result or result in (float("inf"), float("-inf")):
                    raise ValueError
            else:
                result = int(str(value).strip()) if not isinstance(value, int) else value
        except (ValueError, OverflowError):
            kind = "a number" if key in FLOAT_KEYS else "a rate in bytes per second such as 10M, 512k or " \
                "1.5MiB" if key in RATE_KEYS else "an integer"
            raise ValueError("must be %s, got %r" % (kind, value)) from None
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


def is_default_section(name: str) -> bool:
    """``[default]`` in any case (``[DEFAULT]`` too), the section the official SDK reads."""
    return name.strip().lower() == SECTION


def _lines(text: str, path: str) -> List[Tuple[Optional[str], str, str, int]]:
    """``(section or None before any, key, raw value, line)`` of every setting line, in order.

    Raises:
        ConfigError: a line is neither a comment, a section nor ``key = value``.
    """
    found: List[Tuple[Optional[str], str, str, int]] = []
    section: Optional[str] = None
    for lineno, line in enumerate(text.splitlines(), 1):
        if _SKIP_RE.match(line):
            continue
        header = _SECTION_RE.match(line)
        if header:
            section = header.group(1).strip()
            continue
        data = _DATA_RE.match(line)
        if not data:
            shown = line.strip()[:80]
            if any(name in line for name in SECRET_KEYS):
                shown = "<a %s line, not shown>" % "/".join(sorted(n for n in SECRET_KEYS if n in line))
            else:
                shown = repr(shown)
            raise ConfigError("malformed line %s (expected 'key = value')" % shown, path, lineno)
        found.append((section, data.group("key"), _unquote(data.group("value")), lineno))
    return found


def sections(text: str) -> List[str]:
    """The section names of a file, in order (each once)."""
    names: List[str] = []
    for line in text.splitlines():
        header = _SECTION_RE.match(line)
        if header and header.group(1).strip() not in names:
            names.append(header.group(1).strip())
    return names


def read_entries(text: str, path: str = "<string>", profile: Optional[str] = None) -> List[Entry]:
    """The ``key = value`` lines of a file that count, in order (later ones win).

    Without ``profile`` (or with ``"default"``): lines before any section count; when the file has a
    ``[default]`` section (in any case), only those sections count and other sections (profiles)
    are left alone; otherwise every section is read, as the official SDK reads it. With another
    ``profile``: only its ``[profile]`` sections count. Unknown keys are ignored with a warning.

    Raises:
        ConfigError: a line is neither a comment, a section nor ``key = value``; or ``profile`` has
            no section in the file.
    """
    lines = _lines(text, path)
    if profile is not None and not is_default_section(profile):
        if profile.strip() not in sections(text):
            raise ConfigError("no [%s] section for profile %r (sections: %s)" % (
                profile, profile, ", ".join("[%s]" % name for name in sections(text)) or "none"), path)
        wanted = [(key, value, lineno) for section, key, value, lineno in lines if section == profile.strip()]
    else:
        has_default = any(is_default_section(name) for name in sections(text))
        wanted = [(key, value, lineno) for section, key, value, lineno in lines
                  if not has_default or section is None or is_default_section(section)]
    chosen: List[Entry] = []
    for key, value, lineno in wanted:
        if key not in DEFAULTS:
            log.warning("%s:%d: ignoring unknown key %r", path, lineno, key)
        else:
            chosen.append((key, value, lineno))
    return chosen


def format_value(text: str) -> str:
    """A value as a ``.wcscfg`` line writes it: quoted when spaces at its ends or quotes would be lost."""
    if text != text.strip() or (len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'"):
        return '"%s"' % text
    return text


def update_section(text: str, section: str, values: Dict[str, str]) -> str:
    """``text`` with ``values`` written into ``[section]``, everything else kept as it was.

    A key the section has is rewritten in its own line (the last one, which is the one that counts);
    the others are added after the section's last setting; a missing section is added at the end.
    Comments, blank lines, other sections and unknown keys stay untouched. Writing ``default`` into
    a file without any section header updates the file's bare lines (the official SDK's layout).
    """
    lines = text.splitlines()
    default = is_default_section(section)
    names = sections(text)
    if default and names and not any(is_default_section(name) for name in names):
        # Profiles but no [default]: the official reader would take the profiles' keys as defaults too;
        # the bare lines become an explicit [default] section, so each section means what it says.
        lines.insert(0, "[%s]" % SECTION)
        names.insert(0, SECTION)
    # The line ranges [start, end) that belong to the section.
    spans: List[Tuple[int, int]] = []
    current: Optional[str] = None
    start = 0 if default else None
    for index, line in enumerate(lines):
        header = _SECTION_RE.match(line)
        if not header:
            continue
        if start is not None:
            spans.append((start, index))
        current = header.group(1).strip()
        start = index + 1 if (is_default_section(current) if default else current == section) else None
    if start is not None:
        spans.append((start, len(lines)))
    if default and spans and spans[0][0] == 0 and any(is_default_section(n) for n in names):
        # A [default] header exists: bare lines before the first section stay as they are.
        if not any(_DATA_RE.match(line) for line in lines[spans[0][0]:spans[0][1]]):
            spans = spans[1:]
    where: Dict[str, int] = {}
    for first, end in spans:
        for index in range(first, end):
            data = _DATA_RE.match(lines[index])
            if data and not _SKIP_RE.match(lines[index]):
                where[data.group("key")] = index
    pending = []
    for key, value in values.items():
        line = "%s = %s" % (key, format_value(value))
        if key in where:
            lines[where[key]] = line
        else:
            pending.append(line)
    if pending and spans:
        first, end = spans[-1]
        last = max([i for i in range(first, end) if _DATA_RE.match(lines[i]) and not _SKIP_RE.match(lines[i])],
                   default=first - 1)
        lines[last + 1:last + 1] = pending
    elif pending:
        if lines and lines[-1].strip():
            lines.append("")
        lines.extend(["[%s]" % section] + pending)
    return "\n".join(lines) + "\n"


def parse(text: str, path: str = "<string>", profile: Optional[str] = None) -> Dict[str, str]:
    """Raw ``key -> text`` of the lines that count (see :func:`read_entries`), without validation."""
    return {key: value for key, value, _ in read_entries(text, path, profile)}
