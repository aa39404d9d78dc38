"""Python SDK, command-line tools and local emulator for Wangsu / CDNetworks Cloud Storage (WCS)."""

import logging

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())


def __getattr__(name):
    # Lazy so that `import wcs` (and the CLI's --help) stays cheap: requests is only loaded on use.
    if name == "Config":
        from wcs.commons.config import Config

        return Config
    if name == "Client":
        from wcs.services.client import Client

        return Client
    if name in ("etag", "etag_stream"):
        from wcs.commons import util

        return getattr(util, name)
    if name in _ERRORS:
        from wcs.commons import errors

        return getattr(errors, name)
    raise AttributeError("module 'wcs' has no attribute %r" % name)


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

__all__ = ["__version__", "Config", "Client", "etag", "etag_stream", *_ERRORS]
