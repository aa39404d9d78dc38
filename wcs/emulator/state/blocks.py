"""Multipart blocks on disk (``mkblk`` / ``bput``) and their merge into an object (``mkfile``).

A block lives in ``blocks/<id>``, or, for an upload that names its batch (``UploadBatch``) and uses
blocks of whole 4 MiB pieces, straight at its place in one sparse file per batch, ``blocks/u-<hash>``
(block ``n`` of size ``s`` at ``n * s``), so ``mkfile`` usually has no bytes to copy: it appends what
is not in place (the short last block), cuts the file to the object size and renames it into
``objects/``. A block whose place is taken (a block sent again while the first copy is still live, a
last block whose place overlaps another) gets a file of its own, and ``mkfile`` falls back to copying
whenever the batch file holds blocks that are not part of the object. Until then the file lives in
``blocks/``: nothing is visible before it is complete.

Each block's row keeps the SHA-1 of every complete 4 MiB piece received, so ``mkfile`` computes the
etag without reading the blocks back.
"""

import hashlib
import os
import sqlite3
import uuid
from typing import Any, Callable, ContextManager, List, Optional

from wcs.commons.fsutil import discard
from wcs.commons.util import BLOCK_SIZE, EtagHasher, etag_from_block_digests
from wcs.emulator.errors import IncompleteBlocks, InvalidCtx
from wcs.emulator.state.model import Block, ObjectFiles, ObjectInfo, now_ms

_COLUMNS = "id, batch, size, ord, received, digests, file, base, scope"
_COPY_BUFFER = 1024 * 1024
MAX_IN_PLACE_END = 1 << 40
"""Blocks are placed in a batch file only below this offset (a huge block order stays sane)."""


class BlockStore:
    """The blocks of one data dir; :meth:`merge` commits them as an object of ``objects``, whose
    database connection and lock they share."""

    def __init__(self, db: sqlite3.Connection, lock: ContextManager[Any], blocks_dir: str,
                 objects: ObjectFiles) -> None:
        self._db = db
        self._lock = lock
        self.blocks_dir = blocks_dir
        self._objects = objects

    def _block(self, row: tuple) -> Block:
        block_id, batch, size, order, received, digests, file, base, scope = row
        return Block(block_id, batch, size, order, received, os.path.join(self.blocks_dir, file or block_id),
                     digests, base, file is not None, scope)

    def new(self, batch: Optional[str], size: int, order: int, scope: Optional[str] = None) -> Block:
        """A new, empty block: at its place in the batch file when it can be, else in a file of its own;
        bound to the upload token ``scope`` it was made under."""
        block_id = uuid.uuid4().hex
        file, base = None, 0
        with self._lock, self._db as conn:
            start = order * size
            if batch and size % BLOCK_SIZE == 0 and start + size <= MAX_IN_PLACE_END:
                name = "u-" + hashlib.sha1(batch.encode("utf-8", "surrogateescape")).hexdigest()
                taken = conn.execute("SELECT 1 FROM blocks WHERE file=? AND base < ? AND base + size > ? "
                                     "LIMIT 1", (name, start + size, start)).fetchone()
                if taken is None:
                    file, base = name, start
            path = os.path.join(self.blocks_dir, file or block_id)
            # Created under the lock: mkfile renames a batch file away under the same lock.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | (0 if file else os.O_TRUNC), 0o644)
            os.close(fd)
            conn.execute("INSERT INTO blocks (id, batch, size, ord, received, created, digests, file, base, scope) "
                         "VALUES (?, ?, ?, ?, 0, ?, '', ?, ?, ?)",
                         (block_id, batch, size, order, now_ms(), file, base, scope))
        return Block(block_id, batch, size, order, 0, path, "", base, file is not None, scope)

    def get(self, block_id: str) -> Optional[Block]:
        with self._lock:
            row = self._db.execute("SELECT %s FROM blocks WHERE id=?" % _COLUMNS, (block_id,)).fetchone()
        return None if row is None else self._block(row)

    def set_received(self, block_id: str, received: int, digests: str = "") -> None:
        """Record how many bytes of the block are stored, and the hex SHA-1 of its complete pieces."""
        with self._lock, self._db as conn:
            conn.execute("UPDATE blocks SET received=?, digests=? WHERE id=?", (received, digests, block_id))

    def drop(self, block_ids: List[str]) -> None:
        """Forget blocks; a file goes with the last block that lives in it."""
        with self._lock:
            files = self._files_of(block_ids)
            with self._db:
                self._db.executemany("DELETE FROM blocks WHERE id=?", [(b,) for b in block_ids])
            self._discard_unused(files)

    def _files_of(self, block_ids: List[str]) -> List[str]:
        files = set()
        for block_id in block_ids:
            row = self._db.execute("SELECT COALESCE(file, id) FROM blocks WHERE id=?", (block_id,)).fetchone()
            if row is not None:
                files.add(row[0])
        return sorted(files)

    def _discard_unused(self, files: List[str]) -> None:
        for name in files:
            if self._db.execute("SELECT 1 FROM blocks WHERE id=? OR file=? LIMIT 1", (name, name)).fetchone() is None:
                discard(os.path.join(self.blocks_dir, name))

    def recover(self, created_before: int) -> None:
        """At start: drop blocks created before ``created_before`` (ms), blocks whose file is gone, and
        files no block lives in."""
        with self._lock:
            stale = [row[0] for row in self._db.execute("SELECT id FROM blocks WHERE created < ?",
                                                        (created_before,))]
            self.drop(stale)
            present = set(os.listdir(self.blocks_dir))
            gone = [row[0] for row in self._db.execute("SELECT id, COALESCE(file, id) FROM blocks")
                    if row[1] not in present]
            self.drop(gone)
            live = {row[0] for row in self._db.execute("SELECT COALESCE(file, id) FROM blocks")}
        for name in present:
            if name not in live:
                discard(os.path.join(self.blocks_dir, name))

    def merge(self, blocks: List[Block], bucket: str, key: str, fsize: int, mime_type: str,
              expires_at: Optional[int] = None, overwrite: bool = True) -> ObjectInfo:
        """Store the blocks, joined in this order, as ``bucket``/``key`` and forget them (``mkfile``).

        The etag comes from the piece digests kept with the blocks when they give it. When the first
        blocks are the only content of their batch file, at their places from offset 0, that file
        becomes the object (the rest is appended to it); otherwise the blocks are copied into a new file.

        Raises:
            InvalidCtx: a block is unknown or already merged (701).
            IncompleteBlocks: a block's data is short (412).
            FileExists: as :meth:`~wcs.emulator.state.objects.Objects.put_file` (406).
        """
        etag = stored_etag(blocks)
        ids = [block.id for block in blocks]

        def forget(conn: sqlite3.Connection) -> None:  # in the commit: blocks and object never both live
            conn.executemany("DELETE FROM blocks WHERE id=?", [(block_id,) for block_id in ids])

        with self._lock:
            for block in blocks:
                if not os.path.exists(block.path):
                    raise InvalidCtx("block %d data is missing" % block.order)
            if etag is not None:
                info = self._merge_in_place(blocks, bucket, key, fsize, etag, mime_type, expires_at, overwrite,
                                            forget)
                if info is not None:
                    return info
        temp = self._objects.new_temp_path()
        try:
            etag = assemble(blocks, temp, 0, etag)
            with self._lock:
                files = self._files_of(ids)
                info = self._objects.put_file(bucket, key, temp, fsize, etag, mime_type, expires_at,
                                              overwrite=overwrite, also=forget)
                self._discard_unused(files)
        finally:
            discard(temp)
        return info

    def _merge_in_place(self, blocks: List[Block], bucket: str, key: str, fsize: int, etag: str, mime_type: str,
                        expires_at: Optional[int], overwrite: bool,
                        forget: Callable[[sqlite3.Connection], None]) -> Optional[ObjectInfo]:
        # Called with the lock held: no block can be added to the batch file or merged meanwhile.
        first = blocks[0]
        if not first.shared:
            return None
        placed = 0
        end = 0
        for block in blocks:
            if not block.shared or block.path != first.path or block.base != end:
                break
            placed += 1
            end += block.size
        if not placed:
            return None
        ids = [block.id for block in blocks[:placed]]
        name = os.path.basename(first.path)
        live = [row[0] for row in self._db.execute("SELECT id FROM blocks WHERE file=?", (name,))]
        if sorted(live) != sorted(ids):
            return None  # the file holds other blocks (or these were merged meanwhile): copy instead
        assemble(blocks[placed:], first.path, end, etag)
        os.truncate(first.path, fsize)
        files = self._files_of([block.id for block in blocks[placed:]])
        info = self._objects.put_file(bucket, key, first.path, fsize, etag, mime_type, expires_at,
                                      overwrite=overwrite, also=forget, undo_to=name)
        self._discard_unused(files)
        return info


def stored_etag(blocks: List[Block]) -> Optional[str]:
    """The etag of the blocks joined in this order, from the piece digests kept while they arrived;
    None when they do not give it (a block before the last is not made of whole 4 MiB pieces, so the
    pieces of the file straddle blocks, or a block lacks digests)."""
    digests: List[bytes] = []
    for i, block in enumerate(blocks):
        if i + 1 < len(blocks) and block.size % BLOCK_SIZE:
            return None
        pieces = -(-block.size // BLOCK_SIZE)
        if len(block.digests) != pieces * 40:
            return None
        digests.extend(bytes.fromhex(block.digests[j * 40:j * 40 + 40]) for j in range(pieces))
    return etag_from_block_digests(digests) if digests else None


def assemble(blocks: List[Block], target: str, offset: int = 0, etag: Optional[str] = None) -> str:
    """Write the blocks one after the other into ``target`` from ``offset``; returns the etag of
    ``target`` when it is ``etag`` (known from the digests) or the blocks from offset 0.

    With a known etag the bytes are copied by the kernel (``os.copy_file_range``) where it can;
    otherwise they are read, and hashed on the way.

    Raises:
        InvalidCtx: a block file is gone (merged meanwhile; 701).
        IncompleteBlocks: a block file is short (412).
    """
    hasher = None if etag is not None else EtagHasher()
    buffer: Optional[memoryview] = None
    with open(target, "r+b" if offset else "wb", buffering=0) as out:
        out.seek(offset)
        for block in blocks:
            try:
                src = open(block.path, "rb", buffering=0)
            except FileNotFoundError:
                raise InvalidCtx("block already merged") from None
            with src:
                src.seek(block.base)
                left = block.size
                if hasher is None:
                    left -= _kernel_copy(src.fileno(), out.fileno(), left)
                while left:
                    if buffer is None:
                        buffer = memoryview(bytearray(_COPY_BUFFER))
                    count = src.readinto(buffer[:min(len(buffer), left)])
                    if not count:
                        raise IncompleteBlocks("block %d data is short" % block.order)
                    data = buffer[:count]
                    if hasher is not None:
                        hasher.update(data)
                    while len(data):
                        data = data[out.write(data):]
                    left -= count
    return etag if hasher is None else hasher.etag()  # type: ignore[return-value]


def _kernel_copy(src: int, out: int, length: int) -> int:
    """Copy up to ``length`` bytes from file descriptor ``src``'s position to ``out``'s in the kernel;
    returns how many were copied (0 when the platform or file system cannot: the caller copies the rest)."""
    copy = getattr(os, "copy_file_range", None)  # Linux, Python 3.8+
    done = 0
    if copy is None:
        return 0
    try:
        while done < length:
            count = copy(src, out, length - done)
            if not count:
                break
            done += count
    except OSError:
        pass  # e.g. ENOSYS or EXDEV: both file positions stand after what was copied
    return done
