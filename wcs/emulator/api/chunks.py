"""Receiving multipart chunks: ctx values, one lock per block, and piece hashes kept between chunks.

Each block has a lock of its own, taken while a chunk of it is read and written, and nothing shared
is held during a network read: one slow client never delays another upload.

A ctx is ``<block id>-<offset>-<HMAC>`` ([0-9a-f-] only, so it is path-safe), keyed by the data dir's
secret, so ctx values survive restarts and cannot be forged.

Blocks are hashed once, as they arrive: besides the MD5 and CRC-32 every chunk answer carries, the SHA-1
of each 4 MiB piece of the block (the pieces of the etag) is kept with the block's row, so ``mkfile``
computes the etag from those digests without reading the blocks back (and, with blocks written in place
in their upload's file, usually without copying them either: see :mod:`wcs.emulator.state.blocks`). The
SHA-1 state of a piece still being filled is kept in memory between chunks; after a restart, or when a
chunk is sent again, it is rebuilt from the at most 4 MiB of that piece already on disk. Chunks are
read into one reusable buffer per thread and hashed and written from it.
"""

import hashlib
import hmac
import re
import threading
import zlib
from collections import OrderedDict
from contextlib import contextmanager
from typing import Any, Dict, Iterator, List, NamedTuple, Tuple

from werkzeug.wrappers import Request

from wcs.commons.util import BLOCK_SIZE, EtagHasher
from wcs.emulator.errors import BadContext, InvalidCtx
from wcs.emulator.state import Block

RECEIVE_BUFFER = 1024 * 1024
"""Bytes of a multipart chunk read from the socket at a time (one buffer per handler thread)."""
MAX_PARTIALS = 1024
"""SHA-1 states of partly filled pieces kept between chunks; older ones are rebuilt from disk if needed."""

_CTX = re.compile(r"^([0-9a-f]{32})-([0-9]{1,19})-([0-9a-f]{20})$")


class Received(NamedTuple):
    """What one chunk brought: its length, MD5 (hex) and CRC-32, and the hex SHA-1 of the block's
    complete pieces so far."""

    length: int
    md5: str
    crc32: int
    digests: str


def _pieces_hex(pieces: EtagHasher, complete: bool) -> str:
    """Hex SHA-1 of the complete 4 MiB pieces, and of the partial last one when the block is ``complete``."""
    digests = pieces.block_digests() if complete and pieces.filled else pieces.digests
    return "".join(digest.hex() for digest in digests)


class ChunkReceiver:
    """Writes chunks into the blocks of one store, keyed by its ctx secret."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret
        # block id -> [its lock, how many hold or wait for it]; an entry goes when nobody does
        self._block_locks: Dict[str, List[Any]] = {}
        self._locks_lock = threading.Lock()
        # block id -> (block offset, piece hashes) after the last chunk received; guarded by the block's
        # lock for a given id, and by _partials_lock for the dict itself.
        self._partials: OrderedDict[str, Tuple[int, EtagHasher]] = OrderedDict()
        self._partials_lock = threading.Lock()
        self._buffers = threading.local()

    # -- ctx ----------------------------------------------------------------------------------------

    def ctx(self, block_id: str, offset: int) -> str:
        mac = hmac.new(self._secret, ("%s-%d" % (block_id, offset)).encode(), hashlib.sha256)
        return "%s-%d-%s" % (block_id, offset, mac.hexdigest()[:20])

    def parse_ctx(self, ctx: str) -> Tuple[str, int]:
        """``(block id, offset)`` of a ctx this emulator made; 701 otherwise."""
        match = _CTX.match(ctx.strip())
        if not match or not hmac.compare_digest(self.ctx(match.group(1), int(match.group(2))), ctx.strip()):
            raise InvalidCtx()
        return match.group(1), int(match.group(2))

    # -- chunks -------------------------------------------------------------------------------------

    @contextmanager
    def lock_for(self, block_id: str) -> Iterator[None]:
        """Hold the lock of this one block: chunks of the same block are written one at a time.

        The lock is the block's own, never shared with another block: it is held while the chunk is read
        from the network, so a slow or stalled client only ever delays its own block (a retried chunk
        waits for the earlier copy, at most the server's io timeout).
        """
        with self._locks_lock:
            entry = self._block_locks.get(block_id)
            if entry is None:
                entry = self._block_locks[block_id] = [threading.Lock(), 0]
            entry[1] += 1
        try:
            with entry[0]:
                yield
        finally:
            with self._locks_lock:
                entry[1] -= 1
                if not entry[1]:
                    del self._block_locks[block_id]

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
                        raise BadContext("ctx is ahead of the block data")
                    pieces.update(view[:count])
                    left -= count
        return pieces

    def receive(self, request: Request, block: Block, offset: int) -> Received:
        """Write the request body at ``offset`` of the block's file; at most ``block.size - offset``
        bytes fit (701 :class:`~wcs.emulator.errors.BadContext` otherwise). Call it under
        :meth:`lock_for` the block.

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
                    raise BadContext("chunk runs past the end of the block")
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
        return Received(received, md5.hexdigest(), crc & 0xFFFFFFFF, _pieces_hex(pieces, end == block.size))

    def forget(self, block_id: str) -> None:
        """Drop the cached piece state of a block that is gone."""
        with self._partials_lock:
            self._partials.pop(block_id, None)
