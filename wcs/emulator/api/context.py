"""What every endpoint family is bound to: the store, the job queue, the key pair, the base URL, the
:class:`~wcs.emulator.settings.Settings`, and the two token checks (upload token, management signature
over the raw target and body), each with the algorithm the request's ``encryption-type`` header names."""

from typing import Any, Callable, Dict, Optional, Tuple

from werkzeug.wrappers import Request

from wcs.commons.auth import ENCRYPTION_TYPE_HEADER
from wcs.emulator.api.wire import parse_kv, raw_target
from wcs.emulator.errors import BodyTooLarge, BucketNotExist
from wcs.emulator.jobs import JobManager
from wcs.emulator.routes import download_url
from wcs.emulator.settings import Settings
from wcs.emulator.state import Store
from wcs.emulator.verify import split_scope, verify_manager_token, verify_upload_token

MAX_MGR_BODY = 16 * 1024 * 1024
"""Management bodies are small ``k=v`` strings; anything bigger is refused rather than buffered."""


class Context:
    """One emulator as its endpoints see it."""

    def __init__(self, store: Store, jobs: JobManager, access_key: str, secret_key: str,
                 base_url: Callable[[], str], settings: Optional[Settings] = None) -> None:
        self.store = store
        self.jobs = jobs
        self.access_key = access_key
        self.secret_key = secret_key
        self.base_url = base_url
        self.settings = settings or Settings.from_env()

    def url_of(self, bucket: str, key: str) -> str:
        return download_url(self.base_url(), bucket, key)

    def upload_policy(self, token: Any, encryption_type: Optional[str] = None) -> Dict[str, Any]:
        """The put policy of a valid upload token (401 otherwise); ``encryption_type``: the header's value."""
        return verify_upload_token(token, self.access_key, self.secret_key, encryption_type=encryption_type)

    def upload_checker(self, request: Request) -> Callable[[Any], Dict[str, Any]]:
        """:meth:`upload_policy` with the algorithm ``request``'s ``encryption-type`` header names."""
        encryption_type = request.headers.get(ENCRYPTION_TYPE_HEADER)
        return lambda token: self.upload_policy(token, encryption_type)

    def upload_bucket(self, policy: Dict[str, Any]) -> str:
        """The bucket of an upload policy's scope; 631 when it does not exist (upload paths)."""
        bucket, _ = split_scope(policy)
        if not self.store.bucket_exists(bucket):
            raise BucketNotExist()
        return bucket

    def mgr_body(self, request: Request) -> Tuple[bytes, Dict[str, str]]:
        """Check the management token over the raw target and body; returns the body and its pairs."""
        body = request.stream.read(MAX_MGR_BODY + 1) if request.method == "POST" else b""
        if len(body) > MAX_MGR_BODY:
            raise BodyTooLarge("request body too large")
        path, query = raw_target(request.environ)
        verify_manager_token(request.headers.get("Authorization"), self.access_key, self.secret_key,
                             path, query, body, request.headers.get(ENCRYPTION_TYPE_HEADER))
        return body, parse_kv(body) if body else {}
