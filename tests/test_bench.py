"""Smoke test of the benchmark suite: every section on tiny sizes, the table and the
JSON report. Timings are never asserted (machines are shared and noisy)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from caffe2lite.schema import registry
from caffe2lite.schema.opschema import Arg

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import dispatch, dropout, memory, run, segments, sparse_training
from bench.common import TINY, Row, Target, compare, measure

DROPOUT_ARGS = [Arg("ratio", float, 0.0), Arg("replacement_value", int, 0)]


def _standins() -> None:
    """Simple numpy versions of the benchmarked ops that are not registered (yet), so
    that every path of the suite runs whatever the state of the operator library."""

    def add(
        op_type: str, inputs: list[str], outputs: list[str], kernel, args=()
    ) -> None:
        if registry.find(op_type) is None:
            registry.register_cpu_operator(
                op_type,
                inputs=inputs,
                outputs=outputs,
                args=list(args),
                doc="Example: stand-in",
            )(kernel)

    def segment(x, lengths, *, ratio, replacement_value, rng):
        return dropout.numpy_segment_dropout(x, lengths, ratio, replacement_value, rng)

    def itemwise(x, lengths, *, ratio, replacement_value, rng):
        return dropout.numpy_itemwise_dropout(x, lengths, ratio, replacement_value, rng)

    add(
        dropout.SEGMENT_OP,
        ["X", "Lengths"],
        ["Y", "OutputLengths"],
        segment,
        DROPOUT_ARGS,
    )
    add(
        dropout.ITEMWISE_OP,
        ["X", "Lengths"],
        ["Y", "OutputLengths"],
        itemwise,
        DROPOUT_ARGS,
    )
    add(
        "LengthsSum",
        ["DATA", "LENGTHS"],
        ["OUTPUT"],
        lambda d, lens: (segments.reduceat_sum(d, lens),),
    )
    add(
        "SparseLengthsSum",
        ["DATA", "INDICES", "LENGTHS"],
        ["OUTPUT"],
        lambda d, i, lens: (segments.reduceat_sum(d[i], lens),),
    )
    add(
        "SparseLengthsWeightedSum",
        ["DATA", "WEIGHTS", "INDICES", "LENGTHS"],
        ["OUTPUT"],
        lambda d, w, i, lens: (segments.reduceat_sum(d[i] * w[:, None], lens),),
    )
    add("Relu", ["X"], ["Y"], lambda x: (np.maximum(x, 0),))


@pytest.fixture
def ops() -> Iterator[None]:
    """The benchmarked ops, real or stand-in, for the duration of one test."""
    before = dict(registry.OPERATORS)
    _standins()
    try:
        yield
    finally:
        registry.OPERATORS.clear()
        registry.OPERATORS.update(before)


def _check_rows(rows: list[Row], section: str) -> None:
    assert rows
    for row in rows:
        assert row.section == section
        assert row.status in ("pass", "miss", "info", "n/a"), row
        if row.status == "n/a":
            continue
        assert row.value is not None and row.value >= 0 and row.unit, row
        if row.yardstick:
            assert row.yardstick_value is not None and row.ratio is not None
        assert (row.status == "info") == (row.target == ""), row


def test_dropout_section(ops: None) -> None:
    rows = dropout.run(TINY)
    _check_rows(rows, "dropout")
    yardsticks = {r.yardstick for r in rows}
    assert yardsticks == {"numpy.copy", "numpy impl", "Python loop"}
    assert {r.case.split()[-1] for r in rows} == {"RunNet", "kernel"}
    assert all(r.status == "info" for r in rows if r.yardstick == "numpy impl")


def test_user_implementations_agree_at_the_limits() -> None:
    import random

    x, lengths = dropout.make_ids(997, 5, seed=3)
    assert x.size == 997 and int(lengths.sum()) == 997 and lengths.dtype == np.int32
    for ratio in (0.0, 1.0):
        for numpy_impl, loop_impl in dropout.USER_IMPLS.values():
            a = numpy_impl(x, lengths, ratio, -1, np.random.default_rng(0))
            b = loop_impl(x, lengths, ratio, -1, random.Random(0))
            for u, v in zip(a, b):
                np.testing.assert_array_equal(u, v)


def test_segments_section(ops: None) -> None:
    rows = segments.run(TINY)
    _check_rows(rows, "segments")
    assert {r.yardstick for r in rows} == {"numpy.take", "add.reduceat"}
    assert all(r.note == "" for r in rows), [r.note for r in rows]


def test_reduceat_handles_empty_segments() -> None:
    rows = np.arange(12, dtype=np.float32).reshape(6, 2)
    got = segments.reduceat_sum(rows, np.array([0, 2, 0, 3, 1, 0], dtype=np.int32))
    want = [[0, 0], [2, 4], [0, 0], [18, 21], [10, 11], [0, 0]]
    np.testing.assert_array_equal(got, want)


def test_dispatch_and_memory_sections(ops: None) -> None:
    rows = dispatch.run(TINY)
    _check_rows(rows, "dispatch")
    assert any(r.yardstick == "bare Python loop" for r in rows)
    assert any(r.case.startswith("fixed cost run_operator_once") for r in rows)
    mem = memory.run(TINY)
    _check_rows(mem, "memory")
    assert all(r.target == "<= 3" and r.ratio >= 0 for r in mem if r.status != "n/a")


def test_sparse_section_checks_both_sides_agree() -> None:
    """The sparse section on tiny sizes: every row well formed, no row saying the
    two sides computed different numbers, and a yardstick row only where its library
    imports (otherwise an n/a row saying why)."""
    rows = sparse_training.run(TINY)
    _check_rows(rows, "sparse")
    assert not [r for r in rows if "differ" in r.note], rows
    try:
        import torch  # noqa: F401
    except ImportError:
        assert any(r.status == "n/a" and "torch not importable" in r.note for r in rows)
    else:
        assert any(r.yardstick == "torch SGD" for r in rows)
        assert sum(r.yardstick == "embedding_bag" for r in rows) == 2
    updates = [r for r in rows if r.case.startswith("ScatterWeightedSum")]
    assert [r.target for r in updates] == [">= 0.833333", "<= 1.5"]


def test_ctr_models_agree_after_one_step() -> None:
    """caffe2lite's training net and the PyTorch yardstick hold the same parameters
    after one SGD step from the same start (what the bench checks before timing)."""
    torch = pytest.importorskip("torch")  # noqa: F841
    params = sparse_training.ctr_params(TINY)
    batch = sparse_training.ctr_batch(TINY, 8)
    ours, fetch = sparse_training.ctr_runner(params, batch, "test_ctr_agree")
    theirs, fetch_torch = sparse_training.torch_ctr(params, batch)
    ours()
    theirs()
    for name in sorted(params):
        np.testing.assert_allclose(fetch(name), fetch_torch(name), rtol=1e-4, atol=1e-6)
        assert not np.array_equal(fetch(name), params[name]), name


def test_measure_and_targets() -> None:
    t = measure({"a": lambda: None, "b": lambda: sum(range(10))}, TINY)
    assert set(t) == {"a", "b"} and all(v >= 0 for v in t.values())
    assert compare("s", "c", 2.0, "ms", "y", 1.0, Target(0.5)).status == "pass"
    assert compare("s", "c", 4.0, "ms", "y", 1.0, Target(0.5)).status == "miss"
    assert (
        compare(
            "s", "c", 4.0, "B", "y", 1.0, Target(3, at_least=False), inverse=True
        ).status
        == "miss"
    )


def test_main_writes_table_and_json(
    ops: None, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(run, "QUICK", TINY)
    path = tmp_path / "bench.json"
    assert run.main(["--quick", "--json", str(path)]) == 0
    out = capsys.readouterr().out
    from caffe2lite.ops import _speedups

    assert out.splitlines()[0] == f"dropout kernels: {_speedups.status}"
    assert out.splitlines()[1].split() == list(run.COLUMNS)
    report = json.loads(path.read_text())
    assert report["mode"] == "quick" and report["machine"]["numpy"] == np.__version__
    assert report["machine"]["dropout_kernels"] == _speedups.status
    sections = {r["section"] for r in report["rows"]}
    assert sections == set(run.SECTIONS)
    assert set(report["rows"][0]) >= {
        "section",
        "case",
        "value",
        "unit",
        "yardstick",
        "ratio",
        "target",
        "status",
    }
