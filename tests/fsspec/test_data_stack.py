"""Real data-stack round trips on ``wcs://`` URLs against the emulator: pandas, pyarrow, dask.

Nothing here imports ``wcs.fs``: the libraries find the filesystem through fsspec's entry point, and
get their settings from ``storage_options``, exactly as a user's code would.
"""

import os

import pytest

np = pytest.importorskip("numpy")
pd = pytest.importorskip("pandas")

MiB = 1024 * 1024


@pytest.fixture
def served_bytes(monkeypatch):
    """Counts the body bytes every GET of this process receives (all reads go through ``get_body``)."""
    from wcs.commons.http import HttpClient

    counted = {"bytes": 0, "requests": 0}
    get_body = HttpClient.get_body

    def counting(self, url, sink, **kwargs):
        def counting_sink(data):
            counted["bytes"] += len(data)
            sink(data)

        counted["requests"] += 1
        return get_body(self, url, counting_sink, **kwargs)

    monkeypatch.setattr(HttpClient, "get_body", counting)
    return counted


def frame(rows, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"id": np.arange(rows), "value": rng.integers(0, 1000, rows),
                         "name": ["row-%d" % i for i in range(rows)]})


def test_pandas_csv_round_trip(bucket, storage_options):
    df = frame(5000)
    url = "wcs://%s/tables/frame.csv" % bucket
    df.to_csv(url, index=False, storage_options=storage_options)
    back = pd.read_csv(url, storage_options=storage_options)
    pd.testing.assert_frame_equal(back, df)


def test_pandas_parquet_round_trip(bucket, storage_options):
    pytest.importorskip("pyarrow")
    df = frame(20000, seed=1)
    url = "wcs://%s/tables/frame.parquet" % bucket
    df.to_parquet(url, engine="pyarrow", storage_options=storage_options)
    back = pd.read_parquet(url, engine="pyarrow", storage_options=storage_options)
    pd.testing.assert_frame_equal(back, df)


@pytest.mark.slow
def test_one_parquet_column_fetches_a_fraction_of_the_file(bucket, storage_options, served_bytes):
    import fsspec

    pytest.importorskip("pyarrow")
    columns = 8
    rows = 50 * MiB // (8 * columns)  # float64 noise: Parquet cannot compress it, ~50 MiB on WCS
    rng = np.random.default_rng(2)
    df = pd.DataFrame({"c%d" % i: rng.random(rows) for i in range(columns)})
    url = "wcs://%s/wide.parquet" % bucket
    df.to_parquet(url, engine="pyarrow", storage_options=storage_options)  # written block by block
    size = fsspec.filesystem("wcs", **storage_options).info(url)["size"]
    assert size > 48 * MiB
    served_bytes.update(bytes=0, requests=0)
    back = pd.read_parquet(url, engine="pyarrow", columns=["c3"], storage_options=storage_options)
    np.testing.assert_array_equal(back["c3"].to_numpy(), df["c3"].to_numpy())
    fraction = served_bytes["bytes"] / size
    # One column of eight is 1/8 of the file; add the footer and read-ahead, and it stays well under a third.
    assert fraction < 0.33, "read %.1f MiB of %.1f MiB (%.0f%%) in %d requests" % (
        served_bytes["bytes"] / MiB, size / MiB, 100 * fraction, served_bytes["requests"])


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_dask_read_csv_on_two_worker_processes(bucket, storage_options):
    dask = pytest.importorskip("dask")
    dd = pytest.importorskip("dask.dataframe")
    total = 0
    for part in range(6):
        df = frame(2000 + part * 100, seed=10 + part)
        total += int(df["value"].sum())
        df.to_csv("wcs://%s/logs/%02d.csv" % (bucket, part), index=False, storage_options=storage_options)
    # Worker processes are spawned: they reach the emulator (127.0.0.1) with the shipped settings only.
    with dask.config.set(scheduler="processes", num_workers=2):
        logs = dd.read_csv("wcs://%s/logs/*.csv" % bucket, storage_options=storage_options)
        assert logs.npartitions == 6
        assert int(logs["value"].sum().compute()) == total
        pids = logs.map_partitions(_pid_frame, meta={"pid": "int64"}).compute()["pid"]
    assert os.getpid() not in set(pids)  # the partitions were read by the worker processes


def _pid_frame(part):
    return pd.DataFrame({"pid": [os.getpid()]})
