"""What every method of the :class:`~wcs.services.client.Client` facade is built on: the config, one
HTTP client, one pool, the signer, and the engine services made from them.

The facade is split over a few modules (``client_*``) so that each stays small; each method group
is a subclass of :class:`ClientBase`, which holds everything they use, and the facade class joins
them. The engine modules below never import any of them: they get these services as arguments
(the tree engine, for one, receives its uploaders, downloader, listing, jobs and pool).
"""

from typing import Any, Optional, Tuple

from wcs.commons.auth import Auth
from wcs.commons.config import HTTP_KEYS, POLICY_KEYS, TRANSFER_KEYS, Config
from wcs.commons.http import HttpClient
from wcs.commons.settings import TransferConfig
from wcs.services.bucket import BucketManager
from wcs.services.download import Downloader
from wcs.services.formupload import FormUploader
from wcs.services.jobs import FmgrService, FopsService
from wcs.services.listing import ObjectListing
from wcs.services.scheduler import Scheduler
from wcs.services.uploads import BlockUploader

POOL_SLACK = 4  # connections beyond the pool's threads: the calling thread, a listing's prefetch...


class ClientBase:
    """The plumbing of a client (see :class:`wcs.services.client.Client` for the arguments)."""

    def __init__(self, cfg: Config, http: Optional[HttpClient] = None, *,
                 scheduler: Optional[Scheduler] = None, workers: int = 0) -> None:
        self.cfg = cfg
        self._owns_http = http is None
        if http is None:
            cfg.require(*HTTP_KEYS)  # a bad value in the file fails here, not as a wrong timeout later
        transfer = cfg.transfer
        size = max(transfer.concurrency, int(workers))
        self.http = http if http is not None else HttpClient(
            timeout=transfer.connection_timeout, verify=cfg.isverify, retries=transfer.connection_retries,
            pool_size=max(size, 8), bwlimit=transfer.bwlimit)
        self._owns_scheduler = scheduler is None
        self.scheduler = scheduler.grow(size) if scheduler is not None else Scheduler(size)
        self._fit_pool()
        self._auth: Optional[Auth] = None
        self._made_auth: Optional[Tuple[Tuple[str, str, Any], Auth]] = None
        self._made_form: Optional[Tuple[Tuple[Any, ...], FormUploader]] = None

    def _fit_pool(self) -> Scheduler:
        """The connection pool as large as the thread pool (plus slack) after the latter grew; the scheduler."""
        self.http.grow_pool(self.scheduler.workers + POOL_SLACK)
        return self.scheduler

    def close(self) -> None:
        """Close the connections and the worker threads (only those this object created)."""
        if self._owns_http:
            self.http.close()
        if self._owns_scheduler:
            self.scheduler.close()

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return "Client(put_url=%r, mgr_url=%r)" % (self.cfg.put_url, self.cfg.mgr_url)

    # -- the signer ---------------------------------------------------------------------------

    @property
    def auth(self) -> Auth:
        """The signer: the one assigned to ``client.auth``, else one for the configured keys.

        Raises:
            ConfigError: no signer was assigned and ``access_key`` or ``secret_key`` is not set, or
                ``encryption_type`` is SM3 and this Python cannot compute it.
        """
        if self._auth is not None:
            return self._auth
        creds = self.cfg.credentials.require()
        keys = (creds.access_key, creds.secret_key, self.cfg.encryption_type)
        made = self._made_auth
        if made is None or made[0] != keys:  # the keys of the config of this moment, checked once
            made = self._made_auth = (keys, Auth(keys[0], keys[1], encryption_type=keys[2]))
        return made[1]

    @auth.setter
    def auth(self, value: Auth) -> None:
        self._auth = value

    def _signer(self) -> Optional[Auth]:
        """The signer if keys are known, else None (the service raises when a call needs one)."""
        if self._auth is not None or self.cfg.credentials.complete:
            return self.auth
        return None

    # -- the pool -----------------------------------------------------------------------------

    def scheduler_for(self, transfer: TransferConfig) -> Scheduler:
        """The client's pool as a transfer with these settings uses it: grown to its ``concurrency``
        when that is larger, or (``concurrency = 0``) running its tasks in the calling thread."""
        if transfer.concurrency <= 0:
            return self.scheduler.calling_thread()
        self.scheduler.grow(transfer.concurrency)
        return self._fit_pool()

    def transfers_in_flight(self) -> int:
        """How many parallel transfer tasks (blocks) run right now, e.g. to tell what an interrupt waits for."""
        return self.scheduler.running

    # -- the engine services, built from the config of this moment ---------------------------

    def bucket_manager(self) -> BucketManager:
        return BucketManager(self.http, self.auth, self.cfg.endpoints, self.scheduler)

    def form_uploader(self, transfer: Optional[TransferConfig] = None) -> FormUploader:
        self.cfg.require(*POLICY_KEYS, "traffic_limit")
        parts = (self._signer(), self.cfg.endpoints, transfer or self.cfg.transfer, self.cfg.policy)
        made = self._made_form
        if made is not None and all(old is new for old, new in zip(made[0], parts)):
            return made[1]  # the config did not change since the last call: the same uploader serves
        uploader = FormUploader(self.http, *parts)
        self._made_form = (parts, uploader)
        return uploader

    def block_uploader(self, transfer: Optional[TransferConfig] = None) -> BlockUploader:
        self.cfg.require(*POLICY_KEYS, *TRANSFER_KEYS)
        transfer = transfer or self.cfg.transfer
        return BlockUploader(self.http, self._signer(), self.cfg.endpoints, transfer, self.cfg.policy,
                             self.scheduler_for(transfer))

    def downloader(self, transfer: Optional[TransferConfig] = None) -> Downloader:
        self.cfg.require("traffic_limit")
        transfer = transfer or self.cfg.transfer
        return Downloader(self.http, self.cfg.endpoints, transfer, self.scheduler_for(transfer))

    def fmgr_service(self, signed: bool = True) -> FmgrService:
        """fmgr jobs (``signed=False``: for the status, which needs no keys)."""
        return FmgrService(self.http, self.auth if signed else None, self.cfg.endpoints)

    def list_entries(self, bucket: str, prefix: str = "", *, recursive: bool = True) -> ObjectListing:
        """The one whole listing every multi-object method goes through (``ls``, ``du``, ``rm``, the
        tree runs; a :class:`~wcs.services.listing.ListFunction`).

        ``recursive``: every object whose key starts with ``prefix``, as typed
        :class:`~wcs.commons.result.ObjectInfo` in key order. Otherwise the one directory ``prefix``
        (``a`` means ``a/``): its sub-directories (:class:`~wcs.services.listing.CommonPrefix`)
        first, then its objects. Streamed: a whole listing is fetched as key ranges at once on the
        client's pool (:mod:`wcs.services.listing_ranges`), a bounded number of pages in memory, a
        directory page after page; ``close()`` stops early.

        Raises:
            ServiceError, NetworkError: a page failed (when the iteration reaches it).
        """
        return self.bucket_manager().listing(bucket, prefix, recursive=recursive)

    def fops_service(self, signed: bool = True) -> FopsService:
        """Persistent processing jobs (``signed=False``: for the status)."""
        return FopsService(self.http, self.auth if signed else None, self.cfg.endpoints)
