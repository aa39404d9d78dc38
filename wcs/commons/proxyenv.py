"""The proxy settings of the environment, read once per HTTP client instead of at every request."""

import os
import threading
from typing import Dict, Optional, Tuple
from urllib.parse import urlsplit

import requests


class ProxyEnvironment:
    """What requests reads from the environment at every call when a session trusts it, read once.

    ``HTTP_PROXY``, ``HTTPS_PROXY``, ``ALL_PROXY`` (and the system's proxy settings where Python reads
    them) when built; whether ``NO_PROXY`` exempts a host, decided by requests' own rule at the first
    request to that host and remembered; ``REQUESTS_CA_BUNDLE`` / ``CURL_CA_BUNDLE`` when built. The
    answers are requests' own: the session only stops looking them up per call (about 80 us each, most
    of it walking ``os.environ`` twice). ``~/.netrc`` is not read: a WCS request carries its own
    credentials, and requests would put the file's over them.
    """

    def __init__(self) -> None:
        self.proxies: Dict[str, str] = dict(requests.utils.getproxies())
        self.ca_bundle: Optional[str] = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") \
            or None
        self._bypass: Dict[Tuple[str, str], bool] = {}
        self._lock = threading.Lock()

    def proxies_for(self, url: str) -> Dict[str, str]:
        """The ``proxies`` of a request to ``url`` (empty: straight to the host)."""
        if not self.proxies:
            return {}
        parts = urlsplit(url)
        key = (parts.scheme, parts.netloc)
        bypass = self._bypass.get(key)
        if bypass is None:
            bypass = requests.utils.should_bypass_proxies(url, no_proxy=None)
            with self._lock:
                self._bypass[key] = bypass
        return {} if bypass else self.proxies
