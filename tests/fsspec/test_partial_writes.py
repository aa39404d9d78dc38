"""Only a clean close commits a ``wcs://`` writer (issue 21, point 5): an exception inside the ``with``
block of ``fsspec.open`` (binary, text as pandas writes, compressed) or a writer never closed
(garbage-collected) leaves the old object as it was, never a partial one over it."""

import gc

import pytest

from wcs.commons.util import BLOCK_SIZE

fsspec = pytest.importorskip("fsspec")

OLD = b"old content"


@pytest.fixture
def old(wcsfs, bucket):
    """``wcs://bucket/k`` holding ``OLD``; returns its URL."""
    wcsfs.pipe_file("%s/k" % bucket, OLD)
    return "wcs://%s/k" % bucket


def _content(wcsfs, url):
    wcsfs.invalidate_cache()
    return wcsfs.cat_file(url)


@pytest.mark.parametrize("mode, compression, size", [
    ("wb", None, 7),
    ("wb", None, BLOCK_SIZE + 10),  # a block already sent
    ("w", None, 7),  # text, as pandas writes a CSV
    ("wb", "gzip", 7),
    ("w", "gzip", 7),
])
def test_an_exception_inside_fsspec_open_stores_nothing(wcsfs, storage_options, old, mode, compression, size):
    with pytest.raises(RuntimeError):
        with fsspec.open(old, mode, compression=compression, **storage_options) as fp:
            fp.write(b"p" * size if "b" in mode else "p" * size)
            raise RuntimeError("the writer failed half-way")
    assert _content(wcsfs, old) == OLD


@pytest.mark.parametrize("mode, compression", [("wb", None), ("w", None), ("wb", "gzip"), ("w", "gzip")])
def test_a_clean_close_of_fsspec_open_commits(wcsfs, storage_options, old, mode, compression):
    with fsspec.open(old, mode, compression=compression, **storage_options) as fp:
        fp.write(b"new" if "b" in mode else "new")
    with fsspec.open(old, "rb", compression=compression, **storage_options) as fp:
        assert fp.read() == b"new"


def test_a_writer_opened_while_handling_an_exception_still_commits_when_closed_cleanly(wcsfs, storage_options, old):
    try:
        raise KeyError("handled before the file was opened")
    except KeyError:
        with fsspec.open(old, "w", **storage_options) as fp:
            fp.write("written in the handler")
    assert _content(wcsfs, old) == b"written in the handler"


@pytest.mark.parametrize("size", [7, BLOCK_SIZE + 10])
def test_a_binary_writer_never_closed_stores_nothing(wcsfs, old, size):
    fp = wcsfs.open(old, "wb")
    fp.write(b"p" * size)
    del fp
    gc.collect()
    assert _content(wcsfs, old) == OLD


@pytest.mark.parametrize("compression", [None, "gzip"])
def test_a_text_writer_never_closed_stores_nothing(wcsfs, storage_options, old, compression):
    opened = fsspec.open(old, "w", compression=compression, **storage_options)
    fp = opened.open()
    fp.write("partial")
    del fp, opened
    gc.collect()
    assert _content(wcsfs, old) == OLD
