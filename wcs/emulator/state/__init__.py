"""Emulator state without HTTP: buckets and metadata in sqlite, object bytes as files.

Layout of a data dir::

    meta.sqlite3          buckets, objects (and what they are beyond their row: appendable, storage
                          class, restore), mirror origins, multipart blocks, async jobs, settings (WAL)
    objects/<ab>/<id>     one file per stored object version, immutable (an appendable object's file
                          grows at its end, nothing else); a new upload gets a new id
    blocks/<id>           bytes received so far for one multipart (mkblk/bput) block; its row keeps the
                          SHA-1 of every complete 4 MiB piece, so mkfile needs no second pass
    blocks/u-<hash>       the blocks of one upload (``UploadBatch``), each at its place in the file
    tmp/                  spools of uploads in flight; emptied at start

Modules: :mod:`~.model` (what an object and a block are, key rules, what the parts need of the
object store), :mod:`~.schema` (the sqlite tables and their migrations), :mod:`~.store` (the object
store, :class:`Store`: the data dir, buckets, job rows, recovery), :mod:`~.objects` (object rows and
files: look-up, commit, copy, range scans), :mod:`~.listing` (``/list`` pages and markers),
:mod:`~.blocks` (multipart blocks and their merge), :mod:`~.extras` (storage class, restore,
appendability of a version), :mod:`~.appendable` (appends), :mod:`~.mirrors` (mirror origins, also
changed from another process), :mod:`~.usage` (per-day figures).
"""

from wcs.emulator.state.model import (
    BLOCK_TTL_MS,
    DAY_MS,
    MAX_RETENTION_DAYS,
    Block,
    ObjectInfo,
    format_expiration,
    guess_mime,
    now_ms,
    validate_key,
)
from wcs.emulator.state.store import Store

__all__ = ["Store", "ObjectInfo", "Block", "DAY_MS", "MAX_RETENTION_DAYS", "BLOCK_TTL_MS", "now_ms",
           "format_expiration", "guess_mime", "validate_key"]
