"""``WcsFile``: the file object ``WcsFileSystem.open`` returns, buffered by fsspec in both directions.

Reading (``rb``): the file's cache (by default :class:`~wcs.fs.reads.GrowingReadAhead`: what is
asked, plus a read-ahead only while reads are sequential; any fsspec ``cache_type`` may be named
instead) asks :meth:`WcsFile._fetch_range` for the byte ranges it needs, and each is one ranged GET
on the download domain that must come from the version of the object seen at open (its etag), else
:class:`~wcs.fs.errors.FileExpired`.

Writing (``wb``, ``xb``): fsspec buffers what is written and hands it over when the buffer holds a
block; whole blocks go to an :class:`~wcs.fs.writes.ObjectWriter` (the SDK's one block pipeline:
mkblk/bput, in parallel, bounded) and only the remainder stays buffered. A clean ``close()`` sends
the rest and runs ``mkfile``; an object that never filled one block goes by one form upload
instead. ``xb`` refuses an existing key, both at open and (atomically) on the service. In a
transaction (``autocommit=False``) the blocks are sent as usual but the object appears only on
:meth:`commit`.

Only a clean close commits. A writer closed while an exception is on its way out (a ``with`` block
of ``fs.open`` or of ``fsspec.open`` in binary or text mode, with or without compression: fsspec's
``OpenFile`` closes its files without telling why, so the exception being handled is what tells),
or never closed at all (garbage-collected, also under a text wrapper) discards what it sent: the
old object stays, never a partial one over it.
"""

import io
import sys
from typing import Any, Optional

from fsspec.spec import AbstractBufferedFile  # type: ignore[import-untyped, import-not-found]

from wcs.fs.reads import GrowingReadAhead, fetch_range
from wcs.fs.writes import ObjectWriter


class WcsFile(AbstractBufferedFile):  # type: ignore[misc]
    """A file of a :class:`~wcs.fs.WcsFileSystem` (see the module docstring).

    Args:
        fs: the filesystem.
        path: ``bucket/key``.
        mode: ``rb``, ``wb`` or ``xb``.
        block_size: the largest read-ahead when reading; when writing, the upload block size is the
            config's ``block_size`` (a multiple of 4 MiB) and this only sets how much is buffered
            before blocks are cut (at least one block).
        cache_type: the read cache: ``"wcs-growing"`` (:class:`~wcs.fs.reads.GrowingReadAhead`, the
            default) or any of fsspec's (``"readahead"``, ``"bytes"``, ``"blockcache"``...).
        mime_type: content type to store (writing).
    """

    buffer: io.BytesIO  # fsspec's write buffer: what has not made a whole block yet
    closed: bool  # fsspec's property (True until __init__ has run)
    mode: str

    def __init__(self, fs: Any, path: str, mode: str = "rb", block_size: Any = "default", autocommit: bool = True,
                 cache_type: str = GrowingReadAhead.name, cache_options: Optional[dict] = None,
                 size: Optional[int] = None, mime_type: Optional[str] = None, **kwargs: Any) -> None:
        self.bucket, self.key = fs.split_path(path)
        if not self.key:
            raise IsADirectoryError(path)
        self.etag: Optional[str] = None
        self.mime_type = mime_type
        self._writer: Optional[ObjectWriter] = None
        self._rest: Optional[bytes] = None  # after the final flush: what did not make a whole block
        self._abandoned = False  # a text wrapper is being garbage-collected with this file in it
        # An exception already being handled where the file is opened is not this file's failure.
        self._error_at_open = sys.exc_info()[1]
        self._upload_block = fs.config.block_size
        if mode != "rb":
            block_size = max(self._upload_block, 0 if block_size in ("default", None) else int(block_size))
        growing = cache_type == GrowingReadAhead.name
        super().__init__(fs, path, mode, block_size=block_size, autocommit=autocommit,
                         cache_type="none" if growing else cache_type,
                         cache_options=None if growing else cache_options, size=size, **kwargs)
        if mode == "rb":
            if growing:  # not in fsspec's registry of caches: built here
                self.cache = GrowingReadAhead(self.blocksize, self._fetch_range, self.size, **(cache_options or {}))
            details = self.details
            if details.get("type") != "file":
                raise IsADirectoryError(path)
            self.etag = details.get("etag") or None

    # -- reading -------------------------------------------------------------------------------------

    def _fetch_range(self, start: int, end: int) -> bytes:
        return fetch_range(self.fs.client, self.bucket, self.key, start, end, etag=self.etag, name=self.path)

    # -- writing -------------------------------------------------------------------------------------

    @property
    def _overwrite(self) -> int:
        return 0 if self.mode == "xb" else 1

    def _initiate_upload(self) -> None:
        pass  # nothing exists remotely until the first whole block is sent (small files: one form upload)

    def _upload_chunk(self, final: bool = False) -> bool:
        data = self.buffer.getbuffer()
        block = self._upload_block
        whole = len(data) - len(data) % block
        if whole:
            writer = self._writer_for_blocks()
            try:
                for start in range(0, whole, block):
                    writer.send(data[start:start + block])
            except BaseException:
                self._writer = None
                writer.abort()
                raise
        rest = bytes(data[whole:])
        del data  # the views are the blocks' now; the buffer object may go
        self.offset += whole
        if final:
            # The rest goes with the commit: as the last block, or as the whole object's form upload.
            self._rest = rest
            self.offset += len(rest)
            self.buffer = io.BytesIO()
            if self.autocommit:
                self.commit()
        else:
            self.buffer = io.BytesIO(rest)
            self.buffer.seek(0, io.SEEK_END)
        return False  # the buffer was replaced here (it keeps what did not make a whole block)

    def _writer_for_blocks(self) -> ObjectWriter:
        if self._writer is None:
            self._writer = ObjectWriter(self.fs.client, self.bucket, self.key, overwrite=self._overwrite,
                                        mime_type=self.mime_type, name=self.path)
        return self._writer

    def commit(self) -> None:
        """Make the object appear: ``mkfile`` of the blocks sent and the rest, or the form upload of a small file."""
        rest, self._rest = self._rest, None
        if rest is None:
            return  # nothing was closed cleanly: nothing to store
        writer = self._writer_for_blocks()
        self._writer = None
        writer.finish(rest)
        self.fs.invalidate_cache(self.path)

    def discard(self) -> None:
        """Abandon the object (the blocks already sent expire on the service)."""
        writer, self._writer = self._writer, None
        self._rest = None
        if writer is not None:
            writer.abort()

    def _failing(self) -> bool:
        """An exception raised since the file was opened is on its way out (or the file is being collected)."""
        error = sys.exc_info()[1]
        return self._abandoned or (error is not None and error is not self._error_at_open)

    def close(self) -> None:
        self._close(clean=not (self.writable() and self._failing()))

    def _close(self, clean: bool) -> None:
        self._error_at_open = None
        if self.closed:
            return
        if not clean:
            # Store nothing rather than a truncated object over the old one.
            self.discard()
            self.closed = True
            return
        try:
            super().close()
        except BaseException:
            self.discard()
            raise

    def _dealloc_warn(self, source: Any) -> None:
        # Called by a text wrapper (io.TextIOWrapper) that is garbage-collected before it was closed,
        # just before it closes this file: that close must not commit.
        self._abandoned = True

    def __del__(self) -> None:
        if not self.closed and self.writable():
            self._close(clean=False)  # a writer nobody closed commits nothing
            return
        super().__del__()

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        # This with block says why it ends: an exception inside it discards, whatever else is handled.
        self._close(clean=exc_type is None or not self.writable())
