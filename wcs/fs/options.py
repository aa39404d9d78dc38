"""How a ``WcsFileSystem`` is configured from its storage options, and the entries its listings return.

Storage options are the ``.wcscfg`` keys (``access_key``, ``secret_key``, ``put_url``, ``mgr_url``,
``download_url``, ``block_size``...) over the same defaults as :class:`~wcs.services.client.Client`:
``config`` may name a ``.wcscfg`` file (else ``~/.wcscfg`` when it exists), then the ``WCS_*``
environment, then the options given (:meth:`Config.load`). ``config`` may also be a
:class:`~wcs.commons.config.Config`, or a dict of keys taken as the whole configuration (no file,
no environment): that is how a filesystem travels to other processes (dask workers), so that every
worker uses exactly the settings of the process that made it.
"""

import os
from datetime import datetime, timezone
from typing import Any, Dict, Mapping, Optional, Tuple

from wcs.commons.config import DEFAULTS, Config
from wcs.commons.errors import InvalidArgument
from wcs.commons.result import ObjectInfo

FSSPEC_OPTIONS = ("use_listings_cache", "listings_expiry_time", "max_paths")
"""Options fsspec's own machinery takes (the listings cache); everything else is a configuration key."""

Entry = Dict[str, Any]


def split_options(options: Dict[str, Any]) -> Tuple[Dict[str, Any], Dict[str, Any]]:
    """``(fsspec's options, configuration keys)`` of the keyword arguments of a filesystem."""
    fsspec_options = {name: options[name] for name in FSSPEC_OPTIONS if name in options}
    keys = {name: value for name, value in options.items() if name not in FSSPEC_OPTIONS}
    return fsspec_options, keys


def build_config(config: Any, keys: Mapping[str, Any]) -> Config:
    """The configuration of a filesystem (see the module docstring).

    Raises:
        ConfigError: the ``.wcscfg`` file named cannot be read or is malformed.
        InvalidArgument: an option is not a configuration key, or its value is bad.
    """
    unknown = sorted(name for name in keys if name not in DEFAULTS)
    if unknown:
        raise InvalidArgument("unknown storage option(s) for wcs://: %s (the options are the .wcscfg keys, "
                              "'config', and fsspec's %s)" % (", ".join(unknown), ", ".join(FSSPEC_OPTIONS)))
    if isinstance(config, Config):
        return config.replace(**keys)
    if isinstance(config, Mapping):
        return Config(**dict(config, **keys))
    path: Optional[str] = None if config is None else os.fspath(config)
    return Config.load(path, **keys)


def portable_config(cfg: Config) -> Dict[str, Any]:
    """The keys of ``cfg`` that differ from the defaults: what rebuilds it in another process."""
    return {name: value for name, value in cfg.as_dict().items() if value != DEFAULTS[name]}


# -- listing entries ------------------------------------------------------------------------------------


def directory_entry(name: str) -> Entry:
    """A bucket or a pseudo-directory (a prefix that objects' keys share up to a ``/``)."""
    return {"name": name, "size": 0, "type": "directory"}


def file_entry(bucket: str, info: ObjectInfo) -> Entry:
    """An object: fsspec's ``name``/``size``/``type``, and its etag, content type and upload time."""
    mtime = None
    if info.put_time is not None:
        mtime = datetime.fromtimestamp(info.put_time / 1000.0, tz=timezone.utc)
    return {"name": "%s/%s" % (bucket, info.key), "size": info.size, "type": "file", "etag": info.hash,
            "mime_type": info.mime_type, "put_time": info.put_time, "mtime": mtime,
            "storage_class": info.storage_class}
