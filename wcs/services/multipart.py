"""Multipart (block) upload of one file: blocks in parallel on the scheduler, ``mkfile`` to assemble, resumable.

The file is planned up front (:mod:`wcs.services.blocks`). Its blocks are tasks of one group on the
client's :class:`~wcs.services.scheduler.Scheduler` (at most ``concurrency`` at once across every
transfer of the client; 0: one after the other in the calling thread); each is sent by
:meth:`~wcs.services.blockapi.BlockApi.send_block` from one reusable buffer per worker, so memory is
about ``concurrency * bput_size`` whatever the file size. The SHA-1 of each 4 MiB etag block is
computed while the chunk is read, so the etag of the whole file is known when ``mkfile`` answers,
without reading the file twice, and is compared with the ``hash`` it returns.

The resume record (:mod:`wcs.services.resume`) is rewritten atomically by the worker that finished a
block, before that worker takes the next one: what is recorded is durable at once, so an
interruption at any moment (Ctrl-C twice, SIGKILL) loses at most the blocks in flight.
``upload(..., upload_id=X)`` with an existing record skips the recorded blocks; the record is
removed once ``mkfile`` succeeds. When ``mkfile`` fails after an answer may have been lost (no
answer, a retried mkfile, or a resumed upload whose blocks were all stored already, i.e. a crash
after an earlier mkfile), ``stat`` decides: an object with this file's size and etag means the
upload is done. A 406 to a first mkfile of this call stays a 406, even for identical content.
"""

import logging
import os
from typing import Any, Iterable, List, Optional

from wcs.commons.auth import Auth
from wcs.commons.errors import ConfigError, InvalidArgument, LocalFileError, ResumeError, WcsError
from wcs.commons.http import HttpClient, Result, is_transient_failure
from wcs.commons.settings import Endpoints, PolicyDefaults, TransferConfig
from wcs.services.base import UploadService
from wcs.services.blockapi import BlockApi, Buffers, Outcome, Tokens, as_int
from wcs.services.blocks import Block, file_etag, new_upload_id, plan_blocks
from wcs.services.bucket import BucketManager
from wcs.services.events import Notifier, Progress, Subscriber, TransferInfo
from wcs.services.groupcommit import GroupCommit
from wcs.services.resume import BlockRecord, RecordStore, ResumeRecord, check_upload_id
from wcs.services.scheduler import Scheduler
from wcs.services.upload import PathLike, answer_may_be_lost, open_for_upload, verify_hash

log = logging.getLogger(__name__)

__all__ = ["Block", "MultipartUploader", "file_etag", "new_upload_id",
           "plan_blocks"]


class MultipartUploader(UploadService):
    """Uploads one file in blocks, resumably (the official ``MultipartUpload``).

    Args:
        scheduler: the pool the blocks run on (shared by every transfer of a client).
    """

    def __init__(self, http: HttpClient, auth: Optional[Auth], endpoints: Endpoints, transfer: TransferConfig,
                 policy: PolicyDefaults, scheduler: Scheduler) -> None:
        super().__init__(http, auth, endpoints, transfer, policy)
        self.scheduler = scheduler

    def upload(self, path: PathLike, bucket: str, key: str, upload_id: Optional[str] = None, *,
               progress: Optional[Progress] = None, subscribers: Iterable[Subscriber] = (),
               overwrite: Optional[int] = None, mime_type: Optional[str] = None,
               deadline: Optional[int] = None, token: Optional[str] = None) -> Result:
        """Upload ``path`` as ``bucket:key``; resume when a record exists for ``upload_id``.

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
            InvalidArgument: bad block size, bput size, upload id, ``overwrite`` or ``deadline``.
            ResumeError: the record for ``upload_id`` is corrupt or is not for this file as it is now.
            IntegrityError: mkfile's hash differs from the etag of the bytes sent, or a chunk's
                ``crc32``/``offset`` kept disagreeing with what was sent through every restart of its
                block (the record is kept: resuming sends only the blocks not yet confirmed).
            KeyboardInterrupt, Cancelled: interrupted; blocks in flight are abandoned, the record kept.
        """
        # Everything that can be refused is checked before a record exists, so a call that fails
        # here leaves nothing behind in tmp_record_folder.
        transfer = self.transfer
        block_size, bput_size = transfer.block_size, transfer.chunk_size
        upload_id = check_upload_id(upload_id or new_upload_id())
        overwrite = _optional_int("overwrite", overwrite)
        deadline = _optional_int("deadline", deadline)
        self.put_base()  # ConfigError when put_url is missing
        if token is not None:
            given = token
            tokens = Tokens(lambda: given, float("inf"))  # made elsewhere: sent as given, never renewed
        else:
            tokens = Tokens(lambda: self.upload_token(bucket, key, overwrite), self.policy.deadline or 3600)
        tokens()  # ConfigError without keys; the token is kept for the first requests
        with open_for_upload(path) as fp:
            st = os.fstat(fp.fileno())
        abspath = os.path.abspath(os.fspath(path))
        size, mtime_ns = st.st_size, st.st_mtime_ns

        store = RecordStore(transfer.tmp_record_folder, upload_id)
        record = store.load()
        plan = plan_blocks(size, block_size)
        # Every block stored by an earlier run: that run may have sent mkfile too (and crashed before
        # removing the record), so a refusal of this call's mkfile may hide its success.
        resumed_complete = record is not None and all(block.index in record.blocks for block in plan)
        resumed = record is not None
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
            try:
                if record.drop_blocks_unlike(abspath):  # what mkfile's hash is checked against
                    store.save(record)
            except OSError as exc:
                raise LocalFileError("cannot read %s: %s" % (abspath, exc.strerror or exc)) from None
            log.info("resuming multipart upload %s: %d of %d blocks already uploaded", upload_id,
                     len(record.blocks), len(plan))

        notifier = Notifier.of(TransferInfo.new("upload", bucket, key, abspath, size), progress, subscribers)
        notifier.queued()
        if resumed:
            notifier.resumed(sum(1 for b in plan if b.index in record.blocks), len(plan))
        try:
            result = self._upload_blocks(notifier, tokens, upload_id, abspath, plan, bput_size, record, store)
            if result is None:
                result = self._assemble(tokens, upload_id, abspath, size, mtime_ns, plan, record, store, bucket,
                                        key, mime_type, deadline, resumed_complete)
        except BaseException as exc:
            notifier.done(exc)
            raise
        notifier.done(None if result.ok else _failure(result))
        return result

    def _upload_blocks(self, notifier: Notifier, tokens: Tokens, upload_id: str, abspath: str, plan: List[Block],
                       bput_size: int, record: ResumeRecord, store: RecordStore) -> Optional[Result]:
        """Send the blocks not yet recorded; None when all are stored, else the first failure's Result."""
        notifier.progress(sum(record.blocks[b.index].size for b in plan if b.index in record.blocks))
        todo = [block for block in plan if block.index not in record.blocks]
        buffers = Buffers(bput_size)
        # Workers finishing together share one record write (see GroupCommit).
        recorder: GroupCommit[str] = GroupCommit(lambda: store.dumps(record), store.write)
        outcome = Outcome()
        report = notifier.progress if notifier else None
        with self.scheduler.group() as group:
            api = BlockApi(self.http, self.auth, self.endpoints, self.transfer, self.policy, tokens, upload_id,
                           group.cancel_event)

            def send(block: Block) -> BlockRecord:
                done = api.send_block(abspath, block, bput_size, report, buffers.get())

                def remember() -> None:
                    record.blocks[done.index] = done

                recorder.commit(remember)  # recorded by the worker at once: durable before it takes the next block
                log.debug("upload %s: block %d done (%d/%d)", upload_id, done.index, len(record.blocks), len(plan))
                return done

            for block in todo:
                group.submit(send, block)
            for future in group.as_completed():
                outcome.settle(group, future)
        error, failure = outcome.error, outcome.failure
        if error is not None:
            log.info("multipart upload %s stopped (%s); %d of %d blocks uploaded, resume with this upload id",
                     upload_id, type(error).__name__, len(record.blocks), len(plan))
            raise error
        if failure is not None:
            log.info("multipart upload %s stopped: %d; %d of %d blocks uploaded, resume with this upload id",
                     upload_id, failure.code, len(record.blocks), len(plan))
            return failure.with_upload_id(upload_id)
        return None

    def _assemble(self, tokens: Tokens, upload_id: str, abspath: str, size: int, mtime_ns: int, plan: List[Block],
                  record: ResumeRecord, store: RecordStore, bucket: str, key: str, mime_type: Optional[str],
                  deadline: Optional[int], resumed_complete: bool = False) -> Result:
        try:
            now = os.stat(abspath)
        except OSError as exc:
            raise LocalFileError("%s vanished while uploading: %s" % (abspath, exc.strerror or exc)) from None
        if (now.st_size, now.st_mtime_ns) != (size, mtime_ns):
            # The blocks may mix old and new content; the record cannot be resumed either.
            store.remove()
            raise LocalFileError("%s changed while it was being uploaded; upload it again" % abspath)

        api = BlockApi(self.http, self.auth, self.endpoints, self.transfer, self.policy, tokens, upload_id)
        result = api.mkfile(size, [record.blocks[b.index].ctx for b in plan], mime_type, deadline)
        result = result.with_upload_id(upload_id)
        local_etag = file_etag(plan, record.blocks)
        lost = resumed_complete or answer_may_be_lost(result)
        if lost and (result.code in (406, 701) or is_transient_failure(result)):
            result = self._after_lost_mkfile(result, store, upload_id, bucket, key, size, local_etag)
        elif result.code == 701:
            log.info("upload %s: the service no longer knows its blocks; the record is dropped", upload_id)
            store.remove()
        if result.ok or result.code == 579:
            # 579: stored, only the callback failed. Either way the record has served its purpose.
            store.remove()
            log.info("multipart upload %s of %s:%s -> %d reqid=%s", upload_id, bucket, key, result.code,
                     result.reqid)
            if self.policy.callbackUrl:
                return result  # the body is the callback server's answer, not the service's
            return verify_hash(result, local_etag, "multipart upload of %s:%s" % (bucket, key))
        log.info("mkfile of upload %s failed: %d reqid=%s", upload_id, result.code, result.reqid)
        return result

    def _after_lost_mkfile(self, result: Result, store: Optional[RecordStore], upload_id: str, bucket: str,
                           key: str, size: int, local_etag: str) -> Result:
        """mkfile says the key exists (406), the blocks are gone (701) or gave no answer after every
        retry (5xx, -1) after an answer may have been lost: maybe they already became this object.

        That happens when an earlier mkfile succeeded but its answer was lost (a retried request, or a
        crash before the record was removed): if the stored object has exactly the size and etag of
        this file, the upload is done. Otherwise a 406 keeps the record (resume with ``overwrite``)
        and a 701 drops it, since its contexts are dead: the same call then starts afresh. A stream
        upload has no record (``store`` None).
        """
        try:
            stat = BucketManager(self.http, self.auth, self.endpoints).stat(bucket, key)
        except ConfigError:  # no mgr_url: cannot tell
            stat = None
        if stat is not None and stat.code == 200 and isinstance(stat.data, dict) and \
                stat.data.get("hash") == local_etag and as_int(stat.data.get("fsize")) == size:
            log.info("upload %s: blocks already assembled into %s:%s (same hash); done", upload_id, bucket, key)
            if store is not None:
                store.remove()
            return Result(200, {"hash": local_etag, "key": key}, stat.headers,
                          upload_id=upload_id if store is not None else None)
        if result.code == 701 and store is not None:
            log.info("upload %s: the service no longer knows its blocks; the record is dropped", upload_id)
            store.remove()
        return result


def _failure(result: Result) -> BaseException:
    try:
        result.raise_for_status()
    except WcsError as exc:
        return exc
    return WcsError("HTTP %d" % result.code)  # pragma: no cover - only called for failures


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
