"""Request handlers: one method per route endpoint, each taking a werkzeug ``Request``.

Handlers check tokens, translate wire encodings (URL-safe Base64 entries, ``k=v&`` bodies, ctx values)
and call :mod:`wcs.emulator.state` / :mod:`wcs.emulator.jobs`. They raise
:class:`~wcs.emulator.errors.ApiError` for every failure; the app in :mod:`wcs.emulator.server` turns it
into the JSON error body. Bodies are streamed: form uploads are parsed by werkzeug's multipart parser
straight into a spool file that is hashed as it is written, multipart chunks are read into one
reusable buffer per thread and hashed and written from it, and downloads are served from the file, so
memory does not grow with object size.

Multipart blocks are hashed once, as they arrive: besides the MD5 and CRC-32 every chunk answer
carries, the SHA-1 of each 4 MiB piece of the block (the pieces of the etag) is kept with the block's
row, so ``mkfile`` computes the etag from those digests without reading the blocks back (and, with
blocks written in place in their upload's file, usually without copying them either: see
:mod:`wcs.emulator.state`). The SHA-1 state of a piece still being filled is kept in memory between
chunks; after a restart, or when a chunk is sent again, it is rebuilt from the at most 4 MiB of that
piece already on disk.

[INFERRED] behaviour (see also the package docstring):

* Form key resolution: scope key > form ``key`` > ``saveKey`` (magic variables substituted) > the file
  part's filename (percent-decoded, as py3 quotes it). A form ``key``, ``Key`` header or ``/key/`` segment
  that contradicts a ``bucket:key`` scope is refused with 401 ``Bucket Access Denied``.
* mimeType: form field / ``MimeType`` header > guess from the key's extension > the file part's
  Content-Type unless generic > ``application/octet-stream``.
* Magic variables that are unknown or have no value become the empty string; values are inserted raw.
* Upload callbacks POST the substituted ``callbackBody`` as ``application/x-www-form-urlencoded`` with
  ``Authorization: AK:sign(callbackUrl + "\\n" + body)``; the callback's 200 reply is relayed as is.
* ``persistentOps`` of a put policy run with ``force=1`` (the input was just written).
* Retention (form ``deadline``, ``Deadline`` header, ``/setdeadline``) counts days from the time of the
  call; 0 expires at once, -1 (setdeadline only) removes the expiry.
* ``/bucket/stat`` reports, for every day of the range, the bucket's current size (an approximation:
  no history is kept). ``/wslive/list`` interprets its times as UTC.
"""

import hashlib
import hmac
import json
import mimetypes
import os
import re
import threading
import time
import zlib
from collections import OrderedDict
from datetime import date, datetime, timedelta, timezone
from email.utils import formatdate
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple
from urllib.parse import quote, unquote, urlsplit

from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.formparser import FormDataParser
from werkzeug.wrappers import Request, Response

from wcs.commons.auth import callback_signature
from wcs.commons.util import (
    BLOCK_SIZE,
    EtagHasher,
    urlsafe_base64_decode,
    urlsafe_base64_encode,
)
from wcs.emulator import api_detect, outbound
from wcs.emulator.errors import (
    BUCKET_ACCESS_DENIED,
    BUCKET_NOT_FOUND,
    FILE_EXISTS,
    FILE_NOT_FOUND,
    ApiError,
    status_line,
)
from wcs.emulator.jobs import FMGR_OPS, JobManager, m3u8_segments
from wcs.emulator.state import DAY_MS, MAX_RETENTION_DAYS, Block, ObjectInfo, Store, now_ms, validate_key
from wcs.emulator.verify import split_scope, verify_manager_token, verify_upload_token

MAX_MGR_BODY = 16 * 1024 * 1024
"""Management bodies are small ``k=v`` strings; anything bigger is refused rather than buffered."""
MAX_FORM_FIELD = 16 * 1024 * 1024
"""Bound on the in-memory (non-file) parts of a form upload."""
MAX_CTX_LIST = 32 * 1024 * 1024
CHUNK = 256 * 1024
RECEIVE_BUFFER = 1024 * 1024
"""Bytes of a multipart chunk read from the socket at a time (one buffer per handler thread)."""
MAX_PARTIALS = 1024
"""SHA-1 states of partly filled pieces kept between chunks; older ones are rebuilt from disk if needed."""
MAX_BLOCK_SIZE = 1 << 32
"""Largest ``mkblk`` block (4 GiB; SDKs use 4 MiB multiples, android caps blocks at 100 MiB)."""
MAX_BLOCK_ORDER = (1 << 31) - 1
MAX_FILE_SIZE = 1 << 53
"""Largest ``mkfile`` size: the largest integer every JSON parser keeps exactly."""
INT64_MAX = (1 << 63) - 1
"""Bound of numbers that are only compared (list times, wslive paging): a Java ``long``."""
_MAX_DIGITS = 32
"""Longer numbers are refused before ``int()`` (which is quadratic and, from Python 3.11, limited)."""

_MAGIC = re.compile(r"\$\(([^)]*)\)")
_CTX = re.compile(r"^([0-9a-f]{32})-([0-9]{1,19})-([0-9a-f]{20})$")
_GENERIC_TYPES = ("", "application/octet-stream", "text/plain")


def json_response(obj: Any, code: int = 200) -> Response:
    body = json.dumps(obj).encode("utf-8")
    return Response(body, status=status_line(code), content_type="application/json")


def parse_kv(body: bytes) -> Dict[str, str]:
    """``k=v&k=v`` split on ``&`` only and on the first ``=``, whatever the Content-Type (ref 1.4)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(400, "request body is not UTF-8") from None
    result = {}
    for pair in text.split("&"):
        if not pair:
            continue
        name, _, value = pair.partition("=")
        # Base64 never contains '%'; a '%' means a client form-encoded the value (e.g. '=' as %3D).
        result[name.strip()] = unquote(value) if "%" in value else value
    return result


def b64_text(value: Optional[str], what: str) -> str:
    if value is None or value == "":
        raise ApiError(400, "%s is required" % what)
    try:
        return urlsafe_base64_decode(value).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "%s is not URL-safe Base64 of UTF-8 text" % what) from None


def raw_target(environ: Dict[str, Any]) -> Tuple[str, str]:
    """``(path, query)`` of the request target exactly as the client sent it (what management tokens sign).

    werkzeug's server gives it as ``RAW_URI`` / ``REQUEST_URI``; only a server that gives neither makes
    this fall back to ``PATH_INFO`` quoted again (which may differ from what was sent) and ``QUERY_STRING``.
    """
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw:
        if "://" in raw.split("?", 1)[0]:  # absolute-form request target
            parts = urlsplit(raw)
            raw = parts.path + ("?" + parts.query if parts.query else "")
        path, _, query = raw.partition("?")
    else:
        # WSGI strings carry the bytes as latin-1; quote() encodes them back as the same bytes.
        path = quote((environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")).encode("latin-1"),
                     safe="/!$&'()*+,;=:@")
        query = environ.get("QUERY_STRING", "")
    # Tokens sign the text as UTF-8: turn the latin-1 transport form back into the characters sent.
    return (path.encode("latin-1").decode("utf-8", "replace"),
            query.encode("latin-1").decode("utf-8", "replace"))


def decode_entry(value: str) -> Tuple[str, str]:
    """EncodeEntryURI -> ``(bucket, key)``."""
    text = b64_text(value, "EncodedEntryURI")
    bucket, sep, key = text.partition(":")
    if not sep or not bucket or not key:
        raise ApiError(400, "EncodedEntryURI must encode bucket:key")
    return bucket, key


def guess_mime(key: str, explicit: Optional[str] = None, part_type: Optional[str] = None) -> str:
    if explicit:
        return explicit
    guessed = mimetypes.guess_type(key)[0]
    if guessed:
        return guessed
    part_type = (part_type or "").split(";")[0].strip().lower()
    if part_type not in _GENERIC_TYPES:
        return part_type
    return "application/octet-stream"


def substitute(template: str, variables: Dict[str, str]) -> str:
    return _MAGIC.sub(lambda m: str(variables.get(m.group(1).strip(), "")), template)


def bounded_int(value: Any, name: str, low: int, high: int, kind: str = "an integer") -> int:
    """``value`` (text) as an int in ``low..high``, else a 400 ApiError saying ``name must be <kind>``."""
    text = str(value).strip()
    try:
        if len(text) > _MAX_DIGITS:
            raise ValueError(text)
        number = int(text)
    except ValueError:
        raise ApiError(400, "%s must be %s" % (name, kind)) from None
    if not low <= number <= high:
        raise ApiError(400, "%s must lie in %d..%d" % (name, low, high))
    return number


def retention(days_text: Optional[str], what: str) -> Optional[int]:
    """Expiry (epoch ms) for a retention of ``days_text`` days from now; None when not given."""
    if days_text is None or str(days_text).strip() == "":
        return None
    days = bounded_int(days_text, what, 0, MAX_RETENTION_DAYS, "a whole number of days")
    return now_ms() + days * DAY_MS


class _Spool:
    """File-like target for werkzeug's multipart parser: writes to disk and hashes on the way."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._fp = open(path, "w+b")
        self.hasher = EtagHasher()

    def write(self, data: bytes) -> int:
        self.hasher.update(data)
        return self._fp.write(data)

    def seek(self, *args: int) -> int:
        return self._fp.seek(*args)

    def tell(self) -> int:
        return self._fp.tell()

    def read(self, *args: int) -> bytes:
        return self._fp.read(*args)

    def flush(self) -> None:
        self._fp.flush()

    def close(self) -> None:
        self._fp.close()

    @property
    def closed(self) -> bool:
        return self._fp.closed

    def discard(self) -> None:
        self._fp.close()
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass


def _pieces_hex(pieces: EtagHasher, complete: bool) -> str:
    """Hex SHA-1 of the complete 4 MiB pieces, and of the partial last one when the block is ``complete``."""
    digests = pieces.block_digests() if complete and pieces.filled else pieces.digests
    return "".join(digest.hex() for digest in digests)


class Handlers:
    """The endpoints of one emulator, bound to its store, jobs, keys and base URL."""

    image_detect = api_detect.image_detect

    def __init__(self, store: Store, jobs: JobManager, access_key: str, secret_key: str,
                 base_url: Callable[[], str], on_mkblk: Optional[Callable[[Optional[str], int, int], None]]
                 = None) -> None:
        self.store = store
        self.jobs = jobs
        self.access_key = access_key
        self.secret_key = secret_key
        self.base_url = base_url
        self.on_mkblk = on_mkblk or (lambda batch, order, size: None)
        self._block_locks = [threading.Lock() for _ in range(64)]
        # block id -> (block offset, _Pieces) after the last chunk received; guarded by the block's lock
        # for a given id, and by _partials_lock for the dict itself.
        self._partials: OrderedDict[str, Tuple[int, EtagHasher]] = OrderedDict()
        self._partials_lock = threading.Lock()
        self._buffers = threading.local()

    # -- shared pieces ------------------------------------------------------------------------------

    def _upload_policy(self, token: Optional[str]) -> Dict[str, Any]:
        return verify_upload_token(token, self.access_key, self.secret_key)

    def _mgr_body(self, request: Request) -> Tuple[bytes, Dict[str, str]]:
        """Check the management token over the raw target and body; returns the body and its pairs."""
        body = request.stream.read(MAX_MGR_BODY + 1) if request.method == "POST" else b""
        if len(body) > MAX_MGR_BODY:
            raise ApiError(413, "request body too large")
        path, query = raw_target(request.environ)
        verify_manager_token(request.headers.get("Authorization"), self.access_key, self.secret_key,
                             path, query, body)
        return body, parse_kv(body) if body else {}

    def url_of(self, bucket: str, key: str) -> str:
        return "%s/%s/%s" % (self.base_url(), quote(bucket, safe=""), quote(key, safe="/"))

    def _resolve_key(self, scope_key: Optional[str], explicit: Optional[str]) -> Optional[str]:
        if scope_key is not None:
            if explicit and explicit != scope_key:
                raise ApiError(401, "%s: key %r is outside the token scope" % (BUCKET_ACCESS_DENIED, explicit))
            return scope_key
        return explicit or None

    def _variables(self, request: Request, info: ObjectInfo, fname: str, custom: Dict[str, str],
                   started: float, persistent_id: str = "") -> Dict[str, str]:
        variables = {
            "bucket": info.bucket, "key": info.key, "fname": fname, "hash": info.hash, "etag": info.hash,
            "fsize": str(info.fsize), "mimeType": info.mime_type, "ip": request.remote_addr or "",
            "url": urlsafe_base64_encode(self.url_of(info.bucket, info.key)),
            "costTime": str(int((time.monotonic() - started) * 1000)), "persistentId": persistent_id,
        }
        variables.update(custom)
        return variables

    def _after_upload(self, policy: Dict[str, Any], info: ObjectInfo) -> str:
        ops = policy.get("persistentOps")
        if not ops:
            return ""
        notify = policy.get("persistentNotifyUrl") or None
        return self.jobs.submit_fops(info, [op for op in str(ops).split(";") if op], notify, True,
                                     bool(policy.get("separate")))

    def _callback(self, policy: Dict[str, Any], variables: Dict[str, str]) -> Response:
        url = str(policy["callbackUrl"])
        body = substitute(str(policy.get("callbackBody") or ""), variables).encode("utf-8")
        headers = {"Content-Type": "application/x-www-form-urlencoded",
                   "Authorization": callback_signature(self.access_key, self.secret_key, url, body)}
        try:
            _, data, content_type = outbound.post(url, body, headers)
        except outbound.OutboundError as exc:
            # The object is stored; 579 tells the client exactly that (reference 3.3).
            raise ApiError(579, "callback failed: %s" % exc) from None
        return Response(data, status=status_line(200), content_type=content_type or "application/json")

    # -- form upload --------------------------------------------------------------------------------

    def upload(self, request: Request) -> Response:
        started = time.monotonic()
        if request.mimetype != "multipart/form-data":
            raise ApiError(400, "Content-Type must be multipart/form-data")
        spools: List[_Spool] = []

        def factory(total_content_length: Optional[int] = None, content_type: Optional[str] = None,
                    filename: Optional[str] = None, content_length: Optional[int] = None) -> _Spool:
            spool = _Spool(self.store.new_temp_path())
            spools.append(spool)
            return spool

        try:
            try:
                parser = FormDataParser(stream_factory=factory, max_form_memory_size=MAX_FORM_FIELD,
                                        silent=False)
                _, form, files = parser.parse(request.stream, request.mimetype, request.content_length,
                                              request.mimetype_params)
            except RequestEntityTooLarge:
                raise ApiError(413, "a non-file form field is too large") from None
            except ValueError as exc:
                raise ApiError(400, "malformed multipart body: %s" % exc) from None
            policy = self._upload_policy(form.get("token"))
            return_url = policy.get("returnUrl")
            try:
                return self._form_upload(request, form, files, policy, started)
            except ApiError as exc:
                if not return_url:
                    raise
                sep = "&" if "?" in return_url else "?"
                location = "%s%scode=%d&message=%s" % (return_url, sep, exc.code, quote(exc.message))
                return Response(b"", status=status_line(303), headers={"Location": location})
        finally:
            for spool in spools:
                spool.discard()

    def _form_upload(self, request: Request, form: Any, files: Any, policy: Dict[str, Any],
                     started: float) -> Response:
        bucket, scope_key = split_scope(policy)
        if not self.store.bucket_exists(bucket):
            raise ApiError(631, BUCKET_NOT_FOUND)
        upload = files.get("file")
        temp_text = None
        if upload is not None:
            spool = upload.stream
            fname = upload.filename or ""
            part_type = upload.content_type
        elif "file" in form:
            # A file part sent without a filename arrives as a text field (bounded by MAX_FORM_FIELD).
            spool = _Spool(self.store.new_temp_path())
            temp_text = spool
            spool.write(form["file"].encode("utf-8"))
            fname, part_type = "", None
        else:
            raise ApiError(400, "form field 'file' is required")
        try:
            spool.flush()
            custom = {name: value for name, value in form.items() if name.startswith("x:")}
            key = self._resolve_key(scope_key, form.get("key"))
            if key is None and policy.get("saveKey"):
                key = substitute(str(policy["saveKey"]), dict(custom, bucket=bucket, fname=fname,
                                                              hash=spool.hasher.etag(),
                                                              etag=spool.hasher.etag()))
            if key is None:
                key = unquote(fname)
            if not key:
                raise ApiError(400, "no key: give it in the token scope, the key field or saveKey")
            validate_key(key)
            size = spool.hasher.size
            limit = policy.get("fsizeLimit") or 0
            if limit > 0 and size > limit:
                raise ApiError(401, "fsizeLimit exceeded: %d > %d bytes" % (size, limit))
            expires_at = retention(form.get("deadline"), "deadline")
            mime = guess_mime(key, form.get("mimeType"), part_type)
            spool.close()
            info = self.store.put_file(bucket, key, spool.path, size, spool.hasher.etag(), mime,
                                       expires_at, overwrite=bool(policy.get("overwrite", 0)))
        finally:
            if temp_text is not None:
                temp_text.discard()
        persistent_id = self._after_upload(policy, info)
        variables = self._variables(request, info, fname, custom, started, persistent_id)
        if policy.get("callbackUrl"):
            return self._callback(policy, variables)
        tail = "hash=" + info.hash
        returned = substitute(str(policy["returnBody"]), variables) + "&" + tail \
            if policy.get("returnBody") else tail
        if policy.get("returnUrl"):
            url = str(policy["returnUrl"])
            location = url + ("&" if "?" in url else "?") + returned
            return Response(b"", status=status_line(303), headers={"Location": location})
        return Response(urlsafe_base64_encode(returned), status=status_line(200), content_type="text/plain")

    # -- multipart upload ---------------------------------------------------------------------------

    def _ctx(self, block_id: str, offset: int) -> str:
        mac = hmac.new(self.store.secret, ("%s-%d" % (block_id, offset)).encode(), hashlib.sha256)
        return "%s-%d-%s" % (block_id, offset, mac.hexdigest()[:20])

    def _parse_ctx(self, ctx: str) -> Tuple[str, int]:
        match = _CTX.match(ctx.strip())
        if not match or not hmac.compare_digest(self._ctx(match.group(1), int(match.group(2))),
                                                ctx.strip()):
            raise ApiError(701, "ctx invalid")
        return match.group(1), int(match.group(2))

    def _lock_for(self, block_id: str) -> Any:
        return self._block_locks[int(block_id[:4], 16) % len(self._block_locks)]

    def _chunk_policy(self, request: Request) -> Dict[str, Any]:
        policy = self._upload_policy(request.headers.get("Authorization"))
        bucket, _ = split_scope(policy)
        if not self.store.bucket_exists(bucket):
            raise ApiError(631, BUCKET_NOT_FOUND)
        return policy

    def _buffer(self) -> memoryview:
        view = getattr(self._buffers, "view", None)
        if view is None:
            view = self._buffers.view = memoryview(bytearray(RECEIVE_BUFFER))
        return view

    def _pieces_at(self, block: Block, offset: int) -> EtagHasher:
        """The piece hashes of ``block`` up to ``offset``: the cached state when the last chunk ended
        there, else the stored digests of the complete pieces plus the bytes of the current piece
        (and of any piece without a stored digest) read back from disk."""
        with self._partials_lock:
            cached = self._partials.pop(block.id, None)
        whole = offset // BLOCK_SIZE
        stored = [bytes.fromhex(block.digests[i * 40:i * 40 + 40]) for i in range(min(whole, len(block.digests) // 40))]
        if cached is not None and cached[0] == offset and len(stored) == whole:
            pieces = cached[1]
            pieces.digests = stored
            return pieces
        pieces = EtagHasher(stored)
        start = len(stored) * BLOCK_SIZE
        if start < offset:
            view = self._buffer()
            with open(block.path, "rb", buffering=0) as fp:
                fp.seek(block.base + start)
                left = offset - start
                while left:
                    count = fp.readinto(view[:min(left, len(view))])
                    if not count:
                        raise ApiError(701, "ctx is ahead of the block data")
                    pieces.update(view[:count])
                    left -= count
        return pieces

    def _receive(self, request: Request, block: Block, offset: int) -> Tuple[int, str, int, str]:
        """Write the request body at ``offset`` of the block's file; at most ``block.size - offset``
        bytes fit. Returns ``(bytes received, md5 hex, crc32, hex SHA-1 of the complete pieces)``.

        A retried chunk replaces its earlier copy: a file of the block's own is first cut back to
        ``offset``; in a batch file the bytes past ``offset`` are simply overwritten (``received`` says
        what is valid).
        """
        room = block.size - offset
        pieces = self._pieces_at(block, offset)
        md5 = hashlib.md5()
        crc = 0
        received = 0
        view = self._buffer()
        stream = request.stream
        readinto = getattr(stream, "readinto", None)
        with open(block.path, "r+b", buffering=0) as fp:
            if not block.shared:
                fp.truncate(offset)
            fp.seek(block.base + offset)
            while True:
                if readinto is not None:
                    count = readinto(view)
                    data = view[:count or 0]
                else:  # an older werkzeug: its request stream only reads
                    data = memoryview(stream.read(len(view)))
                    count = len(data)
                if not count:
                    break
                received += count
                if received > room:
                    if not block.shared:
                        fp.truncate(offset)
                    raise ApiError(701, "chunk runs past the end of the block")
                md5.update(data)
                crc = zlib.crc32(data, crc)
                pieces.update(data)
                while len(data):
                    data = data[fp.write(data):]
        end = offset + received
        if end < block.size:
            with self._partials_lock:
                self._partials[block.id] = (end, pieces)
                while len(self._partials) > MAX_PARTIALS:
                    self._partials.popitem(last=False)
        return received, md5.hexdigest(), crc & 0xFFFFFFFF, _pieces_hex(pieces, end == block.size)

    def _forget_partial(self, block_id: str) -> None:
        with self._partials_lock:
            self._partials.pop(block_id, None)

    def mkblk(self, request: Request, block_size: str, block_order: str = "0") -> Response:
        """``block_size``, ``block_order``: the digits of the path (see :mod:`wcs.emulator.routes`)."""
        self._chunk_policy(request)
        size = bounded_int(block_size, "block size", 1, MAX_BLOCK_SIZE)
        order = bounded_int(block_order, "block order", 0, MAX_BLOCK_ORDER)
        batch = request.headers.get("UploadBatch")
        block = self.store.new_block(batch, size, order)
        with self._lock_for(block.id):
            try:
                received, md5, crc, digests = self._receive(request, block, 0)
            except ApiError:
                self._forget_partial(block.id)
                self.store.drop_blocks([block.id])
                raise ApiError(400, "first chunk is larger than the block size") from None
            except Exception:  # e.g. the client went away mid-chunk: no half-made block is left behind
                self._forget_partial(block.id)
                self.store.drop_blocks([block.id])
                raise
            self.store.set_block_received(block.id, received, digests)
        self.on_mkblk(batch, order, size)
        return json_response({"ctx": self._ctx(block.id, received), "checksum": md5, "crc32": crc,
                              "offset": received})

    def bput(self, request: Request, ctx: str, offset: str) -> Response:
        self._chunk_policy(request)
        start = bounded_int(offset, "offset", 0, MAX_BLOCK_SIZE)
        block_id, ctx_offset = self._parse_ctx(ctx)
        if ctx_offset != start:
            raise ApiError(701, "offset %d does not match the ctx (%d)" % (start, ctx_offset))
        with self._lock_for(block_id):
            block = self.store.get_block(block_id)
            if block is None:
                raise ApiError(701, "ctx invalid: block unknown or already merged")
            try:
                on_disk = os.path.getsize(block.path)
            except OSError:
                raise ApiError(701, "ctx invalid: block data missing") from None
            if on_disk < block.base + start or block.received < start:
                raise ApiError(701, "ctx is ahead of the block data")
            received, md5, crc, digests = self._receive(request, block, start)
            self.store.set_block_received(block_id, start + received, digests)
        return json_response({"ctx": self._ctx(block_id, start + received), "checksum": md5, "crc32": crc,
                              "offset": start + received})

    def mkfile(self, request: Request, fsize: str, rest: str = "") -> Response:
        started = time.monotonic()
        policy = self._chunk_policy(request)
        size = bounded_int(fsize, "file size", 0, MAX_FILE_SIZE)
        bucket, scope_key = split_scope(policy)
        segments = [s for s in rest.split("/") if s]
        params: Dict[str, str] = {}
        custom: Dict[str, str] = {}
        for i in range(0, len(segments) - 1, 2):
            name, value = segments[i], segments[i + 1]
            if name.startswith("x:"):
                custom[name] = b64_text(value, name)
            else:
                params[name] = value
        header_key = request.headers.get("Key")
        explicit = b64_text(header_key, "Key header") if header_key else None
        path_key = b64_text(params["key"], "/key/") if "key" in params else None
        if scope_key is not None and path_key and path_key != scope_key:
            raise ApiError(401, "%s: key %r is outside the token scope" % (BUCKET_ACCESS_DENIED, path_key))
        key = self._resolve_key(scope_key, explicit or path_key)
        if not key:
            raise ApiError(400, "no key: give it in the token scope or the Key header")
        validate_key(key)
        overwrite = bool(policy.get("overwrite", 0))
        if not overwrite and self.store.exists(bucket, key):
            raise ApiError(406, FILE_EXISTS)
        limit = policy.get("fsizeLimit") or 0
        if limit > 0 and size > limit:
            raise ApiError(401, "fsizeLimit exceeded: %d > %d bytes" % (size, limit))
        body = request.stream.read(MAX_CTX_LIST + 1)
        if len(body) > MAX_CTX_LIST:
            raise ApiError(400, "ctx list too long")
        ctxs = [c.strip() for c in body.decode("ascii", "replace").split(",") if c.strip()]
        blocks = []
        for ctx in ctxs:
            block_id, offset = self._parse_ctx(ctx)
            block = self.store.get_block(block_id)
            if block is None:
                raise ApiError(701, "ctx invalid: block unknown or already merged")
            if offset != block.size or block.received < block.size:
                raise ApiError(412, "block %d is incomplete (%d of %d bytes)" % (block.order, offset, block.size))
            blocks.append(block)
        total = sum(block.size for block in blocks)
        if total != size:
            raise ApiError(412, "blocks hold %d bytes but the file size is %d" % (total, size))
        mime = guess_mime(key, request.headers.get("MimeType") or (
            b64_text(params["mimeType"], "/mimeType/") if "mimeType" in params else None))
        expires_at = retention(request.headers.get("Deadline"), "Deadline header")
        info = self.store.merge_blocks(blocks, bucket, key, size, mime, expires_at, overwrite=overwrite)
        fname = b64_text(params["fname"], "/fname/") if "fname" in params else key
        persistent_id = self._after_upload(policy, info)
        variables = self._variables(request, info, fname, custom, started, persistent_id)
        if policy.get("callbackUrl"):
            return self._callback(policy, variables)
        reply: Dict[str, Any] = {"hash": info.hash, "key": info.key}
        if policy.get("returnBody"):
            for pair in substitute(str(policy["returnBody"]), variables).split("&"):
                if pair:
                    name, _, value = pair.partition("=")
                    reply[name] = value
        return json_response(reply)

    # -- resource management ------------------------------------------------------------------------

    @staticmethod
    def _stat_body(info: ObjectInfo) -> Dict[str, Any]:
        return {"result": True, "code": 200, "name": info.key, "message": "OK", "fsize": info.fsize,
                "hash": info.hash, "mimeType": info.mime_type, "putTime": info.put_time,
                "expirationDate": info.expiration_date, "storageClass": "Standard"}

    def stat(self, request: Request, entry: str) -> Response:
        self._mgr_body(request)
        bucket, key = decode_entry(entry)
        return json_response(self._stat_body(self.store.require(bucket, key)))

    def delete(self, request: Request, entry: str) -> Response:
        self._mgr_body(request)
        bucket, key = decode_entry(entry)
        self.store.require_bucket(bucket)
        if not self.store.delete(bucket, key):
            raise ApiError(404, FILE_NOT_FOUND)
        return json_response({"code": 200, "message": "OK"})

    def _copy(self, request: Request, src: str, dst: str, move: bool) -> Response:
        self._mgr_body(request)
        src_bucket, src_key = decode_entry(src)
        dst_bucket, dst_key = decode_entry(dst)
        self.store.copy(src_bucket, src_key, dst_bucket, dst_key, overwrite=True, move=move)
        return json_response({"code": 200, "message": "OK"})

    def move(self, request: Request, src: str, dst: str) -> Response:
        return self._copy(request, src, dst, move=True)

    def copy(self, request: Request, src: str, dst: str) -> Response:
        return self._copy(request, src, dst, move=False)

    def setdeadline(self, request: Request) -> Response:
        _, form = self._mgr_body(request)
        bucket = b64_text(form.get("bucket"), "bucket")
        key = b64_text(form.get("key"), "key")
        days_text = form.get("deadline", form.get("deleteAfterDays"))
        if days_text is None:
            raise ApiError(400, "deadline is required")
        days = bounded_int(days_text, "deadline", -1, MAX_RETENTION_DAYS,
                           "a whole number of days (-1 keeps forever)")
        info = self.store.require(bucket, key)
        expires_at = None if days == -1 else now_ms() + days * DAY_MS
        self.store.set_expiry(bucket, key, expires_at)
        if key.endswith(".m3u8") and form.get("relevance", "1") != "0":
            for ts_key in m3u8_segments(info):
                self.store.set_expiry(bucket, ts_key, expires_at)
        return json_response({"code": 200, "message": "OK"})

    @staticmethod
    def _int_arg(args: Any, name: str, low: int, high: int = INT64_MAX) -> Optional[int]:
        value = args.get(name, "")
        if value == "":
            return None
        return bounded_int(value, name, low, high)

    def list(self, request: Request) -> Response:
        self._mgr_body(request)
        args = request.args
        bucket = args.get("bucket", "")
        if not bucket:
            raise ApiError(400, "bucket is required")
        limit = self._int_arg(args, "limit", 1, 1000) or 1000
        mode = self._int_arg(args, "mode", 0, 1)
        prefix = b64_text(args["prefix"], "prefix") if args.get("prefix") else ""
        start_time = self._int_arg(args, "startTime", 0)
        end_time = self._int_arg(args, "endTime", 0)
        self.store.require_bucket(bucket)
        items, common, marker = self.store.list_objects(bucket, prefix, args.get("marker", ""), limit, mode,
                                                        start_time, end_time)
        return json_response({
            "marker": marker, "commonPrefixes": common,
            "items": [{"key": i.key, "putTime": i.put_time, "hash": i.hash, "fsize": str(i.fsize),
                       "mimeType": i.mime_type, "expirationDate": i.expiration_date,
                       "storageClass": "Standard"} for i in items]})

    def bucket_list(self, request: Request) -> Response:
        self._mgr_body(request)
        return json_response({"code": 200, "message": "OK",
                              "buckets": [{"name": name} for name in self.store.buckets()]})

    @staticmethod
    def _date_arg(args: Any, name: str) -> date:
        try:
            return datetime.strptime(args.get(name, ""), "%Y-%m-%d").date()
        except ValueError:
            raise ApiError(400, "%s must be yyyy-mm-dd" % name) from None

    def bucket_stat(self, request: Request) -> Response:
        self._mgr_body(request)
        args = request.args
        names = [n for n in b64_text(args.get("name"), "name").split("|") if n]
        start, end = self._date_arg(args, "startdate"), self._date_arg(args, "enddate")
        if end < start:
            raise ApiError(400, "enddate is before startdate")
        if (end - start).days > 184:
            raise ApiError(400, "the date range must not exceed 6 months")
        storage_type = args.get("storageType", "")
        if storage_type not in ("", "Standard", "InfrequentAccess", "Archive"):
            raise ApiError(400, "storageType must be Standard, InfrequentAccess or Archive")
        result = []
        for name in names:
            self.store.require_bucket(name)
            # Everything the emulator stores is Standard; no history is kept, so every day shows the
            # current size.
            size = self.store.bucket_size(name) if storage_type in ("", "Standard") else 0
            days = (end - start).days + 1
            result.append({"name": name, "detail": [
                {"data_time": (start + timedelta(days=i)).isoformat(), "storage": "%.3f" % (size / 1048576.0)}
                for i in range(days)]})
        return json_response({"code": 200, "message": "OK", "buckets": result})

    def bucket_statistics(self, request: Request) -> Response:
        self._mgr_body(request)
        return json_response({"code": 200, "message": "OK", "buckets": []})

    def prefetch(self, request: Request, param: str) -> Response:
        self._mgr_body(request)
        bucket = b64_text(param, "param").split(":", 1)[0]
        self.store.require_bucket(bucket)
        raise ApiError(404, "Bucket Not Binding Mirror")

    def wslive_list(self, request: Request) -> Response:
        self._mgr_body(request)
        args = request.args
        for name in ("channelname", "startTime", "endTime", "bucket"):
            if not args.get(name):
                raise ApiError(400, "%s is required" % name)
        times = []
        for name in ("startTime", "endTime"):
            try:
                moment = datetime.strptime(args[name], "%Y%m%d%H%M%S").replace(tzinfo=timezone.utc)
            except ValueError:
                raise ApiError(400, "%s must be yyyyMMddHHmmss" % name) from None
            times.append(int(moment.timestamp() * 1000))
        start = self._int_arg(args, "start", 1) or 1
        limit = self._int_arg(args, "limit", 0)
        bucket = args["bucket"]
        self.store.require_bucket(bucket)
        found = [info for info in self.store.keys_under(bucket, args["channelname"])
                 if times[0] <= info.put_time <= times[1] + 999]
        page = found[start - 1:] if limit is None else found[start - 1:start - 1 + limit]
        return json_response({"code": 200, "message": "OK", "total": len(found), "items": [
            {"key": i.key, "fsize": i.fsize, "putTime": i.put_time, "hash": i.hash, "mimeType": i.mime_type}
            for i in page]})

    # -- async processing ---------------------------------------------------------------------------

    @staticmethod
    def _flag(form: Dict[str, str], name: str) -> bool:
        value = form.get(name, "0").strip() or "0"
        if value not in ("0", "1"):
            raise ApiError(400, "%s must be 0 or 1" % name)
        return value == "1"

    def fmgr(self, request: Request, op: str) -> Response:
        _, form = self._mgr_body(request)
        if op not in FMGR_OPS:
            raise ApiError(400, "unknown fmgr operation %r" % op)
        ops = [item for item in form.get("fops", "").split(";") if item.strip()]
        if not ops:
            raise ApiError(400, "fops is required")
        notify = b64_text(form["notifyURL"], "notifyURL") if form.get("notifyURL") else None
        job_id = self.jobs.submit_fmgr(op, ops, notify, self._flag(form, "force"), self._flag(form, "separate"))
        return json_response({"persistentId": job_id})

    def fops(self, request: Request) -> Response:
        _, form = self._mgr_body(request)
        bucket = b64_text(form.get("bucket"), "bucket")
        key = b64_text(form.get("key"), "key")
        ops = [item for item in b64_text(form.get("fops"), "fops").split(";") if item.strip()]
        if not ops:
            raise ApiError(400, "fops is required")
        notify = b64_text(form["notifyURL"], "notifyURL") if form.get("notifyURL") else None
        source = self.store.require(bucket, key)
        job_id = self.jobs.submit_fops(source, ops, notify, self._flag(form, "force"),
                                       self._flag(form, "separate"))
        return json_response({"persistentId": job_id})

    def status(self, request: Request) -> Response:
        job_id = request.args.get("persistentId", "")
        if not job_id:
            raise ApiError(400, "persistentId is required")
        status = self.jobs.status(job_id)
        if status is None:
            raise ApiError(404, "persistentId Not Found")
        return json_response(status)

    # -- download -----------------------------------------------------------------------------------

    def download(self, request: Request, bucket: str, key: str) -> Response:
        op = request.args.get("op")
        if op:
            raise ApiError(400, "op=%s is not supported by the emulator" % op)
        self.store.require_bucket(bucket)
        info = self.store.get(bucket, key)
        if info is None:
            raise ApiError(404, FILE_NOT_FOUND)
        try:
            fp = open(info.path, "rb")
        except FileNotFoundError:  # deleted between lookup and open
            raise ApiError(404, FILE_NOT_FOUND) from None
        etag = '"%s"' % info.hash
        headers = {"ETag": etag, "Accept-Ranges": "bytes",
                   "Last-Modified": _http_date(info.put_time)}
        if request.headers.get("If-None-Match") == etag:
            fp.close()
            return Response(b"", status=status_line(304), headers=headers)
        start, stop, code = 0, info.fsize, 200
        range_header = request.headers.get("Range")
        if_range = request.headers.get("If-Range")
        if range_header and (if_range is None or if_range.strip() in (etag, headers["Last-Modified"])):
            try:
                span = byte_range(range_header, info.fsize)
            except RangeNotSatisfiable:
                fp.close()
                response = json_response({"code": 416, "message": "Range Not Satisfiable",
                                          "error": "Range Not Satisfiable"}, 416)
                response.headers["Content-Range"] = "bytes */%d" % info.fsize
                return response
            if span is not None:
                start, stop = span
                code = 206
                headers["Content-Range"] = "bytes %d-%d/%d" % (start, stop - 1, info.fsize)
        headers["Content-Length"] = str(stop - start)
        response = Response(_file_range(fp, start, stop), status=status_line(code), headers=headers,
                            content_type=info.mime_type, direct_passthrough=True)
        response.call_on_close(fp.close)
        return response


class RangeNotSatisfiable(Exception):
    """The ``Range`` of a download selects no byte of the object (416)."""


_RANGE_SPEC = re.compile(r"^(\d*)-(\d*)$")


def _position(digits: str) -> int:
    # A position past any object is all that matters about a very long number (and int() may refuse it).
    return int(digits) if len(digits) <= 20 else 1 << 80


def byte_range(header: str, length: int) -> Optional[Tuple[int, int]]:
    """``(start, stop)`` of the one byte range of a ``Range`` header (RFC 9110 section 14) for an object of
    ``length`` bytes, or None when the header is to be ignored (the whole object is sent with 200).

    Ignored: a unit other than ``bytes``, and a set of more than one range (allowed by the RFC: the
    emulator sends no ``multipart/byteranges``). ``first-`` runs to the end, ``first-last`` is cut at the
    end, ``-suffix`` longer than the object means all of it.

    Raises:
        RangeNotSatisfiable: the range is malformed (e.g. ``last < first``), starts at or after the end,
            is the empty suffix ``-0``, or the object is empty.
    """
    unit, sep, ranges = header.partition("=")
    if not sep or unit.strip().lower() != "bytes":
        return None
    specs = [spec.strip() for spec in ranges.split(",") if spec.strip()]
    if len(specs) > 1:
        return None
    match = _RANGE_SPEC.match(specs[0]) if specs else None
    if match is None or match.group(1) == match.group(2) == "":
        raise RangeNotSatisfiable(header)
    first, last = match.groups()
    if first == "":  # suffix range: the last N bytes
        suffix = _position(last)
        if suffix == 0 or length == 0:
            raise RangeNotSatisfiable(header)
        return max(0, length - suffix), length
    start = _position(first)
    if last != "" and _position(last) < start:
        raise RangeNotSatisfiable(header)
    if start >= length:
        raise RangeNotSatisfiable(header)
    stop = length if last == "" else min(length, _position(last) + 1)
    return start, stop


def _file_range(fp: Any, start: int, stop: int) -> Iterator[bytes]:
    fp.seek(start)
    left = stop - start
    while left > 0:
        data = fp.read(min(CHUNK, left))
        if not data:
            break
        left -= len(data)
        yield data


def _http_date(ms: int) -> str:
    return formatdate(ms / 1000.0, usegmt=True)
