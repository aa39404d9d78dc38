"""Form ("simple") upload to ``/file/upload``: of a file, of the first bytes of a seekable file object,
of what a URL serves; and the rule every upload applies when its answer may have been lost.

The form body is produced by ``requests_toolbelt``'s streaming ``MultipartEncoder`` reading the file
through a :class:`~wcs.services.bodies.ChunkReader`, so memory stays flat whatever the size. The
same reader feeds an incremental etag hasher: the hash the service answers is checked against the
bytes actually sent, with no second pass over the file. A retried attempt starts a new encoder on
the rewound file (the reader takes back the progress it reported and the hasher starts over). A file
of at most :data:`SMALL_FORM` bytes is read whole and sent as one body built in memory
(:func:`~wcs.services.bodies.form_in_memory`): for thousands of small files the encoder's own work
cost more than the rest of the request.

When the upload still fails after an answer was actually lost (no answer, or a 5xx or 406 on a
retry: an earlier attempt may have stored the object before its answer went missing), ``stat``
decides (:func:`stored_exactly`, also used after a ``mkfile`` by :mod:`wcs.services.pipeline`): an
object with exactly this size and etag means the upload is done. A 406 to the first attempt is the
service's answer and stays a 406, whatever the object holds.

As in the official SDK, the Result's ``body`` is the answer's raw text (URL-safe Base64 of
``hash=...`` on success, the JSON error text otherwise); ``data`` has it decoded.

``stream_upload`` choice: the source URL (or file-like object) is streamed into an anonymous
temporary file (bounded memory), then uploaded like a file. Spooling gives the form a length
(WCS needs ``Content-Length``; chunked form uploads are not documented) and makes the upload
retryable from the start, which a one-shot network stream is not. The cost is disk space for the
object in the system temporary directory.
"""

import json
import logging
import os
import re
import tempfile
from typing import Any, BinaryIO, Callable, Dict, Mapping, Optional, Tuple, Union
from urllib.parse import quote

from wcs.commons.errors import ConfigError, IntegrityError, InvalidArgument, LocalFileError, MissingFile
from wcs.commons.fsutil import open_regular
from wcs.commons.http import NO_RESPONSE, Result, is_transient_failure, multipart_form
from wcs.commons.util import EtagHasher, urlsafe_base64_encode
from wcs.services.base import UploadService
from wcs.services.bodies import ChunkReader, Progress, SourceReadError, form_in_memory, read_exactly
from wcs.services.bucket import BucketManager

log = logging.getLogger(__name__)

SPOOL_READ_SIZE = 1024 * 1024
SMALL_FORM = 256 * 1024  # a file up to this size is read whole and sent as one body (per transfer in flight)
_URL_RE = re.compile(r"^https?://", re.IGNORECASE)

PathLike = Union[str, "os.PathLike[str]"]


def open_for_upload(path: PathLike) -> BinaryIO:
    """Open a regular file for reading.

    Raises:
        MissingFile: missing or a directory (a LocalFileError that is also a ValueError).
        LocalFileError: unreadable.
    """
    path = os.fspath(path)
    try:
        # Unbuffered: a small file is read in one call, a large one by ChunkReader, which seeks
        # before every read (a buffer would only copy the bytes once more).
        return open_regular(path, buffering=0)  # a FIFO swapped in is refused, not waited on
    except FileNotFoundError:
        raise MissingFile("no such file: %s" % path) from None
    except (LocalFileError, OSError) as exc:
        if os.path.isdir(path):  # (asked only now: one stat less for every file that opens)
            raise MissingFile("%s is a directory, not a file" % path) from None
        if isinstance(exc, LocalFileError):
            raise
        raise LocalFileError("cannot read %s: %s" % (path, exc.strerror or exc)) from None


def answer_may_be_lost(result: Result) -> bool:
    """Whether an answer to the request may have gone missing: it was sent more than once (an earlier
    attempt may have been carried out), or no answer came after it reached the service."""
    if result.attempts > 1:
        return True
    return result.code == NO_RESPONSE and getattr(result.error, "connected", True)


def stored_exactly(objects: BucketManager, bucket: str, key: str, size: int, local_etag: str) -> Optional[Result]:
    """The ``stat`` answer when ``bucket:key`` holds exactly ``size`` bytes of etag ``local_etag``, else None
    (also when it cannot tell: no ``mgr_url``). After an answer that may have been lost, that object is
    the upload's own."""
    try:
        stat = objects.stat(bucket, key)
    except ConfigError:  # no mgr_url: cannot tell
        return None
    body = stat.data if isinstance(stat.data, dict) else {}
    if stat.code == 200 and body.get("hash") == local_etag and str(body.get("fsize")) == str(size):
        return stat
    return None


def verify_hash(result: Result, local: str, what: str) -> Result:
    """``result`` when the service's hash (if any) equals ``local``.

    Raises:
        IntegrityError: the hashes differ (``.result`` holds the service's answer).
    """
    remote = result.answered_hash
    if result.ok and remote is not None and remote != local:
        raise IntegrityError("%s: the service stored hash %s but the bytes sent hash to %s (reqid %s)"
                             % (what, remote, local, result.reqid), result)
    return result


class FormUploader(UploadService):
    """``POST /file/upload`` of a file or stream (the official ``SimpleUpload``/``StreamUpload``)."""

    def upload_file(self, path: PathLike, bucket: str, key: str, *, progress: Optional[Progress] = None,
                    overwrite: Optional[int] = None, mime_type: Optional[str] = None,
                    deadline: Optional[int] = None, token: Optional[str] = None) -> Result:
        """Upload the file at ``path`` as ``bucket:key`` in one form request.

        Args:
            progress: called with the number of bytes sent (negative when a retry rewinds).
            overwrite: 1 to replace an existing object (default: ``cfg.overwrite``).
            mime_type: content type to store.
            deadline: retention in days of the stored object (not the token lifetime).
            token: an upload token made elsewhere, sent instead of one of this uploader's (the
                uploader's ``policy`` should then describe that token's: see ``token_policy``).

        Raises:
            LocalFileError: the file cannot be read (or shrinks while being sent).
            IntegrityError: the service's hash differs from the hash of the bytes sent.
        """
        with open_for_upload(path) as fp:
            size = os.fstat(fp.fileno()).st_size
            return self.upload_fileobj(fp, size, bucket, key, progress=progress, overwrite=overwrite,
                                       mime_type=mime_type, deadline=deadline, token=token)

    def upload_fileobj(self, fp: BinaryIO, size: int, bucket: str, key: str, *,
                       progress: Optional[Progress] = None, overwrite: Optional[int] = None,
                       mime_type: Optional[str] = None, deadline: Optional[int] = None,
                       token: Optional[str] = None) -> Result:
        """Upload ``size`` bytes of a seekable binary file from its start (see :meth:`upload_file`)."""
        url = self.put_base() + "/file/upload"
        fields: Dict[str, Any] = {"token": token}
        if token is None:
            fields = {"token": self.upload_token(bucket, key, overwrite), "key": key}
        # With a token made elsewhere the key goes as the part's file name only, as the official SDK
        # sends it: the service takes the token's scope key first, so the two cannot disagree.
        if mime_type:
            fields["mimeType"] = mime_type
        if deadline is not None:
            fields["deadline"] = str(int(deadline))
        state: Dict[str, Any] = {"hasher": EtagHasher()}
        body: Callable[[], Tuple[Any, Mapping[str, str]]]
        if size <= SMALL_FORM:
            data = read_exactly(fp, size, key)
            state["hasher"].update(data)
            whole = form_in_memory(list(fields.items()), quote(key), data, mime_type or "application/octet-stream")
            sent = [0]

            def body() -> "Tuple[Any, Mapping[str, str]]":
                if progress is not None:
                    if sent[0]:
                        progress(-size)  # a retry sends it all again
                    progress(size)
                sent[0] += 1
                return whole
        else:
            def restart_hash() -> None:
                state["hasher"] = EtagHasher()

            reader = ChunkReader(fp, 0, size, progress, lambda data: state["hasher"].update(data), restart_hash)

            def body() -> "Tuple[Any, Mapping[str, str]]":
                reader.seek(0)
                file_field = (quote(key), reader, mime_type or "application/octet-stream")
                return multipart_form(list(fields.items()) + [("file", file_field)])

        # A 303 (returnUrl) is the answer itself: following it would GET the caller's web page.
        try:
            result = self.http.request("POST", url, headers=self.traffic_headers(), body=body,
                                       allow_redirects=False)
        except SourceReadError as exc:
            raise exc.error from None
        result = result.with_raw_body()
        log.debug("upload %s:%s (%d bytes) -> %d reqid=%s", bucket, key, size, result.code, result.reqid)
        hasher = state["hasher"]
        if not result.ok and hasher.size == size and self._answer_may_be_lost(result):
            result = self._check_stored(result, bucket, key, size, hasher.etag())
        # With a callbackUrl the body is the callback server's answer, whose "hash" may mean anything.
        if hasher.size == size and not self.policy.callbackUrl:
            verify_hash(result, hasher.etag(), "upload of %s:%s" % (bucket, key))
        return result

    def _answer_may_be_lost(self, result: Result) -> bool:
        """Whether a failed upload may in fact have been stored (its success answer lost on the way).

        Only when an answer was actually lost: no answer at all, or a retry (an earlier attempt may
        have stored the object). Only plain uploads qualify: a ``returnUrl``/``returnBody``/
        ``callbackUrl`` answer carries more than a stored object can tell.
        """
        if not self.policy.answer_is_plain:
            return False
        return answer_may_be_lost(result) and (is_transient_failure(result) or result.code == 406)

    def _check_stored(self, result: Result, bucket: str, key: str, size: int, local_etag: str) -> Result:
        """``result``, unless ``stat`` shows the object holds exactly these bytes: then a success."""
        stat = stored_exactly(BucketManager(self.http, self.auth, self.endpoints), bucket, key, size, local_etag)
        if stat is not None:
            log.info("upload of %s:%s answered %d, but the object holds exactly the bytes sent; done",
                     bucket, key, result.code)
            # The answer the service gives a plain form upload, as the lost one would have been.
            text = urlsafe_base64_encode("hash=" + local_etag)
            return Result(200, text, stat.headers, text=text, data={"hash": local_etag})
        return result

    def upload_stream(self, source: Union[str, BinaryIO], bucket: str, key: str, *,
                      progress: Optional[Progress] = None, overwrite: Optional[int] = None,
                      mime_type: Optional[str] = None, deadline: Optional[int] = None,
                      token: Optional[str] = None) -> Result:
        """Upload what ``source`` yields: an http(s) URL, a local path, or a binary file-like object.

        A URL or a file-like object is spooled to a temporary file first (see the module
        docstring). If the URL cannot be fetched, the result carries the source's status (or -1)
        and a message, and nothing is uploaded.

        Raises:
            InvalidArgument: ``source`` is none of the above.
            LocalFileError: a local path cannot be read.
        """
        options: Dict[str, Any] = dict(progress=progress, overwrite=overwrite, mime_type=mime_type,
                                       deadline=deadline, token=token)
        if isinstance(source, str) and _URL_RE.match(source):
            with tempfile.TemporaryFile(prefix="wcs-stream-") as spool:
                failure = self._spool_url(source, spool)
                if failure is not None:
                    return failure
                return self.upload_fileobj(spool, spool.tell(), bucket, key, **options)
        if isinstance(source, (str, os.PathLike)):
            return self.upload_file(source, bucket, key, **options)
        if hasattr(source, "read"):
            with tempfile.TemporaryFile(prefix="wcs-stream-") as spool:
                _copy_stream(source, spool)
                return self.upload_fileobj(spool, spool.tell(), bucket, key, **options)
        raise InvalidArgument("stream_upload needs an http(s) URL, a path or a binary file object, got %r"
                              % (type(source).__name__,))

    def _spool_url(self, url: str, spool: BinaryIO) -> Optional[Result]:
        """Copy the body of ``GET url`` into ``spool``; a Result describing the failure, or None."""
        def restart() -> None:
            spool.seek(0)
            spool.truncate()

        def write(data: bytes) -> None:
            try:
                spool.write(data)
            except OSError as exc:
                raise LocalFileError("cannot write the temporary copy: %s" % (exc.strerror or exc)) from exc

        result = self.http.get_body(url, write, restart=restart, retries=self.transfer.connection_retries)
        if result.ok:
            return None
        if result.code > 0:
            log.info("stream source %s answered %d", url, result.code)
            data = {"code": result.code, "message": "cannot fetch the source URL: HTTP %d" % result.code}
            text = json.dumps(data)
            return Result(result.code, text, result.headers, text=text, data=data)
        return result


def _copy_stream(source: BinaryIO, spool: BinaryIO) -> None:
    while True:
        data = source.read(SPOOL_READ_SIZE)
        if not data:
            return
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise InvalidArgument("stream_upload needs a binary stream (read() returned %s)"
                                  % type(data).__name__)
        spool.write(data)
