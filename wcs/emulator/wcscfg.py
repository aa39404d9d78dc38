"""The ``.wcscfg`` that points a client (``wcscmd``, the SDK's ``Config``) at an emulator."""

import os

from wcs.commons.fsutil import atomic_write


def config_text(access_key: str, secret_key: str, url: str) -> str:
    """A ``[default]`` section with the key pair, both endpoints and the download origin at ``url``, ``ishttps``."""
    return ("[default]\naccess_key = %s\nsecret_key = %s\nput_url = %s\nmgr_url = %s\nishttps = %s\n"
            "download_url = %s/{bucket}\n" % (access_key, secret_key, url, url, url.startswith("https:"), url))


def write_config(path: str, text: str) -> str:
    """Write ``text`` to ``path`` (``~`` expanded, folders made) all-or-nothing with mode 0600: it holds
    the secret key. Returns the path written."""
    path = os.path.expanduser(path)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with atomic_write(path, private=True) as fp:
        fp.write(text)
    return path
