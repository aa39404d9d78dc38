"""The official ``MgrBase(auth, mgr_url)``: what the official management classes share.

:class:`MgrBase` holds the official attributes (``auth``, ``mgr_host``) and helpers, and a
:class:`~wcs.services.client.Client` of its own for the requests (see :mod:`wcs.services.adapters`).
"""

from typing import Any, Dict, List, Mapping, Optional, Union

from wcs.commons.auth import Auth
from wcs.commons.config import Config
from wcs.services.adapters import ClientView, official_client


class MgrBase(ClientView):
    """Base of the official management classes.

    Args:
        auth: the signer.
        mgr_url: the management host (a scheme is added per ``ishttps`` when it has none).
        cfg: the other settings (default ``Config()``: ``~/.wcscfg``, as the official reads its global one).
    """

    def __init__(self, auth: Auth, mgr_url: str, cfg: Optional[Config] = None) -> None:
        self.auth = auth
        self.mgr_host = mgr_url
        self.client = official_client(cfg, auth, mgr_url=mgr_url)


    def _gernerate_headers(self, url: str, body: Optional[str] = None) -> Dict[str, str]:
        """``{"Authorization": <management token>}`` for ``url`` and ``body`` (the official helper)."""
        return {"Authorization": self.auth.managertoken(url, body=body)}

    def _params_parse(self, params: Optional[Mapping[str, Any]]) -> Union[str, List[str]]:
        """``k=v&k=v`` of ``params`` as given (values not encoded), ``[]`` for none, as the official helper."""
        if not params:
            return []
        return "&".join("%s=%s" % (k, v) for k, v in params.items())
