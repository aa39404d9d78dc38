""":class:`Emulator`: one data dir, one :class:`~wcs.emulator.state.Store`, a job pool and the emulator's
HTTP server (:mod:`wcs.emulator.httpd`) running in a daemon thread. It is what tests, the CLI and other
tools start::

    with Emulator(buckets=["b"]) as emu:
        requests.get(emu.url + "/b/key")
"""

import logging
import os
import shutil
import tempfile
import threading
from typing import Any, Dict, Iterable, List, Optional, Union

from wcs.emulator import wcscfg
from wcs.emulator.api import Context, bind_endpoints
from wcs.emulator.app import EmulatorApp, MkblkRecord, Stats
from wcs.emulator.cors import CorsPolicy
from wcs.emulator.faults import FaultInjector
from wcs.emulator.httpd import Limits, Server, listen, tls_context
from wcs.emulator.jobs import JobManager
from wcs.emulator.routes import RESERVED_BUCKET_NAMES
from wcs.emulator.settings import Settings
from wcs.emulator.state import Store

logger = logging.getLogger(__name__)

DEFAULT_ACCESS_KEY = "wcs-emulator-access-key"
DEFAULT_SECRET_KEY = "wcs-emulator-secret-key"
DEFAULT_PORT = 8930

_BUCKET_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")


def validate_bucket_name(name: str) -> None:
    """Raise ValueError unless ``name`` can be a bucket of the emulator."""
    if not name or len(name) > 63 or not set(name) <= _BUCKET_CHARS or name in (".", ".."):
        raise ValueError("bucket name %r: use 1-63 letters, digits, '-', '_' or '.'" % name)
    if name in RESERVED_BUCKET_NAMES:
        raise ValueError("bucket name %r is refused: it equals the first segment of an API path" % name)


class Emulator:
    """A local WCS service: upload, management and download on one origin.

    Args:
        data_dir: where metadata and objects live; None means a private temporary directory that is
            deleted by :meth:`stop`.
        buckets: buckets to create (existing ones are kept).
        access_key, secret_key: the one key pair the emulator accepts and signs callbacks with.
        host, port: where to listen; port 0 picks a free port.
        faults, fault_seed: fault injection spec (see :mod:`wcs.emulator.faults`) and its seed.
        tls_cert, tls_key: PEM files to serve HTTPS instead of HTTP.
        limits: connection, worker and timeout limits of the HTTP server (see
            :class:`~wcs.emulator.httpd.Limits`); the defaults suit tests and local use.
        cors_origins: the origins web pages may call the emulator from (see :mod:`wcs.emulator.cors`);
            None allows any.
        settings: bounds of endpoints and jobs (spool before a token, fetch deadline and size, restore
            timing: :class:`~wcs.emulator.settings.Settings`); None reads the ``WCS_EMULATOR_*``
            environment variables when the emulator starts.
    """

    def __init__(self, data_dir: Optional[str] = None, buckets: Iterable[str] = (),
                 access_key: str = DEFAULT_ACCESS_KEY, secret_key: str = DEFAULT_SECRET_KEY,
                 host: str = "127.0.0.1", port: int = 0, faults: Union[str, Iterable, None] = None,
                 fault_seed: Optional[int] = None, tls_cert: Optional[str] = None,
                 tls_key: Optional[str] = None, limits: Optional[Limits] = None,
                 cors_origins: Optional[Iterable[str]] = None, settings: Optional[Settings] = None) -> None:
        if bool(tls_cert) != bool(tls_key):
            raise ValueError("tls_cert and tls_key go together")
        self.buckets = list(buckets)
        for name in self.buckets:
            validate_bucket_name(name)
        self.access_key = access_key
        self.secret_key = secret_key
        self.host = host
        self.port = int(port)
        self.tls_cert = tls_cert
        self.tls_key = tls_key
        self.limits = limits or Limits()
        self.cors = CorsPolicy(cors_origins)
        self.settings = settings
        self._faults = FaultInjector(faults, fault_seed)
        self._own_dir = data_dir is None
        self.data_dir = None if data_dir is None else os.path.abspath(data_dir)
        self._stats = Stats()
        self._server: Optional[Server] = None
        self._thread: Optional[threading.Thread] = None
        self.store: Optional[Store] = None
        self.jobs: Optional[JobManager] = None
        self._stop_lock = threading.Lock()

    # -- lifecycle ----------------------------------------------------------------------------------

    @property
    def scheme(self) -> str:
        return "https" if self.tls_cert else "http"

    @property
    def url(self) -> str:
        """Base URL of every API, e.g. ``http://127.0.0.1:41234``."""
        host = "[%s]" % self.host if ":" in self.host else self.host
        return "%s://%s:%d" % (self.scheme, host, self.port)

    def start(self) -> "Emulator":
        """Open the store and start serving in a daemon thread; returns once connections are accepted.

        The port is bound (and the TLS files loaded) before the data dir is touched, so a start that
        fails (e.g. the port is in use) leaves nothing behind there.
        """
        if self._server is not None:
            return self
        context = tls_context(self.tls_cert, self.tls_key) if self.tls_cert and self.tls_key else None
        listener = listen(self.host, self.port)
        try:
            self._open_state()
            assert self.store is not None and self.jobs is not None
            ctx = Context(self.store, self.jobs, self.access_key, self.secret_key, lambda: self.url,
                          self.jobs.settings)
            app = EmulatorApp(bind_endpoints(ctx, on_mkblk=self._stats.record_mkblk), self._faults, self._stats,
                              self.cors)
            server = Server(listener, app, self.limits, context)
        except BaseException:
            listener.close()
            self._close_state()
            self._remove_own_dir()
            raise
        self._server = server
        self.port = server.port
        self._thread = threading.Thread(target=server.serve_forever, name="wcs-emulator", daemon=True)
        self._thread.start()
        logger.info("WCS emulator listening on %s (data dir %s)", self.url, self.data_dir)
        return self

    def _open_state(self) -> None:
        if self.data_dir is None:
            self.data_dir = tempfile.mkdtemp(prefix="wcs-emulator-")
        self.store = store = Store(self.data_dir)
        for name in self.buckets:
            store.create_bucket(name)
        self.jobs = JobManager(store, self.access_key, self.secret_key, lambda: self.url,
                               settings=self.settings or Settings.from_env())

    def _close_state(self) -> None:
        if self.jobs is not None:
            self.jobs.shutdown()
            self.jobs = None
        if self.store is not None:
            self.store.close()
            self.store = None

    def stop(self) -> None:
        """Stop serving, finish running jobs, close the store; idempotent."""
        with self._stop_lock:
            server, self._server = self._server, None
            if server is not None:
                server.shutdown()
                server.server_close()
                # Handlers run in their own threads; let them finish before the store closes under them.
                server.app.wait_idle(10.0)
            if self._thread is not None:
                self._thread.join()
                self._thread = None
            self._close_state()
            self._remove_own_dir()

    def _remove_own_dir(self) -> None:
        if self._own_dir and self.data_dir and os.path.isdir(self.data_dir):
            shutil.rmtree(self.data_dir, ignore_errors=True)
            self.data_dir = None

    def __enter__(self) -> "Emulator":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def __repr__(self) -> str:
        return "Emulator(url=%r, data_dir=%r)" % (self.url, self.data_dir)

    # -- administration -----------------------------------------------------------------------------

    def create_bucket(self, name: str) -> None:
        """Create bucket ``name`` (kept in the data dir); raises ValueError for a refused name."""
        validate_bucket_name(name)
        if name not in self.buckets:
            self.buckets.append(name)
        if self.store is not None:
            self.store.create_bucket(name)

    def set_faults(self, spec: Union[str, Iterable, None], seed: Optional[int] = None) -> None:
        """Replace the fault rules (same SPEC as ``--faults`` or parsed rules); None clears them."""
        self._faults.configure(spec, seed)

    @property
    def counters(self) -> Dict[str, int]:
        """Snapshot: requests served per category (upload, mkblk, bput, mkfile, mgr, download) and
        ``faults_injected``."""
        return self._stats.snapshot()

    @property
    def traffic(self) -> Dict[str, Dict[str, int]]:
        """Snapshot: bytes per category, ``{"in": <request bodies, as declared by Content-Length>,
        "out": <response bodies sent>}``; reset with :meth:`reset_counters`."""
        return self._stats.traffic()

    @property
    def connections_accepted(self) -> int:
        """TCP connections accepted since :meth:`start` (a kept-alive connection counts once, however
        many requests it carries)."""
        server = self._server
        return 0 if server is None else server.connections_accepted

    @property
    def mkblk_log(self) -> List[MkblkRecord]:
        """``(UploadBatch header, block order, block size)`` of every mkblk that succeeded."""
        return self._stats.mkblk_log()

    def reset_counters(self) -> None:
        """Zero :attr:`counters` and :attr:`traffic`, and empty :attr:`mkblk_log`."""
        self._stats.reset()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until no request is being handled (e.g. requests of a killed client still in a
        ``slow`` fault's delay); False if some still run after ``timeout`` seconds."""
        server = self._server
        return server is None or server.app.wait_idle(timeout)

    def config_text(self) -> str:
        """The ``.wcscfg`` content that points a client at this emulator."""
        return wcscfg.config_text(self.access_key, self.secret_key, self.url)

    def write_config(self, path: str) -> str:
        """Write :meth:`config_text` to ``path`` with mode 0600 (it holds the secret key); returns path."""
        return wcscfg.write_config(path, self.config_text())


__all__ = ["Emulator", "Limits", "DEFAULT_ACCESS_KEY", "DEFAULT_SECRET_KEY", "DEFAULT_PORT", "validate_bucket_name"]
