"""A real S3 server on 127.0.0.1 for migration tests: moto's standalone server (``moto[server]``), with
every request counted by who sent it.

moto's WSGI application (what ``python3 -m moto.server`` and ``ThreadedMotoServer`` serve) runs here in a
werkzeug server of our own, behind a middleware that counts requests and the bytes of request and
response bodies, per caller: ``emulator`` (the emulator's outbound fetches, User-Agent
``wcs-emulator``) and ``client`` (anything else: s3fs, boto3). A test can so show which side read the
objects' bytes. moto keeps its buckets in memory, per process: tests use bucket names of their own.
"""

import threading
import uuid
from typing import Any, Dict, Iterable, Iterator, List

CREDENTIALS = {"key": "moto-access-key", "secret": "moto-secret-key"}
REGION = "us-east-1"


class _Counting:
    """WSGI middleware: per caller, requests, GETs of objects, bytes received and sent."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.lock = threading.Lock()
        self.counts: Dict[str, Dict[str, int]] = {}
        self.gets: Dict[str, int] = {}  # object GETs of the emulator, by path (percent-decoded, no query)

    def _add(self, who: str, **values: int) -> None:
        with self.lock:
            entry = self.counts.setdefault(who, {"requests": 0, "object_gets": 0, "bytes_in": 0, "bytes_out": 0})
            for name, value in values.items():
                entry[name] += value

    def __call__(self, environ: Dict[str, Any], start_response: Any) -> Iterable[bytes]:
        who = "emulator" if environ.get("HTTP_USER_AGENT", "").startswith("wcs-emulator") else "client"
        length = environ.get("CONTENT_LENGTH") or "0"
        # A GET of a key (not of a bucket: a listing has no second path segment, or has a query)
        # WSGI's PATH_INFO is the decoded path's bytes as latin-1 text
        path = environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8", "replace").strip("/")
        query = environ.get("QUERY_STRING", "")
        getting = environ["REQUEST_METHOD"] == "GET" and "/" in path and "list-type" not in query
        self._add(who, requests=1, object_gets=int(getting), bytes_in=int(length) if length.isdigit() else 0)
        if getting and who == "emulator":
            with self.lock:
                self.gets[path] = self.gets.get(path, 0) + 1
        return self._count_body(who, self.app(environ, start_response))

    def _count_body(self, who: str, body: Iterable[bytes]) -> Iterator[bytes]:
        try:
            for chunk in body:
                self._add(who, bytes_out=len(chunk))
                yield chunk
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()


class S3Origin:
    """moto's S3 on 127.0.0.1 (a context manager); ``url``, ``fs()``, ``bucket()``, ``counts``."""

    def __init__(self) -> None:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
        from werkzeug.serving import make_server

        self.app = _Counting(DomainDispatcherApplication(create_backend_app))
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.url = "http://127.0.0.1:%d" % self.server.server_port
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self) -> "S3Origin":
        self.thread.start()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()

    @property
    def storage_options(self) -> Dict[str, Any]:
        """What s3fs needs to reach this server (also for ``Client.sync(..., storage_options=...)``)."""
        return dict(CREDENTIALS, endpoint_url=self.url, client_kwargs={"region_name": REGION},
                    skip_instance_cache=True, use_listings_cache=False)

    @property
    def environment(self) -> Dict[str, str]:
        """The same as environment variables (fsspec's ``FSSPEC_S3_*`` and boto's), for a subprocess."""
        return {"FSSPEC_S3_ENDPOINT_URL": self.url, "AWS_ACCESS_KEY_ID": CREDENTIALS["key"],
                "AWS_SECRET_ACCESS_KEY": CREDENTIALS["secret"], "AWS_DEFAULT_REGION": REGION}

    def fs(self) -> Any:
        import s3fs

        return s3fs.S3FileSystem(**self.storage_options)

    def bucket(self) -> str:
        """A new empty bucket."""
        name = "src-" + uuid.uuid4().hex[:12]
        self.fs().call_s3("create_bucket", Bucket=name)
        return name

    @property
    def counts(self) -> Dict[str, Dict[str, int]]:
        with self.app.lock:
            return {who: dict(values) for who, values in self.app.counts.items()}

    def fetches_of(self, bucket: str, key: str) -> int:
        """How many times the emulator read ``bucket/key`` since the counts were reset."""
        with self.app.lock:
            return self.app.gets.get("%s/%s" % (bucket, key), 0)

    def reset_counts(self) -> None:
        with self.app.lock:
            self.app.counts.clear()
            self.app.gets.clear()


def put_objects(fs: Any, bucket: str, objects: Dict[str, bytes]) -> List[str]:
    """Store ``{key: data}`` in ``bucket``; the keys."""
    for key, data in objects.items():
        fs.pipe_file("%s/%s" % (bucket, key), data)
    return list(objects)
