"""Packaging for wcs-storage-sdk: the ``wcs`` library, ``wcscmd``, the file tools and ``wcs-emulator``.

The distribution name is our own (``wcs-python-sdk``, ``wcs-python3-sdk``, ``wcscmd`` and ``wcscmd3`` are
the official packages on PyPI); the import package is ``wcs``, as the official one.
"""

import re
from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent
VERSION = re.search(r'^__version__ = "([^"]+)"', (HERE / "wcs" / "_version.py").read_text(), re.M).group(1)

# werkzeug >= 2.3: its multipart decoder limits only text fields to max_form_memory_size (2.2 applied it to
# file parts too, so a form upload over 16 MiB failed); Python 3.8 gets 3.0.x.
# Pillow: the emulator's ?op=imageInfo / ?op=exif read image headers with it (wheels for every CPython the
# project supports: 10.4 is the last for 3.8, pip picks it there). The emulator runs without it and
# answers those ops with a 400 saying so.
EMULATOR = ["werkzeug>=2.3", "Pillow>=9.1"]
# wcs:// for pandas, pyarrow and dask (wcs.fs). fsspec's current releases need Python >= 3.10 (pip picks
# an older one on 3.8/3.9); the SDK itself stays on 3.8.
FSSPEC = ["fsspec>=2023.1"]
# The data-stack round trips of tests/fsspec (pandas and pyarrow need Python >= 3.9/3.10 in current releases;
# on older Pythons pip resolves older ones, or those tests are skipped).
DATA_STACK = FSSPEC + ["pandas>=1.5", "pyarrow>=10", "dask[dataframe]>=2023.1"]
# HMAC-SM3 signing (encryption_type = SM3) where the interpreter's OpenSSL has no SM3 (builds without it,
# FIPS mode): gmssl's SM3 is pure Python (a universal wheel; it pulls pycryptodomex, wheels everywhere, for
# its SM4); with OpenSSL's SM3 it is never imported.
SM3 = ["gmssl>=3.2"]
# The migration tests (tests/functional/test_migrate_s3.py, tests/reliability/test_migrate_kill.py): moto's
# standalone S3 server as the source and s3fs as the user's filesystem for s3:// (it brings aiobotocore and
# aiohttp, which fsspec's http:// filesystem uses too). s3fs pins aiobotocore, which pins botocore to a
# range that includes the boto3 moto brings; the SDK itself needs neither (a user installs the
# filesystem of the store they migrate from).
MIGRATION_TESTS = ["s3fs>=2023.1", "moto[server]>=5"]

setup(
    name="wcs-storage-sdk",
    version=VERSION,
    description="Python SDK, CLI and local emulator for Wangsu / CDNetworks Cloud Storage (WCS)",
    long_description=(HERE / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license="MIT",
    python_requires=">=3.8",
    packages=find_packages(include=["wcs", "wcs.*"]),
    package_data={"wcs": ["py.typed"]},
    # fastcrc >= 0.4: SIMD CRC-64 that reads any bytes-like object in place; wheels for CPython 3.8+ on
    # Linux (glibc and musl), macOS and Windows, so crc64 needs no compiler and no pure-Python fallback.
    # tqdm >= 4.58: formats and draws wcscmd's progress line; 4.58 added `delay` (no drawing before the first
    # update, so a bar is first drawn with its total).
    install_requires=["requests>=2.32.2", "requests-toolbelt>=0.9.1", "tqdm>=4.58", "fastcrc>=0.4"],
    extras_require={
        "emulator": EMULATOR,
        "fsspec": FSSPEC,
        "sm3": SM3,
        # gmssl (sm3): the unit tests check the fallback SM3 against the same vectors as OpenSSL's.
        # pytest-xdist: the suite runs in parallel processes (tox.ini addopts), for a default run under a minute.
        # s3fs, moto[server]: see MIGRATION_TESTS.
        # selenium: drives Debian's headless Chromium in the browser upload test (the browser and its driver
        # come from apt, see .ci/run; Selenium Manager is never asked to download one).
        "test": EMULATOR + DATA_STACK + SM3 + MIGRATION_TESTS + ["pytest>=7", "pytest-timeout>=2",
                                                                 "pytest-xdist>=3", "selenium>=4.11"],
    },
    entry_points={
        "console_scripts": [
            "wcscmd = wcs.cli.wcscmd:main",
            "wcs_etag_cal = wcs.cli.etag_cal:main",
            "wcs_crc64_cal = wcs.cli.crc64_cal:main",
            "wcs-emulator = wcs.emulator.cli:main",
        ],
        # fsspec finds the filesystem here: fsspec.filesystem("wcs") and wcs:// URLs need no import.
        "fsspec.specs": ["wcs = wcs.fs:WcsFileSystem"],
    },
    classifiers=[
        "License :: OSI Approved :: MIT License",
        "Programming Language :: Python :: 3",
        "Programming Language :: Python :: 3 :: Only",
        "Topic :: System :: Archiving :: Backup",
    ],
)
