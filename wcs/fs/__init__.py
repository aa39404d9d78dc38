"""``wcs://`` for the Python data stack: an fsspec filesystem over WCS (the ``[fsspec]`` extra).

Installed with the package, it is registered under fsspec's ``fsspec.specs`` entry point, so
``fsspec.filesystem("wcs")``, ``pd.read_csv("wcs://bucket/key", storage_options={...})`` and
``dask.dataframe.read_csv("wcs://bucket/logs/*.csv")`` work without importing anything from here.

Modules: :mod:`~wcs.fs.filesystem` (``WcsFileSystem``: paths, metadata, copies, deletes),
:mod:`~wcs.fs.files` (``WcsFile``: buffered reads and writes), :mod:`~wcs.fs.reads` (ranged GETs
that notice a changed object), :mod:`~wcs.fs.writes` (block-by-block upload from memory),
:mod:`~wcs.fs.options` (storage options to a config; listing entries), :mod:`~wcs.fs.errors`
(service answers to ``OSError`` subclasses, ``FileExpired``).
"""

try:
    import fsspec  # type: ignore[import-untyped, import-not-found]  # noqa: F401  (fail early, naming the extra)
except ImportError as exc:  # pragma: no cover - depends on what is installed
    raise ImportError("wcs.fs needs fsspec: pip install 'wcs-python-sdk[fsspec]'") from exc

from wcs.fs.errors import FileExpired
from wcs.fs.files import WcsFile
from wcs.fs.filesystem import WcsFileSystem

__all__ = ["FileExpired", "WcsFile", "WcsFileSystem"]
