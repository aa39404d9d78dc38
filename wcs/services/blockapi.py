"""The wire steps of a multipart upload (``mkblk``, ``bput``, ``mkfile``) and how one block is sent.

A block is sent chunk by chunk: the first with ``mkblk``, the rest with ``bput`` strictly in order.
Each chunk is read into one reusable buffer per worker, hashed (SHA-1 per 4 MiB etag block,
CRC-32) and handed to the HTTP layer as a :class:`~wcs.services.streams.BufferReader`, which sends
it in slices without copying, reports progress as bytes go out and stops within one slice when the
transfer is cancelled.

Every chunk is checked as it is confirmed: the service's ``crc32`` must equal the local CRC-32 and
its ``offset`` must be where the next chunk starts. A mismatch, a ``701``/``412`` (the service lost
or wants the block again), or a chunk whose own retries ran out on a transient failure restarts the
block from ``mkblk`` (:class:`Restart`); any other failure ends it (:class:`BlockFailed`).
"""

import logging
import threading
import time
from typing import Any, Callable, Dict, List, Optional, Union

from wcs.commons.auth import Auth
from wcs.commons.errors import Cancelled, IntegrityError, LocalFileError
from wcs.commons.fsutil import open_regular
from wcs.commons.http import HttpClient, Result, is_transient_failure
from wcs.commons.settings import Endpoints, PolicyDefaults, TransferConfig
from wcs.commons.util import EtagHasher, crc32
from wcs.services.base import UploadService
from wcs.services.blocks import Block
from wcs.services.resume import BlockRecord, check_upload_id
from wcs.services.streams import BufferReader, Progress

log = logging.getLogger(__name__)

# Statuses after which restarting a block from mkblk can help: the service lost or rejected the
# block's context (701), or asks for the block again (412).
RESTART_BLOCK_STATUS = frozenset({412, 701})

Body = Union[bytes, bytearray, memoryview]


class Tokens:
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


class BlockFailed(Exception):
    """A block step got a non-success answer that resending cannot fix; carries the Result."""

    def __init__(self, result: Result) -> None:
        super().__init__(result.code)
        self.result = result


class Restart(Exception):
    """The block must be sent again from mkblk; ``result`` is what to report if it cannot be.

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


class BlockApi(UploadService):
    """The three wire steps of a multipart upload, one request each (with the configured retries).

    Args:
        token: returns the upload token to send (``Authorization``).
        upload_id: sent as ``UploadBatch`` on every step.
        cancel: set to abandon the chunk being sent (and the waits between retries).
    """

    def __init__(self, http: HttpClient, auth: Optional[Auth], endpoints: Endpoints, transfer: TransferConfig,
                 policy: PolicyDefaults, token: Callable[[], str], upload_id: str,
                 cancel: Optional[threading.Event] = None) -> None:
        super().__init__(http, auth, endpoints, transfer, policy)
        self.token = token
        self.upload_id = check_upload_id(upload_id)
        self.cancel = cancel

    def _headers(self, content_type: str = "application/octet-stream") -> Dict[str, str]:
        headers = {"Authorization": self.token(), "UploadBatch": self.upload_id, "Content-Type": content_type}
        headers.update(self.traffic_headers())
        return headers

    def _send_chunk(self, url: str, body: Body, retries: int, progress: Optional[Progress]) -> Result:
        reader = BufferReader(body, progress, self.cancel)

        def rewound() -> Any:
            reader.rewind()  # a retry sends the chunk from its start, and takes back its progress
            return reader, {}

        return self.http.request("POST", url, headers=self._headers(), body=rewound, retries=retries,
                                 cancel=self.cancel)

    def mkblk(self, block_size: int, index: int, body: Body, progress: Optional[Progress] = None) -> Result:
        """``POST /mkblk/<block_size>/<index>`` with the first chunk; answers ``ctx``, ``crc32``, ``offset``."""
        url = "%s/mkblk/%d/%d" % (self.put_base(), block_size, index)
        return self._send_chunk(url, body, self.transfer.mkblk_retries, progress)

    def bput(self, ctx: str, offset: int, body: Body, progress: Optional[Progress] = None) -> Result:
        """``POST /bput/<ctx>/<offset>``: the chunk at ``offset`` of the block whose last ``ctx`` is given."""
        url = "%s/bput/%s/%d" % (self.put_base(), ctx, offset)
        return self._send_chunk(url, body, self.transfer.bput_retries, progress)

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
                                 retries=self.transfer.mkfile_retries)

    # -- one block ----------------------------------------------------------------------------

    def send_block(self, path: str, block: Block, bput_size: int, report: Optional[Progress],
                   buffer: memoryview) -> BlockRecord:
        """Send one block of the file at ``path`` chunk by chunk, each read into ``buffer``; restart it
        from mkblk when the service lost track of it.

        Raises:
            BlockFailed: a failure resending cannot fix, or restarts ran out.
            IntegrityError: the service's answers kept disagreeing with what was sent.
            LocalFileError: the file cannot be read (or changed size).
            Cancelled: the transfer was stopped.
        """
        try:
            fp = open_regular(path, buffering=0)  # a FIFO swapped in is refused, not waited on
        except LocalFileError:
            raise
        except OSError as exc:
            raise LocalFileError("cannot read %s: %s" % (path, exc.strerror or exc)) from None
        with fp:
            return self._send_with_restarts(block, bput_size, report, buffer,
                                            lambda start, view: read_into(fp, block.offset + start, view))

    def send_buffer(self, data: memoryview, block: Block, bput_size: int, report: Optional[Progress]) -> BlockRecord:
        """Send a block whose ``block.size`` bytes are ``data`` (read from a stream); as :meth:`send_block`."""
        if len(data) != block.size:
            raise ValueError("block %d has %d bytes, the buffer %d" % (block.index, block.size, len(data)))
        return self._send_with_restarts(block, bput_size, report, data, None)

    def _send_with_restarts(self, block: Block, bput_size: int, report: Optional[Progress], buffer: memoryview,
                            fill: Optional[Callable[[int, memoryview], None]]) -> BlockRecord:
        attempts = self.transfer.mkblk_retries + 1
        sent = [0]

        def counted(delta: int) -> None:
            sent[0] += delta
            if report is not None:
                report(delta)

        for attempt in range(attempts):
            try:
                return self._send_block_once(block, bput_size, counted, buffer, fill)
            except Restart as why:
                counted(-sent[0])
                if attempt + 1 == attempts:
                    if why.mismatch:
                        raise IntegrityError("upload %s: %s, %d times in a row"
                                             % (self.upload_id, why, attempts), why.answer) from None
                    raise BlockFailed(why.result) from None
                log.info("block %d of upload %s: %s; sending it again", block.index, self.upload_id, why)
                self.http.backoff.wait(attempt, self.cancel)
            except BaseException:
                # The block is not done: take back what it reported, so progress means "stored".
                counted(-sent[0])
                raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _send_block_once(self, block: Block, bput_size: int, counted: Progress, buffer: memoryview,
                         fill: Optional[Callable[[int, memoryview], None]]) -> BlockRecord:
        """One pass over the block; ``fill(start, view)`` reads each chunk into ``buffer``, or, without
        it, ``buffer`` holds the whole block."""
        hasher = EtagHasher()
        ctx = ""
        for start, length in block.chunks(bput_size):
            if fill is None:
                data = buffer[start:start + length]
            else:
                data = buffer[:length]
                fill(start, data)
            hasher.update(data)
            chunk = _ChunkProgress(counted)
            if start == 0:
                result = self.mkblk(block.size, block.index, data, chunk)
            else:
                result = self.bput(ctx, start, data, chunk)
            if not result.ok:
                counted(-chunk.sent)  # the chunk is not stored: its bytes do not count
            ctx = check_chunk(result, data, start + length, block.index)
        return BlockRecord(block.index, block.offset, block.size, ctx,
                           [digest.hex() for digest in hasher.block_digests()])


class _ChunkProgress:
    """Passes a chunk's progress on and remembers how much it reported (to take it back)."""

    def __init__(self, counted: Progress) -> None:
        self.counted = counted
        self.sent = 0

    def __call__(self, delta: int) -> None:
        self.sent += delta
        self.counted(delta)


class Outcome:
    """The first failure among the block tasks of one upload: a Result to report, or an exception to raise."""

    def __init__(self) -> None:
        self.failure: Optional[Result] = None
        self.error: Optional[BaseException] = None

    def settle(self, group: Any, future: Any) -> None:
        """Take in a finished block task; after a failure no new block starts (those in flight finish)."""
        if future.cancelled():
            return
        exc = future.exception()
        if exc is None:
            return
        group.stop_new()
        if isinstance(exc, BlockFailed):
            self.failure = self.failure or exc.result
        elif not isinstance(exc, Cancelled) or self.error is None:
            self.error = self.error or exc


class Buffers:
    """One reusable chunk buffer per worker thread of an upload (a chunk is read into it, hashed and
    sent from it; it is free again once the chunk's request has returned)."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._local = threading.local()

    def get(self) -> memoryview:
        view = getattr(self._local, "view", None)
        if view is None or len(view) != self._size:
            view = self._local.view = memoryview(bytearray(self._size))
        return view


def read_into(fp: Any, offset: int, view: memoryview) -> None:
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


def as_int(value: Any) -> Optional[int]:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def check_chunk(result: Result, data: Body, expected_offset: int, index: int) -> str:
    """The ``ctx`` of a confirmed chunk.

    Raises:
        Restart: the block must be resent (701/412, a transient failure that outlived the chunk's
            retries, or an answer that disagrees with what was sent).
        BlockFailed: any other failure (auth, missing bucket, unreachable host...).
    """
    if result.code in RESTART_BLOCK_STATUS:
        raise Restart("HTTP %d: %s" % (result.code, result.message), result)
    if is_transient_failure(result) and getattr(result.error, "connected", True):
        # The chunk's own retries ran out on 5xx / resets: the block gets a fresh start. An
        # unreachable host is not retried twice over; its failure is reported at once.
        raise Restart("HTTP %d: %s" % (result.code, result.message), result)
    if not result.ok:
        raise BlockFailed(result)
    body = result.data if isinstance(result.data, dict) else {}
    ctx = body.get("ctx")
    if not isinstance(ctx, str) or not ctx:
        raise Restart("block %d: the answer has no ctx (reqid %s)" % (index, result.reqid), result)
    if "crc32" in body:
        remote, local = as_int(body["crc32"]), crc32(data)
        if remote is None or remote & 0xFFFFFFFF != local:
            raise Restart("block %d: crc32 mismatch, service %r, local %d (reqid %s)"
                          % (index, body["crc32"], local, result.reqid), result)
    if "offset" in body and as_int(body["offset"]) != expected_offset:
        raise Restart("block %d: the service is at offset %r, expected %d (reqid %s)"
                      % (index, body["offset"], expected_offset, result.reqid), result)
    return ctx
