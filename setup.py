"""Packaging for wcs-python-sdk: the ``wcs`` library, ``wcscmd``, ``wcs_etag_cal`` and ``wcs-emulator``."""

import re
from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent
VERSION = re.search(r'^__version__ = "([^"]+)"', (HERE / "wcs" / "__init__.py").read_text(), re.M).group(1)

# werkzeug >= 2.3: its multipart decoder limits only text fields to max_form_memory_size (2.2 applied it to
# file parts too, so a form upload over 16 MiB failed); Python 3.8 gets 3.0.x.
EMULATOR = ["werkzeug>=2.3"]

setup(
    name="wcs-python-sdk",
    version=VERSION,
    description="Python SDK, CLI and local emulator for Wangsu / CDNetworks Cloud Storage (WCS)",
    long_description=(HERE / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license="MIT",
    python_requires=">=3.8",
    packages=find_packages(include=["wcs", "wcs.*"]),
    package_data={"wcs": ["py.typed"], "wcs.emulator": ["README.md"]},
    # fastcrc >= 0.4: SIMD CRC-64 that reads any bytes-like object in place; wheels for CPython 3.8+ on
    # Linux (glibc and musl), macOS and Windows, so crc64 needs no compiler and no pure-Python fallback.
    install_requires=["requests>=2.25", "requests-toolbelt>=0.9.1", "tqdm>=4.50", "fastcrc>=0.4"],
    extras_require={
        "emulator": EMULATOR,
        "test": EMULATOR + ["pytest>=7", "pytest-timeout>=2"],
    },
    entry_points={
        "console_scripts": [
            "wcscmd = wcs.cli.wcscmd:main",
            "wcs_etag_cal = wcs.cli.etag_cal:main",
            "wcs_crc64_cal = wcs.cli.crc64_cal:main",
            "wcs-emulator = wcs.emulator.cli:main",
        ],
    },
    classifiers=[
        "License :: OSI Approved :: MIT License",
        "Programming Language :: Python :: 3",
        "Programming Language :: Python :: 3 :: Only",
        "Topic :: System :: Archiving :: Backup",
    ],
)
