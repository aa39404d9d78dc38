"""Python SDK, command-line tools and local emulator for Wangsu / CDNetworks Cloud Storage (WCS).

The names the official ``wcs`` package exports at its top level are here too (``Client``,
``BucketManager``, ``SimpleUpload``, ``etag``, ``_post``...), loaded on first use.
"""

import logging
from importlib import import_module

from wcs._version import __version__

logging.getLogger(__name__).addHandler(logging.NullHandler())

# name -> module that defines it; imported lazily so that `import wcs` (and the CLI's --help) stays
# cheap: requests is only loaded on use.
_LAZY = {
    "Config": "wcs.commons.config",
    "Client": "wcs.services.client",
    "etag": "wcs.commons.util",
    "etag_stream": "wcs.commons.util",
    "readfile": "wcs.commons.util",
    "file_to_stream": "wcs.commons.util",
    "Auth": "wcs.commons.auth",
    "urlparse": "urllib.parse",
    "_post": "wcs.commons.http",
    "_get": "wcs.commons.http",
    "BucketManager": "wcs.services.filemanager",
    "MgrBase": "wcs.services.mgrbase",
    "PersistentFop": "wcs.services.persistentfop",
    "SimpleUpload": "wcs.services.simpleupload",
    "MultipartUpload": "wcs.services.multipartupload",
    "UploadProgressRecorder": "wcs.services.uploadprogressrecorder",
    "Fmgr": "wcs.services.fmgr",
    "WsLive": "wcs.services.wslive",
}

_ERRORS = (
    "WcsError",
    "ConfigError",
    "InvalidArgument",
    "LocalFileError",
    "ResumeError",
    "ServiceError",
    "NetworkError",
    "IntegrityError",
)


def __getattr__(name):
    module = _LAZY.get(name) or ("wcs.commons.errors" if name in _ERRORS else None)
    if module is None:
        raise AttributeError("module 'wcs' has no attribute %r" % name)
    return getattr(import_module(module), name)


__all__ = ["__version__", *_LAZY, *_ERRORS]
