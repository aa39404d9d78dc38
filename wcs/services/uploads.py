"""Uploads in blocks, from any source, through the one pipeline; and the one rule that chooses form or blocks.

:class:`BlockUploader` sends an object in blocks (:mod:`wcs.services.pipeline`) from a file
(resumable: the official ``MultipartUpload``), a stream of unknown length, or bytes in memory;
:class:`BlockWriter` is the same for an object written as its bytes come (the fsspec writer).
:func:`sends_blocks` is the one choice between a form upload and blocks, whoever asks
(``smart_upload``, a tree's files, a stream, a writer).

A file's resume record (:mod:`wcs.services.resume`) is checked before anything is sent:
``upload(..., upload_id=X)`` with an existing record skips the recorded blocks (those whose bytes no
longer match the record are sent again), and the record is removed once ``mkfile`` succeeds. A
stream or a buffer cannot be read twice: nothing is recorded, and a failure means sending it again.
"""

import io
import logging
from typing import Any, BinaryIO, Iterable, List, Optional

from wcs.commons.auth import Auth
from wcs.commons.errors import InvalidArgument, LocalFileError, ResumeError
from wcs.commons.http import HttpClient, Result
from wcs.commons.settings import Endpoints, PolicyDefaults, TransferConfig
from wcs.services.base import UploadService
from wcs.services.blockplan import Block, new_upload_id
from wcs.services.blocksteps import Tokens
from wcs.services.events import Notifier, Progress, Subscriber, TransferInfo
from wcs.services.formupload import FormUploader, PathLike
from wcs.services.pipeline import BlockPipeline, Journal
from wcs.services.resume import RecordStore, ResumeRecord, check_upload_id
from wcs.services.scheduler import Scheduler
from wcs.services.sources import BufferSource, FileSource, StreamSource

log = logging.getLogger(__name__)


def sends_blocks(size: int, threshold: int) -> bool:
    """Whether ``size`` bytes go up in blocks (``mkblk``/``bput`` per block, ``mkfile``) rather than in
    one form request: from ``threshold`` bytes on. The threshold is the caller's: ``block_size`` for a
    stream or a writer (whether the bytes filled the first block), a tree's ``multipart_threshold``,
    ``multi_size`` MiB + 1 for ``smart_upload`` (the official "larger than")."""
    return size >= threshold


class BlockUploader(UploadService):
    """Uploads objects in blocks (see the module docstring).

    Args:
        scheduler: the pool the blocks run on (the client's, shared by every transfer).
    """

    def __init__(self, http: HttpClient, auth: Optional[Auth], endpoints: Endpoints, transfer: TransferConfig,
                 policy: PolicyDefaults, scheduler: Scheduler) -> None:
        super().__init__(http, auth, endpoints, transfer, policy)
        self.scheduler = scheduler

    def form(self) -> FormUploader:
        """The form uploader of the same client, settings and policy (for what ends inside one block)."""
        return FormUploader(self.http, self.auth, self.endpoints, self.transfer, self.policy)

    def pipeline(self, tokens: Tokens, upload_id: str, bucket: str, key: str, journal: Journal,
                 notifier: Optional[Notifier] = None, max_in_flight: Optional[int] = None) -> BlockPipeline:
        return BlockPipeline(self, self.scheduler, tokens, upload_id, bucket=bucket, key=key, journal=journal,
                             notifier=notifier, max_in_flight=max_in_flight)

    @property
    def slots(self) -> int:
        """Blocks of one upload in flight at once."""
        return max(self.transfer.concurrency, 1)

    # -- a file --------------------------------------------------------------------------------

    def upload(self, path: PathLike, bucket: str, key: str, upload_id: Optional[str] = None, *,
               progress: Optional[Progress] = None, subscribers: Iterable[Subscriber] = (),
               overwrite: Optional[int] = None, mime_type: Optional[str] = None,
               deadline: Optional[int] = None, token: Optional[str] = None) -> Result:
        """Upload the file at ``path`` as ``bucket:key`` in blocks; resume when a record exists for ``upload_id``.

        Args:
            upload_id: the upload to resume, or the id to give a fresh upload (default: a new random id).
            progress: called with byte deltas as bytes are sent (negative when a chunk is resent); on
                resume, first with the size of the blocks already uploaded. Called from worker
                threads, never concurrently.
            subscribers: :class:`~wcs.services.events.Subscriber` objects told of this transfer
                (``on_resumed`` with the blocks already stored, when a record is resumed).
            overwrite, mime_type, deadline: as for a form upload.
            token: an upload token made elsewhere, sent as is on every step (then ``overwrite`` and
                the uploader's keys play no part).

        Returns:
            The mkfile Result (``upload_id`` set). On failure, the failing step's Result with
            ``upload_id`` set and the record kept, so the same call with that id resumes. A call
            refused before anything is sent (the Raises below, except a mid-upload file change or
            integrity failure) writes no record.

        Raises:
            ConfigError: no ``put_url`` or no key pair.
            LocalFileError: the file cannot be read or changed while uploading.
            InvalidArgument: bad upload id, ``overwrite`` or ``deadline``.
            ResumeError: the record for ``upload_id`` is corrupt or is not for this file as it is now.
            IntegrityError: mkfile's hash differs from the etag of the bytes sent, or a chunk's
                ``crc32``/``offset`` kept disagreeing with what was sent through every restart of its
                block (the record is kept: resuming sends only the blocks not yet confirmed).
            KeyboardInterrupt, Cancelled: interrupted; blocks in flight are abandoned, the record kept.
        """
        # Everything that can be refused is checked before a record exists, so a call that fails
        # here leaves nothing behind in tmp_record_folder.
        transfer = self.transfer
        upload_id = check_upload_id(upload_id or new_upload_id())
        overwrite = _optional_int("overwrite", overwrite)
        deadline = _optional_int("deadline", deadline)
        self.put_base()  # ConfigError when put_url is missing
        tokens = Tokens.of(self, bucket, key, overwrite, token)
        source = FileSource(path)
        plan = source.plan(transfer.block_size)
        store = RecordStore(transfer.tmp_record_folder, upload_id)
        record = store.load()
        # Every block stored by an earlier run: that run may have sent mkfile too (and crashed before
        # removing the record), so a refusal of this call's mkfile may hide its success.
        resumed_complete = record is not None and all(block.index in record.blocks for block in plan)
        resumed = record is not None
        if record is None:
            record = ResumeRecord(upload_id, source.path, source.size, source.mtime_ns, transfer.block_size,
                                  transfer.chunk_size, bucket, key)
            store.save(record)
            log.info("multipart upload %s of %s (%d bytes, %d blocks) to %s:%s", upload_id, source.path,
                     source.size, len(plan), bucket, key)
        else:
            _check_record(record, store, source, plan, transfer.block_size, bucket, key)
        journal = Journal(record, store)
        notifier = Notifier.of(TransferInfo.new("upload", bucket, key, source.path, source.size), progress,
                               subscribers)
        with notifier.running():
            if resumed:
                notifier.resumed(sum(1 for b in plan if b.index in record.blocks), len(plan))
            notifier.progress(sum(record.blocks[b.index].size for b in plan if b.index in record.blocks))
            todo = [block for block in plan if block.index not in record.blocks]
            with self.pipeline(tokens, upload_id, bucket, key, journal, notifier) as pipeline:
                source.feed(pipeline, todo)
                try:
                    failure = pipeline.finish_blocks()
                except BaseException as exc:
                    log.info("multipart upload %s stopped (%s); %d of %d blocks uploaded, resume with this "
                             "upload id", upload_id, type(exc).__name__, len(record.blocks), len(plan))
                    raise
            if failure is not None:
                log.info("multipart upload %s stopped: %d; %d of %d blocks uploaded, resume with this upload id",
                         upload_id, failure.code, len(record.blocks), len(plan))
                return notifier.settle(failure)
            if source.changed():
                # The blocks may mix old and new content; the record cannot be resumed either.
                journal.drop()
                raise LocalFileError("%s changed while it was being uploaded; upload it again" % source.path)
            return notifier.settle(pipeline.assemble(plan, source.size, mime_type, deadline,
                                                     maybe_done_before=resumed_complete))

    # -- a stream, bytes in memory ---------------------------------------------------------------

    def upload_stream(self, fp: BinaryIO, bucket: str, key: str, *, progress: Optional[Progress] = None,
                      subscribers: Iterable[Subscriber] = (), overwrite: Optional[int] = None,
                      mime_type: Optional[str] = None, deadline: Optional[int] = None) -> Result:
        """Upload everything the binary stream ``fp`` yields (length unknown: a pipe, stdin), in blocks sent
        as they fill; a stream that ends inside its first block goes as one form upload.

        Memory stays near ``(concurrency + 1) * block_size``. Not resumable (nothing is recorded).

        Returns:
            The mkfile (or form upload) Result; on failure the failing step's Result (``upload_id`` None).

        Raises:
            ConfigError, InvalidArgument: as :meth:`upload` (checked before anything is read).
            LocalFileError: the stream cannot be read.
            IntegrityError: the service's hash differs from the etag of the bytes sent.
            KeyboardInterrupt, Cancelled: interrupted; the upload is abandoned.
        """
        overwrite = _optional_int("overwrite", overwrite)
        deadline = _optional_int("deadline", deadline)
        self.put_base()
        tokens = Tokens.of(self, bucket, key, overwrite)  # ConfigError without keys, before anything is read
        source = StreamSource(fp, self.transfer.block_size, self.slots)
        notifier = Notifier.of(TransferInfo.new("upload", bucket, key, None, None), progress, subscribers)
        with notifier.running():
            first = source.read_first()
            if not sends_blocks(len(first), self.transfer.block_size):
                return notifier.settle(self.form().upload_fileobj(
                    io.BytesIO(first), len(first), bucket, key, progress=notifier.progress if notifier else None,
                    overwrite=overwrite, mime_type=mime_type, deadline=deadline))
            with self.pipeline(tokens, new_upload_id(), bucket, key, Journal(), notifier, self.slots) as pipeline:
                blocks = source.feed(pipeline)
                failure = pipeline.finish_blocks()
            if failure is not None:
                log.info("stream upload to %s:%s stopped: %d (not resumable)", bucket, key, failure.code)
                return notifier.settle(failure)
            return notifier.settle(pipeline.assemble(blocks, sum(b.size for b in blocks), mime_type, deadline))

    def upload_buffer(self, data: Any, bucket: str, key: str, *, overwrite: Optional[int] = None,
                      mime_type: Optional[str] = None, progress: Optional[Progress] = None) -> Result:
        """Upload ``data`` (bytes-like, in memory): one form upload when it is shorter than a block, else
        blocks sliced from it (no copy)."""
        overwrite = _optional_int("overwrite", overwrite)
        source = BufferSource(data)
        if not sends_blocks(source.size, self.transfer.block_size):
            return self.form().upload_fileobj(io.BytesIO(source.view), source.size, bucket, key, progress=progress,
                                              overwrite=overwrite, mime_type=mime_type)
        tokens = Tokens.of(self, bucket, key, overwrite)
        plan = source.plan(self.transfer.block_size)
        notifier = Notifier.of(TransferInfo.new("upload", bucket, key, None, source.size), progress)
        with notifier.running():
            with self.pipeline(tokens, new_upload_id(), bucket, key, Journal(), notifier, self.slots) as pipeline:
                source.feed(pipeline, plan)
                failure = pipeline.finish_blocks()
            if failure is not None:
                return notifier.settle(failure)
            return notifier.settle(pipeline.assemble(plan, source.size, mime_type))

    def writer(self, bucket: str, key: str, *, overwrite: Optional[int] = None,
               mime_type: Optional[str] = None) -> "BlockWriter":
        """A :class:`BlockWriter` for ``bucket:key`` (its token is made now: ConfigError without keys)."""
        return BlockWriter(self, bucket, key, overwrite=_optional_int("overwrite", overwrite), mime_type=mime_type)


class BlockWriter:
    """An object written as its bytes come: each whole block handed to :meth:`send` goes out at once, at
    most ``concurrency`` in flight (the caller waits beyond that, so memory stays near
    ``(concurrency + 1) * block_size``); :meth:`finish` sends the rest and assembles the object (one
    form upload when no block was ever full); :meth:`abort` abandons it, and nothing is stored.
    """

    def __init__(self, uploader: BlockUploader, bucket: str, key: str, *, overwrite: Optional[int],
                 mime_type: Optional[str]) -> None:
        self.uploader = uploader
        self.bucket, self.key, self.overwrite, self.mime_type = bucket, key, overwrite, mime_type
        self.block_size = uploader.transfer.block_size
        self.upload_id = new_upload_id()
        self._tokens = Tokens.of(uploader, bucket, key, overwrite)
        self._pipeline: Optional[BlockPipeline] = None
        self._blocks: List[Block] = []
        self.size = 0

    def send(self, data: Any) -> Optional[Result]:
        """Send one block (``block_size`` bytes; only the last may be shorter), without a copy.

        Returns:
            None; the failing step's Result once a block has failed (the upload is then abandoned).

        Raises:
            what a block raised (IntegrityError, Cancelled...); the upload is abandoned.
        """
        if self._pipeline is None:
            self._pipeline = self.uploader.pipeline(self._tokens, self.upload_id, self.bucket, self.key, Journal(),
                                                    max_in_flight=self.uploader.slots)
        view = memoryview(data).cast("B")
        block = Block(len(self._blocks), self.size, len(view))
        if self._pipeline.send_from_memory(view, block):
            self._blocks.append(block)
            self.size += len(view)
            return None
        try:
            return self._pipeline.finish_blocks()
        finally:
            self.abort()

    def finish(self, rest: Any = b"") -> Result:
        """Send ``rest`` (fewer than ``block_size`` bytes) and assemble the object: ``mkfile``, or one form
        upload of ``rest`` when no block was sent before.

        Raises:
            IntegrityError: the service's hash is not the etag of the bytes written.
        """
        if not self._blocks and not sends_blocks(len(rest), self.block_size):
            return self.uploader.form().upload_fileobj(io.BytesIO(rest), len(rest), self.bucket, self.key,
                                                       overwrite=self.overwrite, mime_type=self.mime_type)
        view = memoryview(rest).cast("B")
        for start in range(0, len(view), self.block_size):
            failure = self.send(view[start:start + self.block_size])
            if failure is not None:
                return failure
        pipeline = self._pipeline
        assert pipeline is not None
        try:
            failure = pipeline.finish_blocks()
        except BaseException:
            self.abort()
            raise
        if failure is not None:
            return failure
        return pipeline.assemble(self._blocks, self.size, self.mime_type)

    def abort(self) -> None:
        """Abandon the object: blocks not sent are dropped, those in flight stop (they expire on the service)."""
        if self._pipeline is not None:
            self._pipeline.abort()


def _check_record(record: ResumeRecord, store: RecordStore, source: FileSource, plan: List[Block], block_size: int,
                  bucket: str, key: str) -> None:
    """Raise unless ``record`` describes this file and upload; forget the blocks whose bytes differ.

    Raises:
        ResumeError: the record is for another file, destination or block size, or a block's size differs.
        LocalFileError: the file cannot be read.
    """
    record.check_matches(source.path, source.size, source.mtime_ns, block_size, bucket, key)
    for block in plan:
        done = record.blocks.get(block.index)
        if done is not None and done.size != block.size:
            raise ResumeError("cannot resume upload %s: block %d has %d bytes, the record says %d"
                              % (record.upload_id, block.index, block.size, done.size))
    try:
        if record.drop_blocks_unlike(source.path):  # what mkfile's hash is checked against
            store.save(record)
    except OSError as exc:
        raise LocalFileError("cannot read %s: %s" % (source.path, exc.strerror or exc)) from None
    log.info("resuming multipart upload %s: %d of %d blocks already uploaded", record.upload_id,
             len(record.blocks), len(plan))


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
