"""What feeds the block pipeline (:mod:`wcs.services.pipeline`): a file, a stream, bytes in memory.

As s3transfer's upload input managers do for its one upload machinery, each source only knows how
its blocks come to be:

* :class:`FileSource` - a regular file: its size is known, so its blocks are planned up front and
  each is read from disk by the worker that sends it, one chunk buffer per worker (memory stays at
  ``concurrency x bput_size`` whatever the size); the same bytes can be read again, so it can resume.
* :class:`StreamSource` - a stream that cannot seek, of unknown length (a pipe, stdin, a socket):
  read in order by the calling thread into block-sized buffers, each full one sent from memory while
  the next fills; at most ``slots + 1`` buffers ever exist. Its first block is read before anything
  is sent, which is what tells a form upload (it ended inside that block) from a block upload.
* :class:`BufferSource` - bytes already in memory (a writer's buffer): each block is a slice of them,
  sent without a copy.
"""

import os
import threading
from typing import Any, List, Optional

from wcs.commons.errors import InvalidArgument, LocalFileError
from wcs.services.blockplan import Block, plan_blocks
from wcs.services.blocksteps import Buffers
from wcs.services.formupload import PathLike, open_for_upload
from wcs.services.pipeline import BlockPipeline


class FileSource:
    """The regular file at ``path`` as it is now (size and modification time, to tell if it changes).

    Raises:
        MissingFile, LocalFileError: the file is missing, a directory or unreadable.
    """

    def __init__(self, path: PathLike) -> None:
        with open_for_upload(path) as fp:
            st = os.fstat(fp.fileno())
        self.path = os.path.abspath(os.fspath(path))
        self.size = st.st_size
        self.mtime_ns = st.st_mtime_ns

    def plan(self, block_size: int) -> List[Block]:
        return plan_blocks(self.size, block_size)

    def feed(self, pipeline: BlockPipeline, blocks: List[Block]) -> None:
        """Queue ``blocks``, each to be read by the worker that sends it."""
        buffers = Buffers(pipeline.bput_size)
        for block in blocks:
            if not pipeline.send_from_file(self.path, block, buffers):
                return

    def changed(self) -> bool:
        """True when the file's size or modification time is not what it was (its blocks may mix two contents).

        Raises:
            LocalFileError: the file is gone.
        """
        try:
            now = os.stat(self.path)
        except OSError as exc:
            raise LocalFileError("%s vanished while uploading: %s" % (self.path, exc.strerror or exc)) from None
        return (now.st_size, now.st_mtime_ns) != (self.size, self.mtime_ns)


class StreamSource:
    """The binary stream ``fp``, read in blocks of ``block_size``; ``slots``: blocks sent at once."""

    def __init__(self, fp: Any, block_size: int, slots: int) -> None:
        self.fp = fp
        self.block_size = block_size
        self._cap = max(slots, 1) + 1
        self._allocated = 0
        self._free: List[memoryview] = []
        self._lock = threading.Lock()
        self._first: Optional[memoryview] = None
        self._first_length = 0

    def read_first(self) -> memoryview:
        """The stream's first block (shorter than ``block_size`` only when the stream ends inside it).

        Raises:
            LocalFileError: the stream cannot be read. InvalidArgument: a text or non-blocking stream.
        """
        self._first = self._new_buffer()
        self._first_length = read_full(self.fp, self._first)
        return self._first[:self._first_length]

    def feed(self, pipeline: BlockPipeline) -> List[Block]:
        """Send the first block and every block after it as it fills; the blocks sent."""
        assert self._first is not None, "read_first() comes first"
        blocks: List[Block] = []
        buffer: Optional[memoryview] = self._first
        length, offset = self._first_length, 0
        while buffer is not None and length:
            block = Block(len(blocks), offset, length)
            if not pipeline.send_from_memory(buffer[:length], block, self._releaser(buffer)):
                break
            blocks.append(block)
            offset += length
            if length < self.block_size:
                break  # the stream ended inside this block
            buffer = self._acquire(pipeline)
            if buffer is not None:
                length = read_full(self.fp, buffer)  # 0: the stream ended exactly after the last block
        return blocks

    def _new_buffer(self) -> memoryview:
        self._allocated += 1
        return memoryview(bytearray(self.block_size))

    def _releaser(self, buffer: memoryview) -> Any:
        def release() -> None:
            with self._lock:
                self._free.append(buffer)  # read the next block into it
        return release

    def _acquire(self, pipeline: BlockPipeline) -> Optional[memoryview]:
        """A free buffer (waiting for a block to finish when all are in use); None once the upload stopped."""
        while not pipeline.stopped:
            with self._lock:
                if self._free:
                    return self._free.pop()
            if self._allocated < self._cap:
                return self._new_buffer()
            pipeline.wait_one()
        return None


class BufferSource:
    """``data`` (bytes-like), sent block by block from slices of it."""

    def __init__(self, data: Any) -> None:
        self.view = memoryview(data).cast("B")
        self.size = len(self.view)

    def plan(self, block_size: int) -> List[Block]:
        return plan_blocks(self.size, block_size)

    def feed(self, pipeline: BlockPipeline, blocks: List[Block]) -> None:
        for block in blocks:
            if not pipeline.send_from_memory(self.view[block.offset:block.offset + block.size], block):
                return


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
