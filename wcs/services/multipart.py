"""Multipart (block) upload: ``mkblk`` / ``bput`` per block, ``mkfile`` to assemble, resumable.

The file is planned up front (:func:`plan_blocks`): blocks of ``block_size`` (a multiple of 4 MiB),
each sent as chunks of ``bput_size``: the first with ``mkblk``, the rest with ``bput`` strictly in
order. Blocks run on a thread pool of ``concurrency`` workers (0: one after the other in the calling
thread); each worker opens the file itself and reads each chunk into one buffer of ``bput_size``
bytes that it keeps for the whole upload, so memory is about ``concurrency * bput_size`` whatever
the file size. That buffer is hashed (SHA-1, CRC-32) and handed to requests as it is, which sends
it with one ``sendall``: no byte of a chunk is copied in Python after it is read. Progress is
reported per chunk, once the service has confirmed it.

Every chunk is checked as it is confirmed: the service's ``crc32`` must equal the local CRC-32 and
its ``offset`` must be where the next chunk starts; a mismatch, a ``701`` (the service lost the
block context), or a chunk whose own retries ran out on a transient failure (5xx, connection reset)
restarts the block from ``mkblk`` (at most ``mkblk_retries`` times). So with the default 3 retries
a block fails for good only after four rounds of four failed attempts; a checksum that disagrees
through every round is an ``IntegrityError``. The SHA-1 of
each 4 MiB etag block is computed while the chunk is read, so the etag of the whole file is known
when ``mkfile`` answers, without reading the file twice, and is compared with the ``hash`` it
returns.

After each confirmed block the resume record (:mod:`wcs.services.resume`) is rewritten atomically
with the block's final ``ctx``; ``upload(..., upload_id=X)`` with an existing record skips those
blocks. The record is removed once ``mkfile`` succeeds. When ``mkfile`` fails in a way that may
hide a success (its answer lost, 406 or 701 on a retry), ``stat`` decides: an object with this
file's size and etag means the upload is done.
"""

import logging
import os
import secrets
import string
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Tuple, Union

from wcs.commons.auth import Auth
from wcs.commons.config import Config
from wcs.commons.errors import ConfigError, IntegrityError, InvalidArgument, LocalFileError, ResumeError
from wcs.commons.http import HttpClient, Result, is_connect_failure, is_transient_failure
from wcs.commons.util import BLOCK_SIZE, EtagHasher, crc32, etag_from_block_digests
from wcs.services.base import Service
from wcs.services.bucket import BucketManager
from wcs.services.resume import BlockRecord, RecordStore, ResumeRecord, check_upload_id
from wcs.services.streams import Progress, serialized
from wcs.services.upload import PathLike, open_for_upload, verify_hash

log = logging.getLogger(__name__)

UPLOAD_ID_CHARS = string.ascii_letters + string.digits
UPLOAD_ID_LENGTH = 32

# Statuses after which restarting a block from mkblk can help: the service lost or rejected the
# block's context (701), or asks for the block again (412).
RESTART_BLOCK_STATUS = frozenset({412, 701})


def new_upload_id() -> str:
    """A fresh upload id: 32 random letters and digits (the ``UploadBatch`` of the official SDK)."""
    return "".join(secrets.choice(UPLOAD_ID_CHARS) for _ in range(UPLOAD_ID_LENGTH))


def check_block_size(block_size: Any) -> int:
    """``block_size`` as an int.

    Raises:
        InvalidArgument: not a positive multiple of 4 MiB (the etag is defined on 4 MiB blocks).
    """
    try:
        value = int(block_size)
    except (TypeError, ValueError):
        value = 0
    if isinstance(block_size, bool) or value <= 0 or value % BLOCK_SIZE:
        raise InvalidArgument("invalid block size %r: must be a positive multiple of 4 MiB (%d bytes)"
                              % (block_size, BLOCK_SIZE))
    return value


def check_bput_size(bput_size: Any) -> int:
    """``bput_size`` as a positive int.

    Raises:
        InvalidArgument: not a positive integer.
    """
    try:
        value = int(bput_size)
    except (TypeError, ValueError):
        value = 0
    if isinstance(bput_size, bool) or value <= 0:
        raise InvalidArgument("invalid bput size %r: must be a positive number of bytes" % (bput_size,))
    return value


@dataclass(frozen=True)
class Block:
    """Block ``index`` of a plan: ``size`` bytes of the file from ``offset``."""

    index: int
    offset: int
    size: int

    def chunks(self, bput_size: int) -> List[Tuple[int, int]]:
        """``(offset_in_block, length)`` of each chunk, in the order they must be sent."""
        return [(start, min(bput_size, self.size - start)) for start in range(0, self.size, bput_size)]


def plan_blocks(size: int, block_size: int) -> List[Block]:
    """The blocks of a ``size``-byte file; none for an empty file (``mkfile/0`` with no ctx stores it).

    Raises:
        InvalidArgument: ``size`` is negative or ``block_size`` not a positive multiple of 4 MiB.
    """
    block_size = check_block_size(block_size)
    if size < 0:
        raise InvalidArgument("invalid size %r" % (size,))
    return [Block(i, offset, min(block_size, size - offset))
            for i, offset in enumerate(range(0, size, block_size))]


def file_etag(blocks: List[Block], records: Dict[int, BlockRecord]) -> str:
    """The etag of the whole file from the SHA-1 of the 4 MiB etag blocks kept per upload block."""
    digests = [bytes.fromhex(h) for block in blocks for h in records[block.index].sha1]
    return etag_from_block_digests(digests)


class _Tokens:
    """Upload tokens for one upload, renewed at half their lifetime so long uploads never expire."""

    def __init__(self, make: Callable[[], str], lifetime_s: float) -> None:
        self._make = make
        self._renew_after = max(float(lifetime_s) / 2, 1.0)
        self._lock = threading.Lock()
        self._token = ""
        self._made = 0.0

    def __call__(self) -> str:
        with self._lock:
            now = time.monotonic()
            if not self._token or now - self._made > self._renew_after:
                self._token = self._make()
                self._made = now
            return self._token


Body = Union[bytes, bytearray, memoryview]


class BlockApi(Service):
    """The three wire steps of a multipart upload, one request each (with the configured retries).

    Args:
        http, auth, cfg: as every service.
        token: returns the upload token to send (``Authorization``).
        upload_id: sent as ``UploadBatch`` on every step.
    """

    def __init__(self, http: HttpClient, auth: Optional[Auth], cfg: Config, token: Callable[[], str],
                 upload_id: str) -> None:
        super().__init__(http, auth, cfg)
        self.token = token
        self.upload_id = check_upload_id(upload_id)

    def _headers(self, content_type: str = "application/octet-stream") -> Dict[str, str]:
        headers = {"Authorization": self.token(), "UploadBatch": self.upload_id, "Content-Type": content_type}
        headers.update(self.traffic_headers())
        return headers

    def _send_chunk(self, url: str, body: Body, retries: int) -> Result:
        # A bytes-like body goes out in one sendall, and a retry simply sends it again. A
        # bytearray or memoryview is not copied: requests takes it for a stream of known length
        # and urllib3 / http.client send any buffer as a single piece.
        return self.http.request("POST", url, headers=self._headers(), data=body, retries=retries)

    def mkblk(self, block_size: int, index: int, body: Body) -> Result:
        """``POST /mkblk/<block_size>/<index>`` with the first chunk; answers ``ctx``, ``crc32``, ``offset``."""
        url = "%s/mkblk/%d/%d" % (self.put_base(), block_size, index)
        return self._send_chunk(url, body, int(self.cfg.mkblk_retries))

    def bput(self, ctx: str, offset: int, body: Body) -> Result:
        """``POST /bput/<ctx>/<offset>``: the chunk at ``offset`` of the block whose last ``ctx`` is given."""
        url = "%s/bput/%s/%d" % (self.put_base(), ctx, offset)
        return self._send_chunk(url, body, int(self.cfg.bput_retries))

    def mkfile(self, size: int, ctxs: List[str], mime_type: Optional[str] = None,
               deadline: Optional[int] = None) -> Result:
        """``POST /mkfile/<size>`` with the final ``ctx`` of every block, in block order."""
        url = "%s/mkfile/%d" % (self.put_base(), size)
        headers = self._headers("text/plain;charset=UTF-8")
        if mime_type:
            headers["MimeType"] = mime_type
        if deadline is not None:
            headers["Deadline"] = str(int(deadline))
        return self.http.request("POST", url, headers=headers, data=",".join(ctxs).encode("ascii"),
                                 retries=int(self.cfg.mkfile_retries))


class _BlockFailed(Exception):
    """Internal: a block step got a non-success answer; carries the Result."""

    def __init__(self, result: Result) -> None:
        super().__init__(result.code)
        self.result = result


class _Restart(Exception):
    """Internal: the block must be sent again from mkblk; ``result`` is what to report if it cannot be.

    ``mismatch`` is set when the service accepted the chunk but its answer disagrees with what was
    sent (crc32, offset, no ctx): if that persists, the upload ends with an ``IntegrityError``.
    """

    def __init__(self, message: str, result: Result) -> None:
        super().__init__(message)
        self.mismatch = result.ok
        self.answer = result
        if result.ok:
            # The step "succeeded" with a wrong answer: report it as the context error it amounts to.
            result = Result(701, {"code": 701, "message": message}, result.headers, text=result.text)
        self.result = result


class MultipartUploader(Service):
    """Uploads one file in blocks, resumably (the official ``MultipartUpload``)."""

    def upload(self, path: PathLike, bucket: str, key: str, upload_id: Optional[str] = None, *,
               progress: Optional[Progress] = None, overwrite: Optional[int] = None,
               mime_type: Optional[str] = None, deadline: Optional[int] = None) -> Result:
        """Upload ``path`` as ``bucket:key``; resume when a record exists for ``upload_id``.

        Args:
            upload_id: the upload to resume, or the id to give a fresh upload (default
                ``cfg.upload_id``, else a new random id).
            progress: called with byte deltas (negative when a block is resent); on resume, first
                with the size of the blocks already uploaded. May be called from worker threads,
                never concurrently.
            overwrite, mime_type, deadline: as for a form upload.

        Returns:
            The mkfile Result (``upload_id`` set). On failure, the failing step's Result with
            ``upload_id`` set and the record kept, so the same call with that id resumes. A call
            refused before anything is sent (the Raises below, except a mid-upload file change or
            integrity failure) writes no record.

        Raises:
            ConfigError: no ``put_url`` or no key pair.
            LocalFileError: the file cannot be read or changed while uploading.
            InvalidArgument: bad block size, bput size, upload id, ``overwrite`` or ``deadline``.
            ResumeError: the record for ``upload_id`` is corrupt or is not for this file as it is now.
            IntegrityError: mkfile's hash differs from the etag of the bytes sent, or a chunk's
                ``crc32``/``offset`` kept disagreeing with what was sent through every restart of its
                block (the record is kept: resuming sends only the blocks not yet confirmed).
        """
        # Everything that can be refused is checked before a record exists, so a call that fails
        # here leaves nothing behind in tmp_record_folder.
        cfg = self.cfg
        block_size = check_block_size(cfg.block_size)
        bput_size = min(check_bput_size(cfg.bput_size), block_size)
        upload_id = check_upload_id(upload_id or cfg.upload_id or new_upload_id())
        overwrite = _optional_int("overwrite", overwrite)
        deadline = _optional_int("deadline", deadline)
        self.put_base()  # ConfigError when put_url is missing
        tokens = _Tokens(lambda: self.upload_token(bucket, key, overwrite), cfg.deadline or 3600)
        tokens()  # ConfigError without keys; the token is kept for the first requests
        with open_for_upload(path) as fp:
            st = os.fstat(fp.fileno())
        abspath = os.path.abspath(os.fspath(path))
        size, mtime_ns = st.st_size, st.st_mtime_ns

        store = RecordStore(cfg.tmp_record_folder, upload_id)
        record = store.load()
        plan = plan_blocks(size, block_size)
        if record is None:
            record = ResumeRecord(upload_id, abspath, size, mtime_ns, block_size, bput_size, bucket, key)
            store.save(record)
            log.info("multipart upload %s of %s (%d bytes, %d blocks) to %s:%s", upload_id, abspath, size,
                     len(plan), bucket, key)
        else:
            record.check_matches(abspath, size, mtime_ns, block_size, bucket, key)
            for block in plan:
                done = record.blocks.get(block.index)
                if done is not None and done.size != block.size:
                    raise ResumeError("cannot resume upload %s: block %d has %d bytes, the record says %d"
                                      % (upload_id, block.index, block.size, done.size))
            log.info("resuming multipart upload %s: %d of %d blocks already uploaded", upload_id,
                     len(record.blocks), len(plan))

        api = BlockApi(self.http, self.auth, cfg, tokens, upload_id)
        report = serialized(progress)
        if report is not None:
            report(sum(record.blocks[b.index].size for b in plan if b.index in record.blocks))
        todo = [block for block in plan if block.index not in record.blocks]
        buffers = _Buffers(bput_size)

        def on_block_done(done: BlockRecord) -> None:
            record.blocks[done.index] = done
            store.save(record)
            log.debug("upload %s: block %d done (%d/%d)", upload_id, done.index, len(record.blocks), len(plan))

        def send(block: Block) -> BlockRecord:
            return self._send_block(api, abspath, block, bput_size, report, buffers.get())

        try:
            failure = self._run(todo, send, on_block_done, int(cfg.concurrency))
        except BaseException as exc:
            log.info("multipart upload %s interrupted (%s); %d of %d blocks uploaded, resume with this upload id",
                     upload_id, type(exc).__name__, len(record.blocks), len(plan))
            raise
        if failure is not None:
            log.info("multipart upload %s stopped: %d; %d of %d blocks uploaded, resume with this upload id",
                     upload_id, failure.code, len(record.blocks), len(plan))
            return failure.with_upload_id(upload_id)

        try:
            now = os.stat(abspath)
        except OSError as exc:
            raise LocalFileError("%s vanished while uploading: %s" % (abspath, exc.strerror or exc)) from None
        if (now.st_size, now.st_mtime_ns) != (size, mtime_ns):
            # The blocks may mix old and new content; the record cannot be resumed either.
            store.remove()
            raise LocalFileError("%s changed while it was being uploaded; upload it again" % abspath)

        result = api.mkfile(size, [record.blocks[b.index].ctx for b in plan], mime_type, deadline)
        result = result.with_upload_id(upload_id)
        if result.code in (406, 701) or is_transient_failure(result):
            result = self._after_lost_mkfile(result, store, bucket, key, size, file_etag(plan, record.blocks))
        if result.ok or result.code == 579:
            # 579: stored, only the callback failed. Either way the record has served its purpose.
            store.remove()
            log.info("multipart upload %s of %s:%s -> %d reqid=%s", upload_id, bucket, key, result.code,
                     result.reqid)
            if cfg.callbackUrl:
                return result  # the body is the callback server's answer, not the service's
            return verify_hash(result, file_etag(plan, record.blocks), "multipart upload of %s:%s" % (bucket, key))
        log.info("mkfile of upload %s failed: %d reqid=%s", upload_id, result.code, result.reqid)
        return result

    def _after_lost_mkfile(self, result: Result, store: RecordStore, bucket: str, key: str, size: int,
                           local_etag: str) -> Result:
        """mkfile says the key exists (406), the blocks are gone (701) or gave no answer after every
        retry (5xx, -1): maybe they already became this object.

        That happens when an earlier mkfile succeeded but its answer was lost (a retried request, or a
        crash before the record was removed): if the stored object has exactly the size and etag of
        this file, the upload is done. Otherwise a 406 keeps the record (resume with ``overwrite``)
        and a 701 drops it, since its contexts are dead: the same call then starts afresh.
        """
        try:
            stat = BucketManager(self.http, self.auth, self.cfg).stat(bucket, key)
        except ConfigError:  # no mgr_url: cannot tell
            stat = None
        if stat is not None and stat.code == 200 and isinstance(stat.body, dict) and \
                stat.body.get("hash") == local_etag and _as_int(stat.body.get("fsize")) == size:
            log.info("upload %s: blocks already assembled into %s:%s (same hash); done", store.upload_id,
                     bucket, key)
            store.remove()
            return Result(200, {"hash": local_etag, "key": key}, stat.headers, upload_id=store.upload_id)
        if result.code == 701:
            log.info("upload %s: the service no longer knows its blocks; the record is dropped", store.upload_id)
            store.remove()
        return result

    @staticmethod
    def _run(todo: List[Block], send: Callable[[Block], BlockRecord],
             on_done: Callable[[BlockRecord], None], concurrency: int) -> Optional[Result]:
        """Send the blocks; record each success at once. The first failure Result, or None.

        After a failure no new block starts; blocks in flight finish and are recorded. An exception
        (local file error, a progress callback raising) propagates the same way, once the blocks
        in flight are done.
        """
        failure: Optional[Result] = None
        if concurrency <= 0:
            for block in todo:
                try:
                    on_done(send(block))
                except _BlockFailed as exc:
                    return exc.result
            return None

        error: Optional[BaseException] = None
        pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="wcs-block")
        pending = iter(todo)
        running: Dict[Future, Block] = {}

        def refill() -> None:
            while len(running) < concurrency and failure is None and error is None:
                block = next(pending, None)
                if block is None:
                    return
                running[pool.submit(send, block)] = block

        finished: List[BlockRecord] = []
        try:
            # Submit only as many blocks as there are workers: a failure stops the rest cleanly.
            refill()
            while running:
                done, _ = wait(list(running), return_when=FIRST_COMPLETED)
                for future in done:
                    del running[future]
                    try:
                        finished.append(future.result())
                    except _BlockFailed as exc:
                        failure = failure or exc.result
                    except BaseException as exc:
                        error = error or exc
                # Start the next blocks before recording the finished ones: saving a record fsyncs,
                # and a worker waiting for that is bandwidth lost.
                refill()
                while finished:
                    try:
                        on_done(finished[0])
                    except BaseException as exc:
                        error = error or exc
                    del finished[0]
        finally:
            # Interrupted (Ctrl-C) while blocks were in flight: let them end, and keep the ones that
            # made it, so a resume does not send them again.
            pool.shutdown(wait=True)
            for record in finished:
                on_done(record)
            for future in running:
                if not future.cancelled() and future.exception() is None:
                    on_done(future.result())
        if error is not None:
            raise error
        return failure

    def _send_block(self, api: BlockApi, path: str, block: Block, bput_size: int,
                    report: Optional[Progress], buffer: memoryview) -> BlockRecord:
        """Send one block chunk by chunk; restart it from mkblk when the service lost track of it."""
        attempts = int(self.cfg.mkblk_retries) + 1
        sent = [0]

        def counted(delta: int) -> None:
            sent[0] += delta
            if report is not None:
                report(delta)

        try:
            fp = open(path, "rb", buffering=0)
        except OSError as exc:
            raise LocalFileError("cannot read %s: %s" % (path, exc.strerror or exc)) from None
        with fp:
            for attempt in range(attempts):
                try:
                    return self._send_block_once(api, fp, block, bput_size, counted, buffer)
                except _Restart as why:
                    counted(-sent[0])
                    if attempt + 1 == attempts:
                        if why.mismatch:
                            raise IntegrityError("upload %s: %s, %d times in a row"
                                                 % (api.upload_id, why, attempts), why.answer) from None
                        raise _BlockFailed(why.result) from None
                    log.info("block %d of upload %s: %s; sending it again", block.index, api.upload_id, why)
                    self.http.backoff.wait(attempt)
                except BaseException:
                    # The block is not done: take back what it reported, so progress means "stored".
                    counted(-sent[0])
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    def _send_block_once(api: BlockApi, fp: Any, block: Block, bput_size: int, counted: Progress,
                         buffer: memoryview) -> BlockRecord:
        hasher = EtagHasher()
        ctx = ""
        for start, length in block.chunks(bput_size):
            data = buffer[:length]
            _read_into(fp, block.offset + start, data)
            hasher.update(data)
            if start == 0:
                result = api.mkblk(block.size, block.index, data)
            else:
                result = api.bput(ctx, start, data)
            ctx = _check_chunk(result, data, start + length, block.index)
            counted(length)
        return BlockRecord(block.index, block.offset, block.size, ctx,
                           [digest.hex() for digest in hasher.block_digests()])


class _Buffers:
    """One reusable chunk buffer per worker thread of an upload (a chunk is read into it, hashed and
    sent from it; it is free again once the chunk's request has returned)."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._local = threading.local()

    def get(self) -> memoryview:
        view = getattr(self._local, "view", None)
        if view is None:
            view = self._local.view = memoryview(bytearray(self._size))
        return view


def _read_into(fp: Any, offset: int, view: memoryview) -> None:
    """Fill ``view`` with the bytes of the unbuffered file ``fp`` at ``offset``.

    Raises:
        LocalFileError: the file cannot be read or is shorter than expected (changed since it was planned).
    """
    done, length = 0, len(view)
    try:
        fp.seek(offset)
        while done < length:
            count = fp.readinto(view[done:])
            if not count:
                raise LocalFileError("expected %d bytes at offset %d, the file has %d (did it change?)"
                                     % (length, offset, done))
            done += count
    except OSError as exc:
        raise LocalFileError("cannot read the file being sent: %s" % (exc.strerror or exc)) from None


def _optional_int(name: str, value: Any) -> Optional[int]:
    """``value`` as an int, or None when it is None.

    Raises:
        InvalidArgument: not an integer.
    """
    if value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise InvalidArgument("invalid %s %r: must be an integer" % (name, value)) from None


def _as_int(value: Any) -> Optional[int]:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _check_chunk(result: Result, data: Body, expected_offset: int, index: int) -> str:
    """The ``ctx`` of a confirmed chunk.

    Raises:
        _Restart: the block must be resent (701/412, a transient failure that outlived the chunk's
            retries, or an answer that disagrees with what was sent).
        _BlockFailed: any other failure (auth, missing bucket, no response after retries...).
    """
    if result.code in RESTART_BLOCK_STATUS:
        raise _Restart("HTTP %d: %s" % (result.code, result.message), result)
    if is_transient_failure(result) and not is_connect_failure(result.error):
        # The chunk's own retries ran out on 5xx / resets: the block gets a fresh start. An
        # unreachable host is not retried twice over; its failure is reported at once.
        raise _Restart("HTTP %d: %s" % (result.code, result.message), result)
    if not result.ok:
        raise _BlockFailed(result)
    body = result.body if isinstance(result.body, dict) else {}
    ctx = body.get("ctx")
    if not isinstance(ctx, str) or not ctx:
        raise _Restart("block %d: the answer has no ctx (reqid %s)" % (index, result.reqid), result)
    if "crc32" in body:
        remote, local = _as_int(body["crc32"]), crc32(data)
        if remote is None or remote & 0xFFFFFFFF != local:
            raise _Restart("block %d: crc32 mismatch, service %r, local %d (reqid %s)"
                           % (index, body["crc32"], local, result.reqid), result)
    if "offset" in body and _as_int(body["offset"]) != expected_offset:
        raise _Restart("block %d: the service is at offset %r, expected %d (reqid %s)"
                       % (index, body["offset"], expected_offset, result.reqid), result)
    return ctx
