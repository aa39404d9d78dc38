"""The emulator's endpoints, one module per family, each a class whose methods take a werkzeug
``Request`` (plus the values of the route's path) and return a ``Response``.

Endpoints check tokens, translate wire encodings (URL-safe Base64 entries, ``k=v&`` bodies, ctx values)
and call :mod:`wcs.emulator.state` / :mod:`wcs.emulator.jobs`. They raise an
:class:`~wcs.emulator.errors.ApiError` subclass for every failure; the app in :mod:`wcs.emulator.app`
turns it into the JSON error body. Bodies are streamed, so memory does not grow with object size.

Families: :mod:`~.upload` (form upload), :mod:`~.append` (append upload), :mod:`~.blocks` (mkblk /
bput / mkfile, with :mod:`~.chunks` receiving the bytes), :mod:`~.manage` (stat, delete, move, copy,
setdeadline, list, bucket and wslive queries; :mod:`~.usage` answers the bucket figures),
:mod:`~.storage_class` (converttype, restore), :mod:`~.mirror` (prefetch), :mod:`~.jobs` (fmgr / fops
submission and status), :mod:`~.download` (with :mod:`~.media` for ``?op=imageInfo`` ...),
:mod:`~.detect` (image moderation). Shared: :mod:`~.context` (what the families are bound to, token
checks), :mod:`~.wire` (parameter and body encodings), :mod:`~.policy` (what a put policy does after an
upload), :mod:`~.objectview` (the fields of an object beyond the common ones).
"""

from typing import Any, Callable, Dict, Optional, Tuple

from werkzeug.wrappers import Response

from wcs.emulator.api.append import AppendApi
from wcs.emulator.api.blocks import BlocksApi, OnMkblk
from wcs.emulator.api.context import Context
from wcs.emulator.api.detect import DetectApi
from wcs.emulator.api.download import DownloadApi
from wcs.emulator.api.jobs import JobsApi
from wcs.emulator.api.manage import ManageApi
from wcs.emulator.api.mirror import MirrorApi
from wcs.emulator.api.storage_class import StorageClassApi
from wcs.emulator.api.upload import UploadApi

Endpoint = Callable[..., Response]


def bind_endpoints(ctx: Context, on_mkblk: Optional[OnMkblk] = None) -> Dict[str, Endpoint]:
    """Endpoint name (as in :mod:`wcs.emulator.routes`) -> the method of a family bound to ``ctx``."""
    families: Tuple[Any, ...] = (UploadApi(ctx), AppendApi(ctx), BlocksApi(ctx, on_mkblk), ManageApi(ctx),
                                 StorageClassApi(ctx), MirrorApi(ctx), JobsApi(ctx), DownloadApi(ctx),
                                 DetectApi(ctx))
    return {name: getattr(family, name) for family in families for name in family.endpoints}


__all__ = ["Context", "Endpoint", "bind_endpoints"]
