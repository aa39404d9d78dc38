"""The one block-upload pipeline: every object that goes up in blocks goes through :class:`BlockPipeline`.

Whatever the source (:mod:`wcs.services.sources`: a file whose blocks the workers read from disk, a
stream or a writer whose blocks are already in memory), an object in blocks is the same machine:
an upload id and its tokens; each block a task of one group on the client's pool, sent chunk by
chunk and restarted from ``mkblk`` when the service lost it (:class:`~wcs.services.blocksteps.BlockSteps`);
each confirmed block kept in a :class:`Journal` (also on disk, in the resume record, for a file, by
the worker that sent it and before it takes another block: an interruption loses at most the blocks
in flight); the first failure stops new blocks (:class:`FirstFailure`); progress and the outcome
go to the transfer's notifier; then :meth:`BlockPipeline.assemble`.

The one rule for a ``mkfile`` whose answer may have been lost: when it fails after its answer may
have gone missing (no answer, a retried ``mkfile``, or ``maybe_done_before``: a resumed upload whose
blocks were all stored already, i.e. a crash after an earlier ``mkfile``) with a 406 (the key exists),
a 701 (the blocks are gone) or a transient failure, ``stat`` decides: an object with exactly this size
and etag is this upload, done. Otherwise the answer stands, for every source alike: a 406 to a
first ``mkfile`` stays a 406 even for identical content, and a 701 drops the record (its contexts
are dead; the same call then starts afresh).
"""

import logging
import threading
from concurrent.futures import Future
from typing import Any, Callable, Dict, List, Optional

from wcs.commons.errors import Cancelled
from wcs.commons.http import Result, is_transient_failure
from wcs.services.base import UploadService
from wcs.services.blockplan import Block, file_etag
from wcs.services.blocksteps import BlockFailed, BlockSteps, Buffers, Tokens
from wcs.services.bucket import BucketManager
from wcs.services.events import Notifier
from wcs.services.formupload import answer_may_be_lost, stored_exactly, verify_hash
from wcs.services.groupcommit import GroupCommit
from wcs.services.resume import BlockRecord, RecordStore, ResumeRecord
from wcs.services.scheduler import Scheduler, TaskGroup

log = logging.getLogger(__name__)


class Journal:
    """The blocks the service confirmed for one upload, by index; with a resume record, also on disk.

    Workers that finish together share one record write (:class:`~wcs.services.groupcommit.GroupCommit`).
    """

    def __init__(self, record: Optional[ResumeRecord] = None, store: Optional[RecordStore] = None) -> None:
        self.blocks: Dict[int, BlockRecord] = record.blocks if record is not None else {}
        self.store = store
        self._lock = threading.Lock()
        self._commit: Optional[GroupCommit[str]] = None
        if store is not None and record is not None:
            self._commit = GroupCommit(lambda: store.dumps(record), store.write)

    @property
    def resumable(self) -> bool:
        return self.store is not None

    def add(self, done: BlockRecord) -> None:
        """Keep a confirmed block; with a record, return only once a record holding it is on disk."""
        if self._commit is not None:
            self._commit.commit(lambda: self.blocks.__setitem__(done.index, done))
        else:
            with self._lock:
                self.blocks[done.index] = done

    def drop(self) -> None:
        """Remove the record: the object is stored, or its blocks can never be assembled."""
        if self.store is not None:
            self.store.remove()


class FirstFailure:
    """The first failure among the block tasks of one upload: a Result to report, or an exception to raise."""

    def __init__(self) -> None:
        self.failure: Optional[Result] = None
        self.error: Optional[BaseException] = None

    def settle(self, group: TaskGroup, future: Future) -> None:
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


class BlockPipeline:
    """One object sent in blocks (see the module docstring); use as a context manager, which leaves on an
    exception by cancelling the blocks (those in flight stop within one slice).

    Args:
        service: the uploader whose HTTP client, signer, endpoints, settings and policy are used.
        scheduler: the pool the blocks run on (its calling-thread view for ``concurrency = 0``).
        tokens: the upload tokens. upload_id: sent as ``UploadBatch`` on every step.
        journal: where confirmed blocks are kept (and recorded, for a resumable upload).
        notifier: told the bytes sent (negative when a chunk is resent).
        max_in_flight: at most this many blocks queued or running; a send waits for one to finish
            first (blocks in memory: that bounds the memory); None: no bound (a file's blocks are
            read by the workers, one chunk buffer each).
    """

    def __init__(self, service: UploadService, scheduler: Scheduler, tokens: Tokens, upload_id: str, *,
                 bucket: str, key: str, journal: Journal, notifier: Optional[Notifier] = None,
                 max_in_flight: Optional[int] = None) -> None:
        self.service = service
        self.bucket, self.key = bucket, key
        self.upload_id = upload_id
        self.journal = journal
        self.bput_size = service.transfer.chunk_size
        self.max_in_flight = max_in_flight
        self.group = scheduler.group()
        self.steps = BlockSteps(service.http, service.auth, service.endpoints, service.transfer, service.policy,
                                tokens, upload_id, self.group.cancel_event)
        self._report = notifier.progress if notifier else None
        self._outcome = FirstFailure()
        self._pending = 0

    def __enter__(self) -> "BlockPipeline":
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is not None:
            self.abort()

    @property
    def stopped(self) -> bool:
        """True once a block failed (or the upload was aborted): no further block is sent."""
        return self.group.stopped

    # -- blocks ----------------------------------------------------------------------------------

    def send_from_file(self, path: str, block: Block, buffers: Buffers) -> bool:
        """Queue ``block`` of the file at ``path``, to be read chunk by chunk into the worker's buffer;
        False (nothing queued) when the upload has stopped."""
        return self._submit(self._file_block, path, block, buffers)

    def send_from_memory(self, data: memoryview, block: Block, release: Optional[Callable[[], None]] = None) -> bool:
        """Queue ``block`` whose bytes are ``data`` (sent without a copy; ``release()`` is called once they
        are no longer needed); False (nothing queued) when the upload has stopped."""
        if len(data) != block.size:
            raise ValueError("block %d has %d bytes, the buffer %d" % (block.index, block.size, len(data)))
        return self._submit(self._memory_block, data, block, release)

    def _submit(self, task: Callable[..., None], *args: Any) -> bool:
        while self.max_in_flight is not None and self._pending >= self.max_in_flight and not self.stopped:
            self.wait_one()
        if self.stopped:
            return False
        self.group.submit(task, *args)
        self._pending += 1
        return True

    def _file_block(self, path: str, block: Block, buffers: Buffers) -> None:
        self._confirmed(self.steps.send_block(path, block, self.bput_size, self._report, buffers.get()))

    def _memory_block(self, data: memoryview, block: Block, release: Optional[Callable[[], None]]) -> None:
        try:
            done = self.steps.send_buffer(data, block, self.bput_size, self._report)
        finally:
            if release is not None:
                release()
        self._confirmed(done)

    def _confirmed(self, done: BlockRecord) -> None:
        self.journal.add(done)  # by the worker at once: durable before it takes the next block
        log.debug("upload %s: block %d done (%d so far)", self.upload_id, done.index, len(self.journal.blocks))

    def wait_one(self) -> None:
        """Wait until one queued or running block has finished (a failure stops the upload)."""
        for future in self.group.as_completed():
            self._pending -= 1
            self._outcome.settle(self.group, future)
            return
        self._pending = 0

    def finish_blocks(self) -> Optional[Result]:
        """Wait for every block: None when all of them are stored, else the first failure's Result.

        Raises:
            the first exception of a block (IntegrityError, LocalFileError, Cancelled, KeyboardInterrupt...).
        """
        for future in self.group.as_completed():
            self._outcome.settle(self.group, future)
        self._pending = 0
        if self._outcome.error is not None:
            raise self._outcome.error
        failure = self._outcome.failure
        if failure is not None and self.journal.resumable:
            return failure.with_upload_id(self.upload_id)
        return failure

    def abort(self) -> None:
        """Stop: blocks not started are dropped, those in flight stop within a slice (nothing is assembled)."""
        self.group.cancel()
        self.group.join()
        self._pending = 0

    # -- assembly --------------------------------------------------------------------------------

    def assemble(self, blocks: List[Block], size: int, mime_type: Optional[str] = None,
                 deadline: Optional[int] = None, *, maybe_done_before: bool = False) -> Result:
        """``mkfile`` of ``blocks`` (all stored), with the one rule for a lost answer (module docstring).

        Returns:
            The mkfile Result (``upload_id`` set for a resumable upload), or the stored object's answer.

        Raises:
            IntegrityError: the service's hash is not the etag of the bytes sent.
        """
        records = self.journal.blocks
        upload_id = self.upload_id if self.journal.resumable else None
        result = self.steps.mkfile(size, [records[b.index].ctx for b in blocks], mime_type, deadline)
        result = result.with_upload_id(upload_id)
        local = file_etag(blocks, records)
        lost = maybe_done_before or answer_may_be_lost(result)
        if lost and (result.code in (406, 701) or is_transient_failure(result)):
            objects = BucketManager(self.service.http, self.service.auth, self.service.endpoints)
            stat = stored_exactly(objects, self.bucket, self.key, size, local)
            if stat is not None:
                log.info("upload %s: blocks already assembled into %s:%s (same hash); done", self.upload_id,
                         self.bucket, self.key)
                self.journal.drop()
                return Result(200, {"hash": local, "key": self.key}, stat.headers, upload_id=upload_id)
        if result.code == 701:
            log.info("upload %s: the service no longer knows its blocks; the record is dropped", self.upload_id)
            self.journal.drop()
        if result.ok or result.code == 579:
            # 579: stored, only the callback failed. Either way the record has served its purpose.
            self.journal.drop()
            log.info("upload %s of %s:%s (%d bytes, %d blocks) -> %d reqid=%s", self.upload_id, self.bucket,
                     self.key, size, len(blocks), result.code, result.reqid)
            if self.service.policy.callbackUrl:
                return result  # the body is the callback server's answer, not the service's
            return verify_hash(result, local, "upload of %s:%s" % (self.bucket, self.key))
        log.info("mkfile of upload %s failed: %d reqid=%s", self.upload_id, result.code, result.reqid)
        return result
