"""caffe2lite.dask.score and ``caffe2lite score`` on a real LocalCluster.

Two worker processes on loopback (one thread each). The nets are small: an
embedding bag (SparseLengthsSum) plus two dense columns -> FC -> Sigmoid, and a
SparseDropoutWithReplacement net for the seeds.
"""

from __future__ import annotations

import os
import signal
import sys
import time

import numpy as np
import pytest

dask_missing = None
try:
    import cloudpickle
    import dask.dataframe as dd
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq
    from distributed import Client
except ImportError as e:  # the extra is not installed
    dask_missing = f"the dask extra is not installed ({e})"
    print(f"tests/test_dask_score.py skipped: {dask_missing}", file=sys.stderr)

needs_dask = pytest.mark.skipif(dask_missing is not None, reason=str(dask_missing))

from caffe2lite import core
from caffe2lite.proto import caffe2_pb2
from caffe2lite.runtime.workspace import Workspace

VOCAB, DIM, HIDDEN = 50, 4, 3


def _named(net, name: str) -> caffe2_pb2.NetDef:
    """The NetDef named exactly ``name`` (core.Net adds _1, _2 ... to a reused name,
    which would change the nets' bytes, and so the worker cache key)."""
    net.Proto().name = name
    return net.Proto()


def ctr_nets() -> tuple[caffe2_pb2.NetDef, caffe2_pb2.NetDef]:
    init = core.Net("score_init")
    init.UniformFill([], "emb", shape=[VOCAB, DIM], min=-1.0, max=1.0, random_seed=3)
    init.GaussianFill([], "w", shape=[HIDDEN, DIM + 2], std=0.5, random_seed=4)
    init.ConstantFill([], "b", shape=[HIDDEN], value=0.1)
    predict = core.Net("score_predict")
    bag = predict.SparseLengthsSum(["emb", "C", "C_lengths"], "bag")
    cat, _ = predict.Concat([bag, "dense"], ["cat", "cat_split"], axis=1)
    logit = predict.FC([cat, "w", "b"], "logit")
    predict.Sigmoid(logit, "prob")
    predict.Proto().external_output.append("prob")
    return _named(predict, "score_predict"), _named(init, "score_init")


def dropout_nets() -> tuple[caffe2_pb2.NetDef, caffe2_pb2.NetDef]:
    init = core.Net("drop_init")
    init.UniformFill([], "emb", shape=[VOCAB, DIM], min=-1.0, max=1.0, random_seed=3)
    predict = core.Net("drop_predict")
    predict.SparseDropoutWithReplacement(
        ["C", "C_lengths"],
        ["C_kept", "C_kept_lengths"],
        ratio=0.5,
        replacement_value=0,
        random_seed=11,
    )
    predict.SparseLengthsSum(["emb", "C_kept", "C_kept_lengths"], "bag")
    return _named(predict, "drop_predict"), _named(init, "drop_init")


def make_table(rows: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    lengths = rng.integers(0, 6, rows)
    ids = [rng.integers(0, VOCAB, n).astype(np.int64) for n in lengths]
    # an Arrow list column, as read from parquet (Dask turns object columns into
    # strings)
    column = pd.Series(
        pa.array(ids, pa.list_(pa.int64())), dtype=pd.ArrowDtype(pa.list_(pa.int64()))
    )
    return pd.DataFrame(
        {
            "C": column,
            "x0": rng.normal(size=rows),
            "x1": rng.normal(size=rows).astype(np.float32),
        }
    )


def run_single(predict, init, table, feeds_extra=None) -> dict[str, np.ndarray]:
    """The reference: one workspace, the whole table as one batch."""
    ws = Workspace()
    ws.run_net_once(init)
    lengths = np.array([len(x) for x in table["C"]], np.int32)
    flat = np.concatenate([np.asarray(x, np.int64) for x in table["C"]] or [[]])
    ws.feed_blob("C", flat.astype(np.int64))
    ws.feed_blob("C_lengths", lengths)
    ws.feed_blob("dense", np.stack([table["x0"], table["x1"]], 1).astype(np.float32))
    ws.run_net_once(predict)
    return ws


@pytest.fixture(scope="module")
def _cluster_client():
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    # Worker processes must import what the tasks name by module (this file's module
    # is "tests.test_dask_score" under pytest's importlib mode). They are spawned with
    # this process's sys.path, which holds the checkout root only under
    # `python -m pytest`: put it there for plain `pytest` too.
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    added = root not in sys.path
    if added:
        sys.path.insert(0, root)
    from caffe2lite.distributed import dask_score

    cluster = dask_score.local_cluster(2)
    try:
        with Client(cluster) as c:
            yield c
    finally:
        cluster.close()
        if added:
            sys.path.remove(root)


@pytest.fixture
def client(_cluster_client):
    # A cluster that lost its workers would make the next compute wait forever: each
    # test starts with both workers there, or fails within a minute.
    _cluster_client.wait_for_workers(2, timeout=60)
    return _cluster_client


def _score_ctr(frame):
    from caffe2lite import dask as c2dask

    predict, init = ctr_nets()
    return c2dask.score(
        predict, init, frame, inputs={"dense": ["x0", "x1"]}, outputs=["prob", "bag"]
    )


@needs_dask
def test_rows_equal_single_process_run_and_meta(client):
    table = make_table(300)
    frame = dd.from_pandas(table, npartitions=6)
    out = _score_ctr(frame)
    assert list(out.columns) == [f"prob_{i}" for i in range(HIDDEN)] + [
        f"bag_{i}" for i in range(DIM)
    ]
    assert all(dt == np.float32 for dt in out.dtypes)
    got = out.compute()
    assert (got.index == table.index).all()
    ws = run_single(*ctr_nets(), table)
    np.testing.assert_array_equal(
        got[[f"prob_{i}" for i in range(HIDDEN)]].to_numpy(), ws.fetch_blob("prob")
    )
    np.testing.assert_array_equal(
        got[[f"bag_{i}" for i in range(DIM)]].to_numpy(), ws.fetch_blob("bag")
    )
    # a (N,) output is one column named after the blob
    predict, init = ctr_nets()
    predict.op.add().CopyFrom(
        core.CreateOperator("ReduceSum", ["prob"], ["total"], axes=[1], keepdims=0)
    )
    from caffe2lite import dask as c2dask

    total = c2dask.score(
        predict, init, frame, inputs={"dense": ["x0", "x1"]}, outputs=["total"]
    ).compute()
    assert list(total.columns) == ["total"]
    np.testing.assert_allclose(total["total"], ws.fetch_blob("prob").sum(1), rtol=1e-6)


def _malloc_environ() -> dict:
    return {k: os.environ.get(k) for k in ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")}


def _refaults() -> int:
    """Page faults of a 1 MiB array freed and allocated again 20 times."""
    import resource

    a = np.ones(1 << 18, np.float32)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(20):
        del a
        a = np.ones(1 << 18, np.float32)
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before


@needs_dask
def test_local_cluster_workers_keep_freed_memory_mapped(client):
    # set before each worker process started (glibc reads them then), in place of
    # Dask's MALLOC_TRIM_THRESHOLD_=65536, with which the loop below faulted about
    # 5,000 pages in again
    expected = {"MALLOC_MMAP_THRESHOLD_": str(32 << 20), "MALLOC_TRIM_THRESHOLD_": str(64 << 20)}
    assert list(client.run(_malloc_environ).values()) == [expected, expected]
    if sys.platform.startswith("linux"):
        faults = client.run(_refaults)
        assert all(n < 20 for n in faults.values()), faults


@needs_dask
def test_init_runs_once_per_worker(client):
    from caffe2lite.distributed import dask_score

    client.run(dask_score.clear_cache)
    before = client.run(dask_score.init_runs)
    frame = dd.from_pandas(make_table(200, seed=1), npartitions=10)
    _score_ctr(frame).compute()
    _score_ctr(frame).compute()  # the same nets again: no new init run
    after = client.run(dask_score.init_runs)
    ran = {w: after[w] - before[w] for w in after}
    assert sum(ran.values()) <= len(ran) and all(n <= 1 for n in ran.values())
    assert sum(ran.values()) >= 1


@needs_dask
def test_random_ops_reproducible(client):
    from caffe2lite import dask as c2dask

    predict, init = dropout_nets()
    table = make_table(240, seed=2)
    frame = dd.from_pandas(table, npartitions=4)
    first = c2dask.score(predict, init, frame, outputs=["bag"]).compute()
    again = c2dask.score(predict, init, frame, outputs=["bag"]).compute()
    pd.testing.assert_frame_equal(first, again)
    # each partition equals a single-process run with the documented seed
    starts = np.cumsum([0] + [len(p) for p in frame.partitions])
    for p in range(frame.npartitions):
        part = table.iloc[starts[p] : starts[p + 1]]
        ws = Workspace()
        ws.run_net_once(init)
        ws.feed_blob("C", np.concatenate(list(part["C"])).astype(np.int64))
        ws.feed_blob("C_lengths", np.array([len(x) for x in part["C"]], np.int32))
        seeded = c2dask.seeded_for_partition(predict, p)
        assert seeded.op[0].device_option.random_seed == c2dask.partition_seed(11, p)
        ws.run_net_once(seeded)
        np.testing.assert_array_equal(
            first.iloc[starts[p] : starts[p + 1]].to_numpy(), ws.fetch_blob("bag")
        )
    # partition 0 draws what a plain run draws; another partitioning re-draws
    whole = c2dask.score(
        predict, init, dd.from_pandas(table, npartitions=1), outputs=["bag"]
    ).compute()
    ws = Workspace()
    ws.run_net_once(init)
    ws.feed_blob("C", np.concatenate(list(table["C"])).astype(np.int64))
    ws.feed_blob("C_lengths", np.array([len(x) for x in table["C"]], np.int32))
    ws.run_net_once(predict)
    np.testing.assert_array_equal(whole.to_numpy(), ws.fetch_blob("bag"))


def _slow(part):
    time.sleep(0.15)
    return part


@needs_dask
def test_killed_worker_is_retried(client):
    table = make_table(400, seed=3)
    frame = dd.from_pandas(table, npartitions=16).map_partitions(_slow)
    future = client.compute(_score_ctr(frame))
    time.sleep(0.6)
    pids = client.run(os.getpid)
    victim = min(pids)
    os.kill(pids[victim], signal.SIGKILL)
    got = future.result(timeout=60)
    ws = run_single(*ctr_nets(), table)
    assert len(got) == len(table)
    np.testing.assert_array_equal(
        got[[f"prob_{i}" for i in range(HIDDEN)]].to_numpy(), ws.fetch_blob("prob")
    )
    client.wait_for_workers(2, timeout=30)


@needs_dask
def test_cli_end_to_end(client, tmp_path):
    from caffe2lite.cli.main import main

    table = make_table(120, seed=4)
    arrow = pa.table(
        {
            "C": pa.array(list(table["C"]), pa.list_(pa.int64())),
            "x0": table["x0"],
            "x1": table["x1"],
        }
    )
    data = tmp_path / "data.parquet"
    pq.write_table(arrow, data)
    predict, init = ctr_nets()
    (tmp_path / "predict.pb").write_bytes(predict.SerializeToString())
    (tmp_path / "init.pb").write_bytes(init.SerializeToString())
    out = tmp_path / "out.parquet"
    status = main(
        [
            "score",
            str(tmp_path / "predict.pb"),
            "--init",
            str(tmp_path / "init.pb"),
            "--data",
            str(data),
            "--scheduler",
            client.scheduler.address,
            "--input",
            "dense=x0,x1",
            "--output",
            "prob",
            "--out",
            str(out),
        ]
    )
    assert status == 0
    got = pd.read_parquet(out)
    ws = run_single(predict, init, table)
    np.testing.assert_array_equal(got.to_numpy(), ws.fetch_blob("prob"))


@needs_dask
def test_unknown_column_is_a_clear_error(client):
    from caffe2lite import dask as c2dask
    from caffe2lite.errors import Caffe2LiteError

    predict, init = ctr_nets()
    frame = dd.from_pandas(make_table(10), npartitions=1)
    with pytest.raises(Caffe2LiteError, match="no column feeds the net input"):
        c2dask.score(predict, init, frame)
    with pytest.raises(Caffe2LiteError, match="column 'nope'"):
        c2dask.score(predict, init, frame, inputs={"dense": "nope"})


def test_without_the_extra_the_error_names_it(monkeypatch):
    """Runs with or without dask: hide its modules and call score and the CLI."""
    import subprocess

    code = (
        "import sys\n"
        "for m in ('dask', 'dask.dataframe', 'distributed', 'pyarrow', 'pandas'):\n"
        "    sys.modules[m] = None\n"
        "import caffe2lite, caffe2lite.dask\n"
        "from caffe2lite.proto import caffe2_pb2\n"
        "try:\n"
        "    caffe2lite.dask.score(caffe2_pb2.NetDef(), caffe2_pb2.NetDef(), None)\n"
        "except caffe2lite.dask.DaskNotInstalledError as e:\n"
        "    print(e)\n"
        "from caffe2lite.cli.main import main\n"
        "sys.exit(main(['score', 'n.pb', '--init', 'i.pb', '--data', 'd.parquet',\n"
        "               '--scheduler', 'local', '--out', 'o.parquet']))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert 'pip install "caffe2lite[dask]"' in done.stdout
    assert 'pip install "caffe2lite[dask]"' in done.stderr


@needs_dask
def test_feeds_of_one_partition():
    from caffe2lite.distributed.feeds import FeedError, output_columns, partition_feeds

    ids = pa.array([[3, 1], [], [2]], pa.list_(pa.int64()))
    dense = pa.array([[0.5, 1.0], [2.0, 3.0], [4.0, 5.0]], pa.list_(pa.float64()))
    frame = pd.DataFrame(
        {
            "C": pd.Series(ids, dtype=pd.ArrowDtype(ids.type)),
            "D": pd.Series(dense, dtype=pd.ArrowDtype(dense.type)),
            "a": [1, 2, 3],
            "b": [0.5, 0.25, 0.125],
        }
    )
    feeds = partition_feeds(
        frame, {"C": "C", "L": "C_lengths", "D": "D", "ab": ["a", "b"], "a": "a"}
    )
    np.testing.assert_array_equal(feeds["C"], np.array([3, 1, 2], np.int64))
    assert feeds["C"].dtype == np.int64 and feeds["L"].dtype == np.int32
    np.testing.assert_array_equal(feeds["L"], [2, 0, 1])
    assert feeds["D"].dtype == np.float32 and feeds["D"].shape == (3, 2)
    np.testing.assert_array_equal(feeds["ab"], [[1, 0.5], [2, 0.25], [3, 0.125]])
    assert feeds["a"].dtype == np.float32 and feeds["a"].shape == (3,)
    ragged = pd.DataFrame(
        {
            "D": pd.Series(
                pa.array([[1.0], [1.0, 2.0]]),
                dtype=pd.ArrowDtype(pa.list_(pa.float64())),
            )
        }
    )
    with pytest.raises(FeedError, match="rows have different lengths"):
        partition_feeds(ragged, {"D": "D"})
    nulls = pd.DataFrame(
        {
            "C": pd.Series(
                pa.array([[1], None], pa.list_(pa.int64())),
                dtype=pd.ArrowDtype(pa.list_(pa.int64())),
            )
        }
    )
    with pytest.raises(FeedError, match="null lists"):
        partition_feeds(nulls, {"C": "C"})
    assert list(output_columns("y", np.zeros((3, 2)), 3)) == ["y_0", "y_1"]
    with pytest.raises(FeedError, match="one row per example"):
        output_columns("y", np.zeros(4), 3)


def test_partition_seeds_formula():
    from caffe2lite.distributed.dask_score import (
        op_seeds,
        partition_seed,
        seeded_for_partition,
    )

    predict, _ = dropout_nets()
    unseeded = caffe2_pb2.NetDef()
    unseeded.CopyFrom(predict)
    unseeded.op[0].ClearField("device_option")
    assert op_seeds(predict, None) == [11, None]
    assert op_seeds(unseeded, None) == [None, None]
    assert op_seeds(unseeded, 100) == [100, 101]  # seed + op index, like run --seed
    assert partition_seed(11, 0) == 11
    assert partition_seed(11, 3) == (11 + 3 * 0x9E3779B9) % 2**32
    assert seeded_for_partition(unseeded, 2, 100).op[0].device_option.random_seed == (
        partition_seed(100, 2)
    )
