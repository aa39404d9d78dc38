"""Typed, frozen pieces of a configuration: what each part of the SDK needs, and nothing more.

:class:`~wcs.commons.config.Config` is the ``.wcscfg`` view (every official key, mutable, as the
official SDK has it); the services never read it. They get these immutable pieces instead, built
from a Config (``cfg.credentials``, ``cfg.endpoints``, ``cfg.transfer``, ``cfg.policy``,
``cfg.jobs``) or directly, validated once, when they are built (a ``block_size`` that is not a
multiple of 4 MiB never reaches an upload). Their field defaults are the defaults of the
``.wcscfg`` keys of the same names (:mod:`wcs.commons.wcscfg` reads them from here), and
:func:`value_problem` holds the range of every key:

* :class:`Credentials` - the key pair (the secret never shown in a repr);
* :class:`Endpoints` - upload and management hosts, https, TLS verification;
* :class:`TransferConfig` - block/chunk sizes, concurrency, timeouts, retries, record folder;
* :class:`PolicyDefaults` - the upload-policy fields every upload token carries;
* :class:`JobDefaults` - notification options of fmgr/fops jobs.

Per-call options of the official file (``upload_id``, ``prefix``, ``marker``, ``limit``, ``mode``)
are not here on purpose: only the official ``Client`` methods read them from the Config, as the
official SDK does, so one ``upload_id`` in ``.wcscfg`` can never apply to every file of a tree.
"""

import re
from dataclasses import dataclass, fields, replace
from functools import cached_property
from typing import Any, Dict, Optional, Tuple
from urllib.parse import quote

from wcs.commons.errors import ConfigError, InvalidArgument
from wcs.commons.util import BLOCK_SIZE

CONFIGURE_HINT = "set it in the config file (run `wcscmd --configure`) or on the Config object"
MiB = 1024 * 1024
TOKEN_LIFETIME_S = 7200
"""Lifetime of an upload token when its policy gives none (the official default ``deadline``)."""

_RETRY_KEYS = ("connection_retries", "mkblk_retries", "bput_retries", "mkfile_retries")


def value_problem(key: str, value: Any) -> Optional[str]:
    """Why ``value`` (of the key's type) is out of range for the setting ``key``, or None: every range
    rule of the settings and of the ``.wcscfg`` keys, written once."""
    if key in ("block_size", "download_part_size") and (value <= 0 or value % BLOCK_SIZE):
        return "must be a positive multiple of 4 MiB (%d bytes), got %d" % (BLOCK_SIZE, value)
    if key == "bput_size" and value <= 0:
        return "must be positive, got %d" % value
    if key in _RETRY_KEYS + ("concurrency", "traffic_limit", "download_threshold", "bwlimit") and value < 0:
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


def _checked_int(key: str, value: Any, what: str, expected: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = None
    if number is None or isinstance(value, bool) or value_problem(key, number):
        raise InvalidArgument("invalid %s %r: %s" % (what, value, expected))
    return number


def check_block_size(block_size: Any) -> int:
    """``block_size`` as an int.

    Raises:
        InvalidArgument: not a positive multiple of 4 MiB (the etag is defined on 4 MiB blocks).
    """
    return _checked_int("block_size", block_size, "block size",
                        "must be a positive multiple of 4 MiB (%d bytes)" % BLOCK_SIZE)


def check_bput_size(bput_size: Any) -> int:
    """``bput_size`` as a positive int.

    Raises:
        InvalidArgument: not a positive integer.
    """
    return _checked_int("bput_size", bput_size, "bput size", "must be a positive number of bytes")


def _validate(settings: Any) -> None:
    """Check every field of a settings dataclass against its type and :func:`value_problem`, once, when it is built.

    Raises:
        InvalidArgument: naming the first bad field.
    """
    for item in fields(settings):
        value = getattr(settings, item.name)
        default = item.default
        if isinstance(default, bool):
            good = isinstance(value, bool)
        elif isinstance(default, (int, float)):
            good = isinstance(value, (int, float) if item.name == "connection_timeout" else int) \
                and not isinstance(value, bool)
        else:
            good = isinstance(value, type(default))
        problem = None if good else "must be %s" % type(default).__name__
        if problem is None and isinstance(value, (int, float)) and not isinstance(value, bool):
            problem = value_problem(item.name, value)
        if problem:
            raise InvalidArgument("invalid %s %r: %s" % (item.name, value, problem))


def base_url(host: str, https: bool) -> str:
    """``host`` with a scheme: kept when given, else ``https://`` or ``http://`` per ``ishttps``."""
    host = host.strip()
    if re.match(r"^https?://", host, re.IGNORECASE):
        return host.rstrip("/")
    return ("https://" if https else "http://") + host.rstrip("/")


@dataclass(frozen=True)
class Credentials:
    """An access key / secret key pair."""

    access_key: str = ""
    secret_key: str = ""

    def __post_init__(self) -> None:
        _validate(self)

    def __repr__(self) -> str:
        return "Credentials(access_key=%r, secret_key=%s)" % (self.access_key,
                                                              "<hidden>" if self.secret_key else "''")

    @property
    def complete(self) -> bool:
        return bool(self.access_key and self.secret_key)

    def require(self) -> "Credentials":
        """Self when both keys are set.

        Raises:
            ConfigError: naming the missing key.
        """
        for name in ("access_key", "secret_key"):
            if not getattr(self, name):
                raise ConfigError("%s is not set; %s" % (name, CONFIGURE_HINT), key=name)
        return self


def parse_domains(text: str) -> Tuple[Tuple[str, str], ...]:
    """``"b1=https://cdn.example.com, b2=http://b2.example.com"`` -> ``(("b1", url), ("b2", url))``.

    Raises:
        ValueError: an entry is not ``bucket=url``.
    """
    pairs = []
    for entry in filter(None, (part.strip() for part in text.split(","))):
        bucket, equals, url = entry.partition("=")
        if not equals or not bucket.strip() or not url.strip():
            raise ValueError("expected 'bucket=url, bucket=url', got %r" % entry)
        pairs.append((bucket.strip(), url.strip()))
    return tuple(pairs)


@dataclass(frozen=True)
class Endpoints:
    """Where the service is: upload host, management host, download origins, and how to reach them.

    Objects are served by the bucket's bound download domain, not by the management host:
    ``download_url`` is a template with ``{bucket}`` (``http://{bucket}.example.com``, or
    ``http://127.0.0.1:8930/{bucket}`` for the emulator) and ``download_domains`` the buckets bound
    to a domain of their own (``(("site", "https://cdn.example.com"),)``), which win.
    """

    put_url: str = ""
    mgr_url: str = ""
    https: bool = False
    verify: bool = True
    download_url: str = ""
    download_domains: Tuple[Tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        _validate(self)

    def download_base(self, bucket: str) -> str:
        """The origin that serves ``bucket``'s objects.

        Raises:
            ConfigError: neither ``download_domains`` nor ``download_url`` covers the bucket.
        """
        for name, url in self.download_domains:
            if name == bucket:
                return base_url(url, self.https)
        if not self.download_url:
            raise ConfigError("download_url is not set: objects are served by the bucket's download domain; set "
                              "download_url (e.g. http://{bucket}.example.com) or download_domains in the config "
                              "file (run `wcscmd --configure`), WCS_DOWNLOAD_URL or --download-url",
                              key="download_url")
        template = self.download_url
        if "{bucket}" in template:
            template = template.replace("{bucket}", quote(bucket, safe=""))
        return base_url(template, self.https)

    def object_url(self, bucket: str, key: str) -> str:
        """The download URL of ``bucket``/``key`` (the key percent-encoded, ``/`` kept)."""
        return "%s/%s" % (self.download_base(bucket), quote(key, safe="/"))

    def put_base(self) -> str:
        """The upload host with its scheme.

        Raises:
            ConfigError: ``put_url`` is not set.
        """
        return self._base("put_url")

    def mgr_base(self) -> str:
        """The management host with its scheme.

        Raises:
            ConfigError: ``mgr_url`` is not set.
        """
        return self._base("mgr_url")

    def _base(self, name: str) -> str:
        host = getattr(self, name)
        if not host:
            raise ConfigError("%s is not set; %s" % (name, CONFIGURE_HINT), key=name)
        return base_url(host, self.https)


DEFAULT_TRANSFERS = 32
"""Files a folder command (``sync``, ``put -r``, ``get -r``, ``cp -r``...) transfers at once, unless told:
measured on a link of 40 ms and 4 MB/s per connection, 1,000 files of 4-64 KiB take 6.7 s with 8,
3.5 s with 16, 2.0 s with 32, 1.6 s with 64 and no less with 128 (the service's CPU, not the link,
limits it from 64 on); docs/folders.md has the table. The price of a
larger number is memory when the files are large: a block being sent holds a ``bput_size`` buffer
(4 MiB), so 32 blocks at once hold 128 MiB."""


@dataclass(frozen=True)
class TransferConfig:
    """How transfers are carried out (the ``s3transfer.TransferConfig`` of this SDK); checked when built.

    Raises:
        InvalidArgument: a field of the wrong type or out of range (e.g. a ``block_size`` that is not a
            multiple of 4 MiB), naming it.
    """

    block_size: int = BLOCK_SIZE
    bput_size: int = BLOCK_SIZE
    concurrency: int = 4
    connection_timeout: float = 40
    connection_retries: int = 3
    mkblk_retries: int = 3
    bput_retries: int = 3
    mkfile_retries: int = 3
    tmp_record_folder: str = "/tmp/multipart/"
    traffic_limit: int = 0
    # Ours: objects of at least download_threshold bytes are fetched as parallel ranges, in waves of
    # download_part_size parts (a multiple of the 4 MiB etag block, so each hashes whole blocks) and a
    # last wave cut evenly over the connections (wcs.services.partplan).
    download_threshold: int = 32 * MiB
    download_part_size: int = 8 * MiB
    # Ours: bytes per second for all the connections of a client together (0: none; wcs.commons.bandwidth).
    bwlimit: int = 0

    def __post_init__(self) -> None:
        _validate(self)

    @property
    def chunk_size(self) -> int:
        """The bytes of one ``mkblk``/``bput`` request: ``bput_size``, at most a whole block."""
        return min(self.bput_size, self.block_size)

    def traffic_headers(self) -> Dict[str, str]:
        """``x-wos-traffic-limit`` when ``traffic_limit`` is set."""
        return {"x-wos-traffic-limit": str(self.traffic_limit)} if self.traffic_limit > 0 else {}


# Policy fields in the order (and with the types) the official SDK copies them from its config, so
# tokens stay byte-identical: ``deadline`` is text there too, until the token makes it an absolute
# number. ``separate`` of the file is for fmgr/fops jobs and is not one of them.
POLICY_FIELDS = (
    ("overwrite", int), ("returnUrl", str), ("returnBody", str), ("callbackUrl", str),
    ("callbackBody", str), ("persistentNotifyUrl", str), ("persistentOps", str),
    ("contentDetect", str), ("detectNotifyURL", str), ("detectNotifyRule", str),
    ("hashAlgorithm", str), ("deadline", str),
)


@dataclass(frozen=True)
class PolicyDefaults:
    """Upload-policy fields put into every upload token (``deadline``: token lifetime in seconds)."""

    overwrite: int = 0
    returnUrl: str = ""
    returnBody: str = ""
    callbackUrl: str = ""
    callbackBody: str = ""
    persistentNotifyUrl: str = ""
    persistentOps: str = ""
    contentDetect: str = ""
    detectNotifyURL: str = ""
    detectNotifyRule: str = ""
    hashAlgorithm: str = ""
    deadline: int = TOKEN_LIFETIME_S

    def __post_init__(self) -> None:
        _validate(self)

    def fields(self) -> Dict[str, Any]:
        """The set (non-empty, non-zero) fields, in the official order, as the policy carries them."""
        return dict(self._fields)

    @cached_property
    def _fields(self) -> Dict[str, Any]:
        # Once per snapshot (it is frozen): every upload token carries these.
        out: Dict[str, Any] = {}
        for name, kind in POLICY_FIELDS:
            value = getattr(self, name)
            if value:
                out[name] = kind(value)
        return out

    def with_overwrite(self, overwrite: Optional[int]) -> "PolicyDefaults":
        """A copy with ``overwrite`` set (None keeps this one's)."""
        return self if overwrite is None else replace(self, overwrite=1 if int(overwrite) else 0)

    @property
    def answer_is_plain(self) -> bool:
        """The upload answer is the service's own (no returnUrl / returnBody / callback to reshape it)."""
        return not (self.returnUrl or self.returnBody or self.callbackUrl)


@dataclass(frozen=True)
class JobDefaults:
    """Options of asynchronous jobs (fmgr, fops) taken when a call gives none."""

    notifyurl: str = ""
    separate: int = 0
    force: int = 0
    output: str = ""

    def __post_init__(self) -> None:
        _validate(self)


def from_values(cls: Any, values: Dict[str, Any], **renamed: str) -> Any:
    """Build the dataclass ``cls`` from a Config's key/value dict (``renamed``: field -> key)."""
    kwargs = {}
    for item in fields(cls):
        key = renamed.get(item.name, item.name)
        if key in values:
            kwargs[item.name] = values[key]
    return cls(**kwargs)
