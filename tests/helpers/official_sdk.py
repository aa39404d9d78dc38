"""Cached virtualenvs for running another SDK beside ours: the official ``wcs-python3-sdk`` and a clean one for us.

Both live under ``~/.cache/wcs-tests/`` and are built once from the running interpreter, then reused while a
check import still works. Test processes run side by side (xdist, several checkouts): a venv is built
under an exclusive ``flock`` of ``<venv>.lock`` next to it, and whoever waited on the lock checks again
before building, so it is built once and never cleared under a process that is installing into it.

The official package imports as ``wcs`` too, so whoever runs it must use
:func:`official_python` from a directory outside this repository and without ``PYTHONPATH``
(see :func:`clean_env`). Used by ``tests/emulator/test_official_sdk.py`` and the benchmarks
(``python -m tests.bench``).
"""

import fcntl
import os
import subprocess
import sys
from typing import Callable, Dict, Optional, Sequence

CACHE = os.path.join(os.path.expanduser("~"), ".cache", "wcs-tests")
VENV = os.path.join(CACHE, "official-venv")
OFFICIAL_VERSION = "5.0.36"
PACKAGES = ["wcs-python3-sdk==%s" % OFFICIAL_VERSION, "chardet"]  # chardet: used by its wcscmd, undeclared
OURS_VENV = os.path.join(CACHE, "ours-venv")
# setup.py install_requires
OURS_PACKAGES = ["requests>=2.25", "requests-toolbelt>=0.9.1", "tqdm>=4.58", "fastcrc>=0.4"]


class VenvUnavailable(RuntimeError):
    """The virtualenv could not be built (typically: no network for pip)."""


def clean_env() -> Dict[str, str]:
    """The current environment without PYTHONPATH/PYTHONHOME, so a venv sees only its own packages."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}


def build_venv(path: str, packages: Sequence[str]) -> None:
    """Create (or clear and recreate) a venv at ``path`` and ``pip install`` ``packages`` into it.

    Raises:
        VenvUnavailable: venv creation or ``pip install`` failed.
    """
    python = os.path.join(path, "bin", "python")
    try:
        subprocess.run([sys.executable, "-m", "venv", "--clear", path], check=True, capture_output=True,
                       timeout=300)
        subprocess.run([python, "-m", "pip", "install", "-q"] + list(packages), check=True, capture_output=True,
                       timeout=600, env=clean_env())
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
        detail = (getattr(exc, "stderr", b"") or b"").decode(errors="replace")[-300:]
        raise VenvUnavailable("cannot install %s into %s (no network?): %s %s"
                              % (" ".join(packages), path, exc, detail)) from None


def cached_venv(path: str, packages: Sequence[str], check: str,
                build: Optional[Callable[[str, Sequence[str]], None]] = None) -> str:
    """The python of a venv at ``path`` holding ``packages``; built (or rebuilt) by ``build`` (default
    :func:`build_venv`) unless ``check`` imports, once however many processes ask at the same time.

    Raises:
        VenvUnavailable: the build failed, or ``check`` still fails afterwards.
    """
    python = os.path.join(path, "bin", "python")
    probe = [python, "-c", check]

    def works() -> bool:
        return os.path.exists(python) and \
            subprocess.run(probe, capture_output=True, cwd="/", env=clean_env()).returncode == 0

    if works():
        return python
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path + ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, also if this process dies
        if not works():  # whoever held the lock may have built it meanwhile
            (build or build_venv)(path, packages)
            if not works():
                raise VenvUnavailable("%s installed into %s but `%s` fails" % (" ".join(packages), path, check))
    return python


def official_python() -> str:
    """Python of the venv holding the official SDK (``import wcs`` there is the official package)."""
    return cached_venv(VENV, PACKAGES, "import wcs.services.client, yaml, crcmod, requests_toolbelt, chardet")


def official_script(name: str) -> str:
    """Path of a script the official wheel installed (``wcscmd``, ``wcs_etag_cal``); run it with
    :func:`official_python` (its ``wcscmd`` has a ``#!/usr/bin/python`` line and no execute bit)."""
    return os.path.join(VENV, "bin", name)


def ours_python() -> str:
    """Python of a clean venv with only our runtime dependencies; put this checkout on ``sys.path`` to use it.

    Our package is deliberately not installed there (an editable install adds an import hook to every
    start-up), so start-up costs compare like for like with :func:`official_python`.
    """
    return cached_venv(OURS_VENV, OURS_PACKAGES, "import requests, requests_toolbelt, tqdm, fastcrc.crc64")
