"""Writing an object as its bytes come: blocks sent with ``mkblk``/``bput`` as they fill, ``mkfile`` at the end.

:class:`BlockWriter` takes whole blocks (``block_size``, a multiple of 4 MiB) from the file being
written and sends each one on the client's scheduler, at most ``concurrency`` at a time: the caller
blocks while that many are in flight, so memory stays at about ``(concurrency + 1) * block_size``
whatever the object's size. The bytes are hashed (WCS etag) in order as they are handed over, and
the hash ``mkfile`` answers must equal it. An object smaller than one block never gets here: it
goes by one form upload (:func:`form_upload`).

A block whose chunk the service lost or confirmed wrongly (701/412, a ``crc32``/``offset`` that
disagrees, a transient failure that outlived the chunk's retries) is sent again from ``mkblk``, as
the multipart uploader does; ``overwrite=0`` makes ``mkfile`` refuse an existing key (406).
"""

import io
import logging
from concurrent.futures import Future
from typing import List, Optional, Union

from wcs.commons.errors import IntegrityError
from wcs.commons.http import Result, is_transient_failure
from wcs.commons.util import EtagHasher
from wcs.fs.errors import answer_body, answer_hash, check
from wcs.services.blockapi import BlockApi, BlockFailed, Tokens
from wcs.services.blocks import Block, new_upload_id
from wcs.services.client import Client

log = logging.getLogger(__name__)

Data = Union[bytes, bytearray, memoryview]


def form_upload(client: Client, bucket: str, key: str, data: Data, *, overwrite: int,
                mime_type: Optional[str] = None, name: str = "") -> Result:
    """Upload ``data`` as ``bucket``/``key`` in one form request (the form uploader verifies the hash).

    Raises:
        FileExistsError: ``overwrite`` is 0 and the key exists.
        OSError: any other failure.
    """
    result = client.form_uploader().upload_fileobj(io.BytesIO(data), len(data), bucket, key, overwrite=overwrite,
                                                   mime_type=mime_type)
    return check(result, name or "%s/%s" % (bucket, key), "upload")


class BlockWriter:
    """One object uploaded block by block from memory; :meth:`send` blocks, :meth:`finish` assembles them.

    Args:
        client: the client whose HTTP session, signer and scheduler carry the blocks.
        overwrite: 1 to replace an existing object, 0 to fail (406) if the key exists.
    """

    def __init__(self, client: Client, bucket: str, key: str, *, overwrite: int,
                 mime_type: Optional[str] = None, name: str = "") -> None:
        transfer = client.cfg.transfer
        self.block_size, self.bput_size = transfer.block_size, transfer.chunk_size
        self.bucket, self.key, self.mime_type = bucket, key, mime_type
        self.name = name or "%s/%s" % (bucket, key)
        self.upload_id = new_upload_id()
        self.client = client
        uploader = client.multipart_uploader(transfer)
        tokens = Tokens(lambda: uploader.upload_token(bucket, key, overwrite), uploader.policy.deadline or 3600)
        tokens()  # ConfigError now, without keys, rather than in a worker
        self._group = uploader.scheduler.group()
        self._api = BlockApi(uploader.http, uploader.auth, uploader.endpoints, transfer, uploader.policy, tokens,
                             self.upload_id, self._group.cancel_event)
        self._in_flight = max(transfer.concurrency, 1)
        self._futures: List[Future] = []
        self._pending = 0
        self._hasher = EtagHasher()
        self.size = 0

    # -- blocks --------------------------------------------------------------------------------------

    def send(self, data: Data) -> None:
        """Queue one block (``block_size`` bytes, or fewer for the last); waits while too many are in flight.

        Raises:
            OSError: an earlier block failed (the upload is abandoned).
        """
        view = memoryview(data).cast("B")
        self._hasher.update(view)
        self.size += len(view)
        self._futures.append(self._group.submit(self._send_block, len(self._futures), view))
        self._pending += 1
        while self._pending >= self._in_flight:
            self._wait_one()

    def _wait_one(self) -> None:
        for future in self._group.as_completed():
            self._pending -= 1
            if not future.cancelled() and future.exception() is not None:
                self.abort()
                self._raise(future.exception())
            return
        self._pending = 0  # nothing left in the group: every block has been accounted for

    def _raise(self, exc: Optional[BaseException]) -> None:
        if isinstance(exc, BlockFailed):
            check(exc.result, self.name, "block upload")
        if exc is not None:
            raise exc

    def _send_block(self, index: int, data: memoryview) -> str:
        """Send block ``index`` chunk by chunk (restarted from mkblk when the service lost it); its last ``ctx``."""
        block = Block(index, index * self.block_size, len(data))
        return self._api.send_buffer(data, block, self.bput_size, None).ctx

    def abort(self) -> None:
        """Stop sending: blocks not started are dropped, those in flight stop within a slice."""
        self._group.cancel()
        self._group.join()
        self._pending = 0

    # -- assembly ------------------------------------------------------------------------------------

    def finish(self) -> Result:
        """Wait for every block, then ``mkfile``; the answer, its hash checked against the bytes sent.

        Raises:
            FileExistsError: ``overwrite`` was 0 and the key exists.
            IntegrityError: the service's hash is not the etag of the bytes written.
            OSError: a block or ``mkfile`` failed.
        """
        while self._pending:
            self._wait_one()
        ctxs = [future.result() for future in self._futures]
        local = self._hasher.etag()
        result = self._api.mkfile(self.size, ctxs, self.mime_type)
        if result.code in (406, 701) or is_transient_failure(result):
            result = self._stored_anyway(result, local)
        check(result, self.name, "mkfile")
        remote = answer_hash(result)
        if remote is not None and remote != local and not self.client.cfg.policy.callbackUrl:
            raise IntegrityError("upload of %s: the service stored hash %s but the bytes written hash to %s "
                                 "(reqid %s)" % (self.name, remote, local, result.reqid), result)
        log.debug("wrote %s: %d bytes in %d blocks (%s)", self.name, self.size, len(ctxs), local)
        return result

    def _stored_anyway(self, result: Result, local: str) -> Result:
        """A success when the failed ``mkfile`` in fact stored these bytes (an earlier attempt's answer was lost)."""
        stat = self.client.stat(self.bucket, self.key)
        body = answer_body(stat)
        if stat.code == 200 and body.get("hash") == local and str(body.get("fsize")) == str(self.size):
            return Result(200, {"hash": local, "key": self.key}, stat.headers)
        return result
