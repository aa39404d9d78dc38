"""What the classes at the official module paths share (``SimpleUpload(url)``, ``BucketManager(auth, url)``...).

The official modules are adapters at the edge: they import the facade and the engine services,
and nothing in the engine or the facade imports them (``import wcs.services.client`` does not load
them). Each official object is a thin view of this package's services: it gets a
:class:`~wcs.services.client.Client` of its own, built from a Config (by default ``Config()``, i.e.
``~/.wcscfg``, where the official SDK reads its global one) with the host the official constructor
names, and signs with the ``Auth`` it was given. An upload token made by the caller is read for
what the uploaders must know about it: the ``bucket:key`` scope and whether the answer is the
service's own (no ``returnUrl``/``returnBody``/``callbackUrl``).
"""

from typing import Any, NamedTuple, Optional

from wcs.commons.auth import Auth, upload_token_policy
from wcs.commons.config import Config
from wcs.commons.settings import PolicyDefaults
from wcs.services.client import Client


def official_client(cfg: Optional[Config] = None, auth: Optional[Auth] = None, **urls: Optional[str]) -> Client:
    """A Client on ``cfg`` (default ``Config()``) with the given ``put_url``/``mgr_url`` and signer."""
    base = Config() if cfg is None else cfg
    client = Client(base.replace(**{name: url for name, url in urls.items() if url is not None}))
    if auth is not None:
        client.auth = auth
    return client


class ClientView:
    """Base of the official objects: owns its ``client``, closed by :meth:`close` or by ``with``."""

    client: Client

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()


class UploadView(ClientView):
    """Base of the official uploaders, built on the upload host ``url``.

    Args:
        url: the upload host (a scheme is added per ``ishttps`` when it has none).
        cfg: the other settings (default ``Config()``: ``~/.wcscfg``, as the official reads its global one).
    """

    def __init__(self, url: str, cfg: Optional[Config] = None) -> None:
        self.url = url
        self.client = official_client(cfg, put_url=url)
        self.cfg = self.client.cfg


class TokenInfo(NamedTuple):
    """What an upload token says: its scope and the policy fields that shape the answer."""

    bucket: str
    key: str
    policy: PolicyDefaults


def token_info(token: str) -> TokenInfo:
    """The scope and answer-shaping fields of an upload token (empty when it cannot be read)."""
    policy = upload_token_policy(token)
    bucket, _, key = str(policy.get("scope") or "").partition(":")

    def text(name: str) -> Any:
        return str(policy.get(name) or "")

    return TokenInfo(bucket, key, PolicyDefaults(returnUrl=text("returnUrl"), returnBody=text("returnBody"),
                                                 callbackUrl=text("callbackUrl"), callbackBody=text("callbackBody")))
