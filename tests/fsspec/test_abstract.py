"""fsspec's own abstract test suites (copy, get, put, pipe, open) against the emulator, as s3fs runs them on moto."""

import pytest

# 137 tests of fsspec's own suites: 35-80 s here, so they run with the slow tests (CI runs both).
pytestmark = pytest.mark.slow

abstract = pytest.importorskip("fsspec.tests.abstract")


class WcsFixtures(abstract.AbstractFixtures):
    """Each test gets a fresh bucket as its ``fs_path``; WCS has no empty directories."""

    @pytest.fixture
    def fs(self, wcsfs):
        return wcsfs

    @pytest.fixture
    def fs_path(self, bucket):
        return bucket

    @pytest.fixture
    def fs_join(self):
        return lambda *parts: "/".join(parts)

    @pytest.fixture
    def supports_empty_directories(self):
        return False


class TestWcsCopy(abstract.AbstractCopyTests, WcsFixtures):
    pass


class TestWcsGet(abstract.AbstractGetTests, WcsFixtures):
    pass


class TestWcsPut(abstract.AbstractPutTests, WcsFixtures):
    pass


# The pipe and open suites came with later fsspec releases than the others.
if hasattr(abstract, "AbstractPipeTests"):
    class TestWcsPipe(abstract.AbstractPipeTests, WcsFixtures):
        pass

if hasattr(abstract, "AbstractOpenTests"):
    class TestWcsOpen(abstract.AbstractOpenTests, WcsFixtures):
        pass
