"""Upload of a stream of unknown length (a pipe, stdin, a socket): blocks sent as they fill; not resumable.

A stream cannot be planned up front nor read twice. Its bytes are read, in order, into block-sized
buffers; each full buffer becomes the next block of a multipart upload and is sent from memory
(:meth:`~wcs.services.blockapi.BlockApi.send_buffer`) while the next one fills. At most
``max(concurrency, 1) + 1`` buffers ever exist, so memory stays near ``(concurrency + 1) *
block_size`` whatever the stream's length. A stream that ends before one block is full goes as one
form upload instead (one request, no mkfile).

The etag is computed from the SHA-1 of the 4 MiB pieces of every block as it is sent (as for a
file) and compared with the hash mkfile answers; a mismatch is an ``IntegrityError``.

Not resumable: the bytes of a stream are gone once read, so no resume record is written; a failure
returns the failing step's Result (``upload_id`` None) or raises, and the stream must be sent again.
"""

import io
import logging
import threading
from typing import Any, BinaryIO, Dict, Iterable, List, Optional

from wcs.commons.errors import InvalidArgument, LocalFileError
from wcs.commons.http import Result, is_transient_failure
from wcs.services.blockapi import BlockApi, Outcome, Tokens
from wcs.services.blocks import Block, file_etag, new_upload_id
from wcs.services.events import Notifier, Progress, Subscriber, TransferInfo
from wcs.services.multipart import _failure, _optional_int
from wcs.services.resume import BlockRecord
from wcs.services.upload import FormUploader, verify_hash

log = logging.getLogger(__name__)


def read_full(fp: Any, view: memoryview) -> int:
    """Fill ``view`` from the binary stream ``fp``; fewer bytes than its length only at the end of the stream.

    Raises:
        LocalFileError: the stream cannot be read.
        InvalidArgument: ``fp`` is a text stream or non-blocking (``read`` gave ``str`` or None).
    """
    done = 0
    readinto = getattr(fp, "readinto", None)
    while done < len(view):
        try:
            if readinto is not None:
                count = readinto(view[done:])
            else:
                data = fp.read(len(view) - done)
                if data is None:
                    count = None
                elif isinstance(data, (bytes, bytearray, memoryview)):
                    count = len(data)
                    view[done:done + count] = data
                else:
                    raise InvalidArgument("a stream upload needs a binary stream (read() gave %s)"
                                          % type(data).__name__)
        except OSError as exc:
            raise LocalFileError("cannot read the stream: %s" % (exc.strerror or exc)) from None
        if count is None:
            raise InvalidArgument("a stream upload needs a blocking stream (read gave None: no data yet)")
        if not count:
            break
        done += count
    return done


def upload_stream(uploader: Any, fp: BinaryIO, bucket: str, key: str, *, progress: Optional[Progress] = None,
                  subscribers: Iterable[Subscriber] = (), overwrite: Optional[int] = None,
                  mime_type: Optional[str] = None, deadline: Optional[int] = None) -> Result:
    """Upload everything ``fp`` yields as ``bucket:key`` through ``uploader`` (a ``MultipartUploader``).

    See :meth:`wcs.services.client.Client.upload_fileobj`.
    """
    transfer = uploader.transfer
    block_size, bput_size = transfer.block_size, transfer.chunk_size
    overwrite = _optional_int("overwrite", overwrite)
    deadline = _optional_int("deadline", deadline)
    uploader.put_base()  # ConfigError when put_url is missing
    tokens = Tokens(lambda: uploader.upload_token(bucket, key, overwrite), uploader.policy.deadline or 3600)
    tokens()  # ConfigError without keys, before anything is read
    notifier = Notifier.of(TransferInfo.new("upload", bucket, key, None, None), progress, subscribers)
    notifier.queued()
    try:
        first = memoryview(bytearray(block_size))
        filled = read_full(fp, first)
        if filled < block_size:
            form = FormUploader(uploader.http, uploader.auth, uploader.endpoints, transfer, uploader.policy)
            result = form.upload_fileobj(io.BytesIO(first[:filled]), filled, bucket, key,
                                         progress=notifier.progress if notifier else None, overwrite=overwrite,
                                         mime_type=mime_type, deadline=deadline)
        else:
            result = _StreamBlocks(uploader, tokens, bput_size, notifier).upload(fp, first, bucket, key,
                                                                                 mime_type, deadline)
    except BaseException as exc:
        notifier.done(exc)
        raise
    notifier.done(None if result.ok else _failure(result))
    return result


class _StreamBlocks:
    """The blocks of one stream: read in order by the calling thread, sent by the scheduler's workers."""

    def __init__(self, uploader: Any, tokens: Tokens, bput_size: int, notifier: Notifier) -> None:
        self.uploader = uploader
        self.tokens = tokens
        self.bput_size = bput_size
        self.notifier = notifier
        self.upload_id = new_upload_id()  # the UploadBatch of the steps; nothing can resume it
        self.lock = threading.Lock()
        self.free: List[memoryview] = []
        self.records: Dict[int, BlockRecord] = {}
        self.outcome = Outcome()

    def upload(self, fp: Any, first: memoryview, bucket: str, key: str, mime_type: Optional[str],
               deadline: Optional[int]) -> Result:
        blocks = self._send_all(fp, first)
        if self.outcome.error is not None:
            raise self.outcome.error
        if self.outcome.failure is not None:
            log.info("stream upload to %s:%s stopped: %d (not resumable)", bucket, key, self.outcome.failure.code)
            return self.outcome.failure
        size = sum(block.size for block in blocks)
        up = self.uploader
        api = BlockApi(up.http, up.auth, up.endpoints, up.transfer, up.policy, self.tokens, self.upload_id)
        result = api.mkfile(size, [self.records[b.index].ctx for b in blocks], mime_type, deadline)
        local_etag = file_etag(blocks, self.records)
        if result.code in (406, 701) or is_transient_failure(result):
            result = up._after_lost_mkfile(result, None, self.upload_id, bucket, key, size, local_etag)
        log.info("stream upload of %d bytes (%d blocks) to %s:%s -> %d reqid=%s", size, len(blocks), bucket, key,
                 result.code, result.reqid)
        if (result.ok or result.code == 579) and not up.policy.callbackUrl:
            return verify_hash(result, local_etag, "stream upload of %s:%s" % (bucket, key))
        return result

    def _send_all(self, fp: Any, first: memoryview) -> List[Block]:
        block_size = len(first)
        slots = max(int(self.uploader.transfer.concurrency), 1)
        allocated = 1
        blocks: List[Block] = []
        report = self.notifier.progress if self.notifier else None
        with self.uploader.scheduler.group() as group:
            up = self.uploader
            api = BlockApi(up.http, up.auth, up.endpoints, up.transfer, up.policy, self.tokens, self.upload_id,
                           group.cancel_event)

            def send(block: Block, buffer: memoryview) -> None:
                try:
                    done = api.send_buffer(buffer[:block.size], block, self.bput_size, report)
                finally:
                    with self.lock:
                        self.free.append(buffer)  # read the next block into it
                with self.lock:
                    self.records[block.index] = done

            buffer: Optional[memoryview] = first
            length, offset = block_size, 0
            while buffer is not None:
                block = Block(len(blocks), offset, length)
                blocks.append(block)
                offset += length
                group.submit(send, block, buffer)
                if length < block_size:
                    break  # the stream ended inside this block
                buffer = None
                while buffer is None and not group.stopped:
                    with self.lock:
                        buffer = self.free.pop() if self.free else None
                    if buffer is None and allocated <= slots:
                        allocated += 1
                        buffer = memoryview(bytearray(block_size))
                    if buffer is None:
                        self._settle_one(group)  # wait for a block to finish and free its buffer
                if buffer is None:
                    break  # a block failed: read no more
                length = read_full(fp, buffer)
                if not length:
                    break  # the stream ended exactly after the last block
            for future in group.as_completed():
                self._settle(group, future)
        return blocks

    def _settle_one(self, group: Any) -> None:
        for future in group.as_completed():
            self._settle(group, future)
            return

    def _settle(self, group: Any, future: Any) -> None:
        self.outcome.settle(group, future)


