"""The official ``wcs.commons.compat`` names: Python 2/3 helpers (this package runs on Python 3 only)."""

import io
import json
import sys
from typing import Any, Union
from urllib.parse import urlparse

is_py2 = False
is_py3 = sys.version_info[0] == 3
StringIO = io.StringIO
BytesIO = io.BytesIO
builtin_str = str
basestring = (str, bytes)
numeric_types = (int, float)


def b(data: Union[str, bytes]) -> bytes:
    """Text as UTF-8 bytes; bytes unchanged."""
    return data.encode("utf-8") if isinstance(data, str) else data


def s(data: Union[str, bytes]) -> str:
    """UTF-8 bytes as text; text unchanged."""
    return data.decode("utf-8") if isinstance(data, bytes) else data


def u(data: Any) -> Any:
    return data


__all__ = ["BytesIO", "StringIO", "b", "basestring", "builtin_str", "is_py2", "is_py3", "json", "numeric_types",
           "s", "u", "urlparse"]
