"""In-place sparse updates (ops/_sparse_update_native.py): when a kernel writes into
the stored array (``owned``), and the compiled loops of ops/_caffe2lite_sparse_update.c
against the numpy kernels (the same bits, the same errors, nothing written on an
error)."""

from __future__ import annotations

import sys
import weakref

import numpy as np
import pytest
from c2l_test_support.kernels import (
    skip_unless_speedups_required,
    status_with_speedups_off,
)
from caffe2lite.ops import _inplace
from caffe2lite.ops import _sparse_update_native as sun
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.core import CreateOperator
from caffe2lite.proto import caffe2_pb2
from caffe2lite.runtime import profile
from caffe2lite.schema import registry
from caffe2lite.workspace import Workspace

native = sun.native
needs_native = pytest.mark.skipif(native is None, reason=sun.status)

SWS = CreateOperator("ScatterWeightedSum", ["X", "W0", "I", "V", "W1"], ["X"])


def workspace(x=None):
    ws = Workspace()
    feeds = {
        "X": np.zeros((4, 2), np.float32) if x is None else x,
        "W0": np.ones(1, np.float32),
        "I": np.array([1, 3, 1]),
        "V": np.ones((3, 2), np.float32),
        "W1": np.full(1, 2.0, np.float32),
    }
    for name, value in feeds.items():
        ws.feed_blob(name, value)
    return ws


def identity(ws, name="X"):
    """What shows that a run wrote into the stored array: the array object (by a
    weak reference, which does not count as a holder) and its memory address."""
    arr = ws._blobs[name]
    return weakref.ref(arr), arr.__array_interface__["data"][0]


def wrote_in_place(ws, before, name="X"):
    ref, address = before
    arr = ws._blobs[name]
    return arr is ref() and arr.__array_interface__["data"][0] == address


WANT = [[0, 0], [4, 4], [0, 0], [2, 2]]


# -- owned: where the update is in place -----------------------------------------------


def test_in_place_through_run_operator_once():
    ws = workspace()
    before = identity(ws)
    ws.run_operator_once(SWS)
    assert wrote_in_place(ws, before)
    assert ws.fetch_blob("X").tolist() == WANT


def test_in_place_through_created_nets_hooks_and_run_net_once():
    ws = workspace()
    net = caffe2_pb2.NetDef(name="sws", op=[SWS])
    ws.create_net(net)
    before = identity(ws)
    ws.run_net("sws")
    ws.run_net_once(net)
    assert wrote_in_place(ws, before)
    seen = []
    ws._nets["sws"].run(ws._blobs, 1, [lambda run: seen.append(run.op.type)])
    assert seen == ["ScatterWeightedSum"]
    # the hook's record of the previous run is gone: the next run is in place again
    seen.clear()
    ws.run_net("sws")
    assert wrote_in_place(ws, before)
    assert ws.fetch_blob("X").tolist() == [[0, 0], [16, 16], [0, 0], [8, 8]]


def test_in_place_for_consecutive_updates_and_repeated_iterations():
    """Two updates of one table in a row in a net, run for several iterations: the
    run loop keeps no reference to an op's outputs once stored, so every update
    writes into the one stored array."""
    ws = workspace()
    net = caffe2_pb2.NetDef(name="twice", op=[SWS, SWS])
    ws.create_net(net)
    before = identity(ws)
    ws.run_net("twice", 3)
    assert wrote_in_place(ws, before)
    assert ws.fetch_blob("X").tolist() == [[0, 0], [24, 24], [0, 0], [12, 12]]


def test_copy_when_another_blob_holds_the_array_or_a_view():
    for make in (lambda a: a, lambda a: a[1:], lambda a: a.reshape(-1)):
        ws = workspace()
        ws._blobs["other"] = make(ws._blobs["X"])
        kept = ws._blobs["other"].copy()
        before = identity(ws)
        ws.run_operator_once(SWS)
        assert not wrote_in_place(ws, before)
        assert ws.fetch_blob("X").tolist() == WANT
        np.testing.assert_array_equal(ws._blobs["other"], kept)


def test_copy_when_a_caller_holds_the_array():
    ws = workspace()
    held = ws._blobs["X"]
    ws.run_operator_once(SWS)
    assert ws._blobs["X"] is not held and not held.any()
    assert ws.fetch_blob("X").tolist() == WANT


def test_copy_when_read_only_or_not_contiguous():
    ws = workspace()
    ws._blobs["X"].flags.writeable = False
    ws.run_operator_once(SWS)
    assert ws.fetch_blob("X").tolist() == WANT and ws._blobs["X"].flags.writeable
    ws = workspace()
    ws._blobs["X"] = np.zeros((4, 4), np.float32)[:, ::2]
    ws.run_operator_once(SWS)
    assert ws.fetch_blob("X").tolist() == WANT


def test_a_view_whose_owner_nobody_else_holds_is_written():
    ws = workspace()
    ws._blobs["X"] = np.zeros(8, np.float32).reshape(4, 2)  # base held by the view only
    before = identity(ws)
    ws.run_operator_once(SWS)
    assert wrote_in_place(ws, before)
    assert ws.fetch_blob("X").tolist() == WANT


def test_kernel_called_on_its_own_updates_a_copy():
    kernel = registry.lookup("ScatterWeightedSum").kernel
    x = np.zeros((4, 2), np.float32)
    (y,) = kernel(
        x,
        np.ones(1, np.float32),
        np.array([1, 3, 1]),
        np.ones((3, 2), np.float32),
        np.full(1, 2.0, np.float32),
    )
    assert y is not x and not x.any() and y.tolist() == WANT


def test_a_failing_op_changes_nothing():
    ws = workspace()
    ws.feed_blob("I", np.array([1, 4]))
    ws.feed_blob("V", np.ones((2, 2), np.float32))
    before = identity(ws)
    with pytest.raises(Exception, match="Index out of bounds: 4"):
        ws.run_operator_once(SWS)
    assert wrote_in_place(ws, before) and not ws._blobs["X"].any()


def test_not_in_place_while_profiling_starts():
    # a profiler active at the first in-place attempt postpones the measuring runs
    saved = _inplace._BASELINE
    try:
        _inplace._BASELINE = None
        profile.ACTIVE.append(lambda run: None)
        try:
            assert _inplace._baseline() == {}
        finally:
            profile.ACTIVE.pop()
        assert _inplace._BASELINE is None and _inplace._baseline()
    finally:
        _inplace._BASELINE = saved


def test_status_and_switch_off():
    out = status_with_speedups_off("caffe2lite.ops._sparse_update_native")
    assert out.startswith("True numpy kernels (CAFFE2LITE_SPEEDUPS=0)")


def test_a_module_of_another_interface_or_none_is_not_used(monkeypatch):
    monkeypatch.delenv("CAFFE2LITE_SPEEDUPS", raising=False)  # the switch decides first
    saved = sun.native, sun.status
    try:
        fake = type(sys)("_caffe2lite_sparse_update")
        fake.INTERFACE = sun.INTERFACE - 1
        monkeypatch.setitem(sys.modules, "_caffe2lite_sparse_update", fake)
        sun._load()
        assert sun.native is None and "speaks interface" in sun.status
        monkeypatch.setitem(sys.modules, "_caffe2lite_sparse_update", None)
        sun._load()
        assert sun.native is None and "is not built" in sun.status
    finally:
        sun.native, sun.status = saved


def test_ci_requires_the_module():
    """CI sets CAFFE2LITE_REQUIRE_SPEEDUPS=1: there the module must build and load."""
    skip_unless_speedups_required()
    assert native is not None, sun.status


# -- the compiled loops against the numpy ones ------------------------------------------


def naive_sws(x, idx, scale, updates):
    out = x.copy()
    if scale != 1:
        for r in idx.tolist():
            out[r] = out[r] * scale
    for v, w in updates:
        for i, r in enumerate(idx.tolist()):
            out[r] = out[r] + (v[i] if w == 1 else w * v[i])
    return out


def sws_both(x, idx, scale, updates):
    results = []
    for module in (native, None):
        saved = sun.native
        sun.native = module
        try:
            out = x.copy()
            sun.scatter_weighted_sum(out, idx, scale, updates)
            results.append(out)
        finally:
            sun.native = saved
    return results


@needs_native
@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 6),
    block=st.integers(0, 4),
    k=st.integers(0, 30),
    dtype=st.sampled_from([np.float32, np.float64]),
    itype=st.sampled_from([np.int32, np.int64]),
    unit=st.booleans(),
    pairs=st.integers(0, 3),
    seed=st.integers(0, 2**16),
)
def test_scatter_weighted_sum_native_equals_numpy_and_loop(
    n, block, k, dtype, itype, unit, pairs, seed
):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, block)).astype(dtype)
    idx = rng.integers(0, n, k).astype(itype)  # repeats are frequent
    scale = dtype(1) if unit else dtype(rng.uniform(0.3, 1.7))
    updates = [
        (
            rng.standard_normal((k, block)).astype(dtype),
            dtype(1) if rng.random() < 0.5 else dtype(rng.standard_normal()),
        )
        for _ in range(pairs)
    ]
    compiled, numpy_ = sws_both(x, idx, scale, updates)
    want = naive_sws(x, idx, scale, updates)
    assert compiled.tobytes() == numpy_.tobytes() == want.tobytes()


def test_scatter_weighted_sum_with_more_pairs_than_the_compiled_loop_takes():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((3, 2)).astype(np.float32)
    idx = np.array([2, 0, 2])
    updates = [
        (rng.standard_normal((3, 2)).astype(np.float32), np.float32(0.5))
        for _ in range(sun.MAX_PAIRS + 3)
    ]
    out = x.copy()
    sun.scatter_weighted_sum(out, idx, np.float32(1), updates)
    assert out.tobytes() == naive_sws(x, idx, 1, updates).tobytes()


@needs_native
def test_scatter_weighted_sum_native_checks_before_writing():
    x = np.zeros((3, 2), np.float32)
    ones = np.ones((2, 2), np.float32)
    with pytest.raises(ValueError, match="index 3 at 1 out of range"):
        native.scatter_weighted_sum(x, 3, 2, np.array([0, 3]), 2.0, (ones,), (1.0,))
    with pytest.raises(ValueError, match="X: 2 items, expected 4"):
        native.scatter_weighted_sum(
            x, 3, 2, np.array([0, 1]), 2.0, (ones, ones[0]), (1.0, 1.0)
        )
    with pytest.raises(TypeError, match="unexpected element type"):
        native.scatter_weighted_sum(x, 3, 2, np.array([0.0]), 1.0, (), ())
    with pytest.raises(ValueError, match="float32 or float64"):
        native.scatter_weighted_sum(
            x.astype(np.int32), 3, 2, np.array([0]), 1.0, (), ()
        )
    frozen = x.copy()
    frozen.flags.writeable = False
    with pytest.raises((ValueError, BufferError)):
        native.scatter_weighted_sum(frozen, 3, 2, np.array([0]), 2.0, (), ())
    assert not x.any()


def _adagrad_inputs(rng, rows, block, k, row_wise):
    param = rng.standard_normal((rows, block)).astype(np.float32)
    moment = np.abs(rng.standard_normal(rows if row_wise else (rows, block))).astype(
        np.float32
    )
    idx = rng.integers(0, rows, k)
    grad = rng.standard_normal((k, block)).astype(np.float32)
    lr = np.array([rng.uniform(-1, -0.01)], np.float32)
    return [param, moment, idx, grad, lr]


@needs_native
@settings(max_examples=30, deadline=None)
@given(
    rows=st.integers(1, 5),
    block=st.sampled_from([1, 2, 3, 4, 5, 7, 8, 16, 19]),
    k=st.integers(0, 25),
    row_wise=st.booleans(),
    decay=st.sampled_from([0.0, 0.1, 1e-50]),
    seed=st.integers(0, 2**16),
)
def test_adagrads_native_equal_numpy(rows, block, k, row_wise, decay, seed):
    rng = np.random.default_rng(seed)
    op_type = "RowWiseSparseAdagrad" if row_wise else "SparseAdagrad"
    inputs = _adagrad_inputs(rng, rows, block, k, row_wise)
    kernel = registry.lookup(op_type).kernel
    args = {"epsilon": 1e-5, "weight_decay": decay}
    args.update({"counter_halflife": -1} if row_wise else {"decay": 1.0})
    got = kernel(*inputs, **args)
    saved = sun.native
    sun.native = None
    try:
        want = kernel(*inputs, **args)
    finally:
        sun.native = saved
    for a, b in zip(got, want):
        assert a.tobytes() == b.tobytes()


@needs_native
def test_adagrad_native_checks_before_writing():
    p, m = np.zeros((3, 2), np.float32), np.zeros((3, 2), np.float32)
    g = np.ones((2, 2), np.float32)
    for fn, moment in (
        (native.sparse_adagrad, m),
        (native.row_wise_sparse_adagrad, np.zeros(3, np.float32)),
    ):
        with pytest.raises(ValueError, match="index -1 at 1 out of range"):
            fn(p, moment, np.array([0, -1]), g, 3, 2, -1.0, 1e-5, 0.0)
        with pytest.raises(ValueError, match="grad: 2 items, expected 4"):
            fn(p, moment, np.array([0, 1]), g[0], 3, 2, -1.0, 1e-5, 0.0)
        assert not p.any() and not moment.any()


def test_ops_give_the_same_result_with_either_loop():
    rng = np.random.default_rng(5)
    idx = rng.zipf(1.3, 400) % 50
    feeds = [
        rng.standard_normal((50, 3)).astype(np.float32),
        np.full(1, 0.9, np.float32),
        idx,
        rng.standard_normal((400, 3)).astype(np.float32),
        np.full(1, -0.1, np.float32),
    ]
    results = []
    for module in (native, None):
        saved = sun.native
        sun.native = module
        try:
            results.append(
                testing.check_reference(
                    SWS,
                    feeds,
                    lambda x, w0, i, v, w1: [naive_sws(x, i, w0[0], [(v, w1[0])])],
                    atol=0,
                    rtol=0,
                )[0]
            )
        finally:
            sun.native = saved
    assert results[0].tobytes() == results[1].tobytes()


def _both_loops(op_type, inputs, args):
    """The op's kernel with the compiled loops and with the numpy ones."""
    kernel = registry.lookup(op_type).kernel
    got = kernel(*inputs, **args)
    saved = sun.native
    sun.native = None
    try:
        want = kernel(*inputs, **args)
    finally:
        sun.native = saved
    return got, want


def _case(op_type, rng, rows, block, k, variant):
    """Inputs and arguments of a random update of ``op_type`` (``variant`` picks
    the option: RAdam or not, output_grad, Nesterov, lambda1's sign)."""
    table = lambda *s: rng.standard_normal((rows,) + s).astype(np.float32)
    idx = rng.integers(0, rows, k)  # repeats are frequent
    grad = rng.standard_normal((k, block)).astype(np.float32)
    lr = np.array([rng.uniform(-1, -0.01)], np.float32)
    it = np.array([rng.integers(0, 20)], np.int64)
    if op_type in ("SparseAdam", "RowWiseSparseAdam"):
        m2 = np.abs(table() if op_type == "RowWiseSparseAdam" else table(block))
        inputs = [table(block), table(block), m2, idx, grad, lr, it]
        args = {
            "beta1": 0.9,
            "beta2": 0.999,
            "epsilon": 1e-5,
            "num_outputs": 3 + variant % 2,
        }
        if op_type == "SparseAdam":
            args["enableRAdam"] = variant >= 2
            if variant >= 2:  # rho_t >= 5 (rectified) from t = 7 on with beta2 0.999
                it[0] = rng.choice([0, 2, 10, 30])
        return inputs, args
    if op_type == "SparseMomentumSGDUpdate":
        return (
            [grad, table(block), lr, table(block), idx],
            {"momentum": float(rng.uniform(0, 1)), "nesterov": variant % 2},
        )
    nz = table(block, 2)
    nz[..., 0] = np.abs(nz[..., 0])
    return (
        [table(block), nz, idx, grad],
        {
            "alpha": float(rng.uniform(0.05, 2)),
            "beta": float(rng.uniform(0, 1)),
            "lambda1": float(rng.uniform(-0.5, 0.5) if variant % 2 else 0.01),
            "lambda2": float(rng.uniform(0, 0.5)),
            "op_def": None,
        },
    )


@needs_native
@settings(max_examples=100, deadline=None)
@given(
    op_type=st.sampled_from(
        ["SparseAdam", "RowWiseSparseAdam", "SparseMomentumSGDUpdate", "SparseFtrl"]
    ),
    rows=st.integers(1, 5),
    block=st.sampled_from([1, 2, 3, 4, 5, 7, 8, 16, 19]),
    k=st.integers(0, 25),
    variant=st.integers(0, 3),
    seed=st.integers(0, 2**16),
)
def test_other_optimizers_native_equal_numpy(op_type, rows, block, k, variant, seed):
    rng = np.random.default_rng(seed)
    inputs, args = _case(op_type, rng, rows, block, k, variant)
    before = [x.copy() for x in inputs]
    got, want = _both_loops(op_type, inputs, args)
    assert len(got) == len(want)
    for a, b in zip(got, want):
        assert a.shape == b.shape and a.tobytes() == b.tobytes()
    for x, y in zip(inputs, before):  # the kernel on its own writes a copy
        assert x.tobytes() == y.tobytes()


@needs_native
def test_other_optimizers_native_check_before_writing():
    p, m, g = (
        np.zeros((3, 2), np.float32),
        np.zeros((3, 2), np.float32),
        np.ones((2, 2), np.float32),
    )
    bad = np.array([0, 3])
    calls = [
        lambda: native.sparse_adam(
            p,
            m,
            m.copy(),
            bad,
            g,
            None,
            3,
            2,
            -1.0,
            0.9,
            0.999,
            1e-5,
            0,
            0,
            1.0,
            1.0,
            0.0,
        ),
        lambda: native.row_wise_sparse_adam(
            p,
            m,
            np.zeros(3, np.float32),
            bad,
            g,
            None,
            3,
            2,
            -1.0,
            0.9,
            0.999,
            1e-5,
            1.0,
        ),
        lambda: native.sparse_momentum_sgd(
            p, m, bad, g, np.empty((2, 2), np.float32), 3, 2, 1.0, 0.5, False
        ),
        lambda: native.sparse_ftrl(
            p, np.zeros((3, 2, 2), np.float32), bad, g, 3, 2, 1.0, 1.0, 0.1, 0.1
        ),
    ]
    for call in calls:
        with pytest.raises(ValueError, match="index 3 at 1 out of range"):
            call()
    with pytest.raises(ValueError, match="grad_out: 2 items, expected 4"):
        native.sparse_momentum_sgd(
            p, m, np.array([0, 1]), g, np.empty(2, np.float32), 3, 2, 1.0, 0.5, False
        )
    with pytest.raises(ValueError, match="n_z: 6 items, expected at least 12"):
        native.sparse_ftrl(
            p, np.zeros(6, np.float32), np.array([0, 1]), g, 3, 2, 1.0, 1.0, 0.1, 0.1
        )
    assert not p.any() and not m.any()
