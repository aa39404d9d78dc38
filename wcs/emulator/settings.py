"""Bounds of the emulator's endpoints and jobs that a deployment may want to change, with their defaults.

Each can be set by an environment variable, read when an emulator starts (:meth:`Settings.from_env`):

* ``WCS_EMULATOR_SPOOL_BEFORE_TOKEN`` (bytes, default 8 MiB): how much of a form's file part is spooled
  before a valid token has been seen; past it the upload is refused (413). The vendor's browser SDK
  sends the file before the token for forms of up to 4 MiB, hence twice that.
* ``WCS_EMULATOR_FETCH_TIMEOUT`` (seconds, default 300): the whole of one ``fmgr/fetch`` download,
  however steadily the origin trickles.
* ``WCS_EMULATOR_FETCH_MAX_BYTES`` (default 1 GiB): the largest object ``fmgr/fetch`` stores.
* ``WCS_EMULATOR_FETCH_WORKERS`` (default 4): fetches run at once, on threads of their own so that
  other jobs never wait behind them.
* ``WCS_EMULATOR_RESTORE_DELAY`` (seconds, default 3; 0 allowed): how long ``/restore`` of an Archive
  object stays in progress (the service takes minutes or hours; a few seconds let tests and demos wait).
* ``WCS_EMULATOR_RESTORE_DAY_SECONDS`` (default 86400): the length of the "day" of ``/restore/.../days/<n>``,
  shorter in tests that watch a restore expire.
"""

import os
from dataclasses import dataclass, fields
from typing import Any, Dict, Mapping, Optional

_ENV = {"spool_before_token": "WCS_EMULATOR_SPOOL_BEFORE_TOKEN", "fetch_timeout": "WCS_EMULATOR_FETCH_TIMEOUT",
        "fetch_max_bytes": "WCS_EMULATOR_FETCH_MAX_BYTES", "fetch_workers": "WCS_EMULATOR_FETCH_WORKERS",
        "restore_delay": "WCS_EMULATOR_RESTORE_DELAY", "restore_day_seconds": "WCS_EMULATOR_RESTORE_DAY_SECONDS"}
ENV_NAMES = dict(_ENV)
"""Field -> the environment variable that sets it."""
_FLOATS = ("fetch_timeout", "restore_delay", "restore_day_seconds")
_MAY_BE_ZERO = ("restore_delay",)


@dataclass(frozen=True)
class Settings:
    """Validated when made (ValueError)."""

    spool_before_token: int = 8 * 1024 * 1024
    fetch_timeout: float = 300.0
    fetch_max_bytes: int = 1024 * 1024 * 1024
    fetch_workers: int = 4
    restore_delay: float = 3.0
    restore_day_seconds: float = 86400.0

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
                raise ValueError("%s must be a number, not %r" % (field.name, value))
            if not (value >= 0 if field.name in _MAY_BE_ZERO else value > 0) or value == float("inf"):
                raise ValueError("%s must be a %s number, not %r"
                                 % (field.name, "finite, non-negative" if field.name in _MAY_BE_ZERO
                                    else "finite, positive", value))
        if self.fetch_workers != int(self.fetch_workers):
            raise ValueError("fetch_workers must be a whole number, not %r" % self.fetch_workers)

    @classmethod
    def from_env(cls, environ: Optional[Mapping[str, str]] = None) -> "Settings":
        """The defaults, overridden by the ``WCS_EMULATOR_*`` variables of ``environ`` (``os.environ``)."""
        environ = os.environ if environ is None else environ
        values: Dict[str, Any] = {}
        for field in fields(cls):
            text = environ.get(_ENV[field.name], "").strip()
            if not text:
                continue
            kind = float if field.name in _FLOATS else int
            try:
                values[field.name] = kind(text)
            except ValueError:
                raise ValueError("%s=%r is not a number" % (_ENV[field.name], text)) from None
        return cls(**values)
