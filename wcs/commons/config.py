"""``Config``: the settings of one client, read from and written to the ``.wcscfg`` format.

The format is the official SDK's: a ``[default]`` section of ``key = value`` lines, ``#`` comments,
optionally double-quoted values. A file without a ``[default]`` section (``[DEFAULT]`` counts as one)
is read whole, every section in order, as the official SDK reads it. Other sections are profiles:
``Config(path, profile="work")`` reads ``[work]`` instead (and nothing else). Unlike the official
SDK there is no singleton: every instance owns its values, typed by the key's default, validated on
load and on assignment. ``Config()`` reads ``~/.wcscfg`` when it exists (``Config(None)``: the
defaults only); every value remembers where it came from (:meth:`Config.source`).

A file is as tolerant as the official SDK's reader: a value that is malformed or out of range is
logged as one warning naming the file, the line and the key, the key keeps its default, and only
a use of that key raises the :class:`~wcs.commons.errors.ConfigError` (reading ``cfg.<key>``,
:meth:`Config.require`). A line that is not ``key = value`` is an error at once.

Precedence, written down once: command line / per-call arguments > environment (``WCS_*``, only via
:meth:`Config.load`) > config file (its ``[default]`` section, or the profile's) > the defaults below.
:meth:`Config.load` also takes the file from ``WCS_CONFIG_FILE`` and the profile from ``WCS_PROFILE``
when the caller names none.
"""

import copy
import dataclasses
import logging
import os
import shlex
import stat
from typing import IO, Any, Callable, Dict, Mapping, Optional, Tuple

from wcs.commons import settings
from wcs.commons.errors import ConfigError, InvalidArgument
from wcs.commons.settings import base_url
from wcs.commons.wcscfg import (  # noqa: F401 - the names were always importable from here
    DEFAULT_PATH,
    DEFAULTS,
    ENVIRONMENT,
    FLOAT_KEYS,
    HOME_FILE,
    HTTP_KEYS,
    JOB_KEYS,
    POLICY_KEYS,
    SECRET_KEYS,
    SECTION,
    TRANSFER_KEYS,
    Entry,
    coerce,
    format_value,
    is_default_section,
    parse,
    read_entries,
)

# The environment variables that say which file and which section Config.load reads.
CONFIG_FILE_VARIABLE = "WCS_CONFIG_FILE"
PROFILE_VARIABLE = "WCS_PROFILE"
DEFAULT_SOURCE = "default"

log = logging.getLogger(__name__)


_FIELD_NAMES: Dict[Any, Any] = {}  # settings dataclass -> its field names
_CREDENTIAL_KEYS = ("access_key", "secret_key")
_ENDPOINT_KEYS = ("put_url", "mgr_url", "ishttps", "isverify", "download_url", "download_domains")


class Config:
    """Settings of one client. Attributes are the ``.wcscfg`` keys (see ``DEFAULTS``).

    Args:
        path: a ``.wcscfg`` file to read (as the official ``Config(configfile)``); by default
            ``~/.wcscfg`` when it exists; None keeps the defaults.
        profile: the section to read instead of ``[default]`` (e.g. ``"work"`` for ``[work]``).
        **overrides: key values applied after the file.

    Raises:
        ConfigError: the file cannot be read, a line in it is not ``key = value`` (a bad value only
            warns; see the module docstring), or it has no section for ``profile``.
        InvalidArgument: an override names an unknown key or has a bad value.
    """

    def __init__(self, path: Any = HOME_FILE, profile: Optional[str] = None, **overrides: Any) -> None:
        object.__setattr__(self, "_values", dict(DEFAULTS))
        object.__setattr__(self, "_problems", {})  # key -> (raw text, message, file, line)
        object.__setattr__(self, "_sources", {})  # key -> where its value came from (absent: the default)
        object.__setattr__(self, "_snapshots", {})  # dataclass -> (the values it was made of, it): see _snapshot
        object.__setattr__(self, "path", None)
        object.__setattr__(self, "profile", None if profile is None or is_default_section(profile) else profile)
        if "configfile" in overrides:  # the official SDK's keyword
            path = overrides.pop("configfile")
        if path is HOME_FILE:
            home = os.path.expanduser(DEFAULT_PATH)
            path = home if os.path.exists(home) else None
            if path is None and self.profile is not None:
                raise ConfigError("profile %r needs a config file: there is none at %s" % (self.profile, home))
        if path is not None:
            self.read_config_file(path)
        self.update(**overrides)

    @classmethod
    def load(cls, path: Optional[str] = None, environ: Optional[Mapping[str, str]] = None,
             profile: Optional[str] = None, **overrides: Any) -> "Config":
        """File, then ``WCS_*`` environment, then overrides.

        The file is ``path``, else ``$WCS_CONFIG_FILE``, else ``~/.wcscfg`` when it exists (a named
        file must exist); its section is ``profile``'s, else ``$WCS_PROFILE``'s, else ``[default]``.
        """
        env = os.environ if environ is None else environ
        path = path or env.get(CONFIG_FILE_VARIABLE) or None
        profile = profile or env.get(PROFILE_VARIABLE) or None
        cfg = cls(HOME_FILE if path is None else path, profile=profile)
        for name, key in ENVIRONMENT.items():
            if env.get(name):
                cfg._values[key] = coerce(key, env[name])
                cfg._problems.pop(key, None)
                cfg._sources[key] = "environment %s" % name
        cfg.update(**overrides)
        return cfg

    def source(self, key: str) -> str:
        """Where the value of ``key`` came from: ``default``, ``file PATH``, ``profile NAME (PATH)``,
        ``environment WCS_...``, ``argument`` (set on the object), or what :meth:`set_source` said."""
        if key not in DEFAULTS:
            raise InvalidArgument("unknown configuration key %r" % key)
        return self._sources.get(key, DEFAULT_SOURCE)

    def set_source(self, key: str, source: str) -> None:
        """Record where the current value of ``key`` came from (e.g. ``flag --put-url``)."""
        self.source(key)
        self._sources[key] = source

    def read_config_file(self, configfile: str) -> None:
        """Read ``configfile`` (its ``[default]`` section, or the profile's) over the current values;
        log a warning when other users may read or write it (it holds the secret key)."""
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
        where = "file %s" % path if self.profile is None else "profile %s (%s)" % (self.profile, path)
        for key, value, lineno in read_entries(text, path, self.profile):
            self._sources[key] = where
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
        if not self._problems:  # the usual case, checked at every call of the facade
            return self
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

    def dump_config(self, stream: IO[str], sources: bool = False) -> None:
        """Write every key in the ``.wcscfg`` format; :class:`Config` reads it back identically
        (a bad value from the file is written as it was given, so it stays reported).

        Args:
            sources: precede each value that is not the default with a ``# from ...`` comment
                saying where it came from (:meth:`source`). The section is the profile's.
        """
        stream.write("[%s]\n" % (self.profile or SECTION))
        for key, value in self._values.items():
            raw = self.raw(key)
            if sources and key in self._sources:
                stream.write("# from %s\n" % self._sources[key])
            stream.write("%s = %s\n" % (key, format_value(str(value) if raw is None else raw)))

    # -- the typed pieces the services are built from (snapshots: later changes need a new call) --

    @property
    def credentials(self) -> settings.Credentials:
        return self._made("credentials", _CREDENTIAL_KEYS,
                          lambda v: settings.Credentials(v["access_key"], v["secret_key"]))

    @property
    def endpoints(self) -> settings.Endpoints:
        return self._made("endpoints", _ENDPOINT_KEYS, lambda v: settings.Endpoints(
            v["put_url"], v["mgr_url"], https=v["ishttps"], verify=v["isverify"], download_url=v["download_url"],
            download_domains=settings.parse_domains(v["download_domains"])))

    @property
    def transfer(self) -> settings.TransferConfig:
        return self._snapshot(settings.TransferConfig)

    @property
    def policy(self) -> settings.PolicyDefaults:
        return self._snapshot(settings.PolicyDefaults)

    @property
    def jobs(self) -> settings.JobDefaults:
        return self._snapshot(settings.JobDefaults)

    def _snapshot(self, cls: Any) -> Any:
        """``settings.from_values(cls, ...)``, made again only when one of its values changed (:meth:`_made`)."""
        names = _FIELD_NAMES.get(cls)
        if names is None:
            names = _FIELD_NAMES[cls] = tuple(item.name for item in dataclasses.fields(cls))
        return self._made(cls, names, lambda values: settings.from_values(cls, values))

    def _made(self, what: Any, keys: Tuple[str, ...], make: Callable[[Dict[str, Any]], Any]) -> Any:
        """``make(values)``, made again only when one of ``keys`` changed value: the official calls
        build their services from the config at every call (a change between two calls applies to
        the second), and validating every field each time cost more than a small upload's own work.
        What is made is a frozen dataclass, so one made earlier can be shared."""
        values = self._values
        key = tuple(map(values.get, keys))
        found = self._snapshots.get(what)
        if found is not None and found[0] == key:
            return found[1]
        made = make(values)
        self._snapshots[what] = (key, made)
        return made

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
        self._sources[name] = "argument"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Config) and self._values == other._values

    def __repr__(self) -> str:
        shown = {k: ("<hidden>" if k in SECRET_KEYS and v else v) for k, v in self._values.items()}
        return "Config(%s)" % ", ".join("%s=%r" % kv for kv in shown.items())

    def __deepcopy__(self, memo: dict) -> "Config":
        clone = Config(None)
        clone._values.update(self._values)
        clone._problems.update(self._problems)
        clone._sources.update(self._sources)
        object.__setattr__(clone, "path", self.path)
        object.__setattr__(clone, "profile", self.profile)
        return clone


__all__ = ["CONFIG_FILE_VARIABLE", "Config", "DEFAULTS", "DEFAULT_PATH", "HOME_FILE", "HTTP_KEYS", "JOB_KEYS",
           "POLICY_KEYS", "PROFILE_VARIABLE", "TRANSFER_KEYS", "base_url", "coerce", "parse", "read_entries"]
