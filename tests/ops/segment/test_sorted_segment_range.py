"""SortedSegmentRange{Sum,LogSumExp,LogMeanExp,Mean,Max} and their gradient ops against
naive per-segment loops (segment_ops_test's references and gradient references), edge
cases, Caffe2's errors, the gradient maker's ops and numeric gradients."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import DTypeError, EnforceError, ShapeError
from caffe2lite.schema import registry

REDUCERS = ["Sum", "LogSumExp", "LogMeanExp", "Mean", "Max"]


def naive_reduce(name, values):
    """One output element from the list of a segment's values (floats)."""
    if name == "Sum":
        return sum(values)
    if name == "Mean":
        return sum(values) / len(values)
    if name == "Max":
        return max(values)
    total = sum(math.exp(v) for v in values)
    if name == "LogMeanExp":
        total /= len(values)
    return math.log(total)


def naive_grad(name, values, out, g):
    """The gradient of each of a segment's values (segment_ops_test's grad refs)."""
    if name == "Sum":
        return [g for _ in values]
    if name == "Mean":
        return [g / len(values) for _ in values]
    if name == "Max":
        return [g if v == out else 0.0 for v in values]
    total = sum(math.exp(v) for v in values)
    return [g * math.exp(v) / total for v in values]


def segments(ids):
    """{segment: [row, ...]} from a list of ids."""
    out = {}
    for row, s in enumerate(ids):
        out.setdefault(s, []).append(row)
    return out


def naive_forward(name):
    def ref(data, ids):
        groups = segments(ids.tolist())
        k = len(groups)
        flat = data.reshape(data.shape[0], -1).astype(np.float64)
        out = np.zeros((k, flat.shape[1]))
        for s, rows in groups.items():
            for j in range(flat.shape[1]):
                out[s, j] = naive_reduce(name, [flat[r, j] for r in rows])
        return [out.reshape((k,) + data.shape[1:]).astype(data.dtype)]

    return ref


def naive_backward(name):
    def ref(data, out, grads, ids):
        flat = data.reshape(data.shape[0], -1).astype(np.float64)
        o = out.reshape(out.shape[0], -1).astype(np.float64)
        g = grads.reshape(grads.shape[0], -1).astype(np.float64)
        dx = np.zeros_like(flat)
        for s, rows in segments(ids.tolist()).items():
            for j in range(flat.shape[1]):
                vals = naive_grad(name, [flat[r, j] for r in rows], o[s, j], g[s, j])
                for r, v in zip(rows, vals):
                    dx[r, j] = v
        return [dx.reshape(data.shape).astype(data.dtype)]

    return ref


def make(rng, n, k, tail, dtype):
    ids = np.sort(rng.integers(0, k, n))
    ids = (
        np.unique(ids, return_inverse=True)[1].astype(np.int32)
        if n
        else ids.astype(np.int32)
    )
    data = rng.standard_normal((n,) + tail).astype(dtype)
    return data, ids


def fwd(name):
    return CreateOperator(f"SortedSegmentRange{name}", ["D", "S"], ["Y"])


def bwd(name):
    return CreateOperator(
        f"SortedSegmentRange{name}Gradient", ["D", "Y", "G", "S"], ["DG"]
    )


@settings(max_examples=25, deadline=None)
@given(
    name=st.sampled_from(REDUCERS),
    n=st.integers(1, 10),
    k=st.integers(1, 4),
    tail=st.sampled_from([(), (2,), (2, 3)]),
    dtype=st.sampled_from([np.float32, np.float64]),
    seed=st.integers(0, 2**16),
)
def test_forward_and_gradient_op_match_naive_loops(name, n, k, tail, dtype, seed):
    rng = np.random.default_rng(seed)
    data, ids = make(rng, n, k, tail, dtype)
    (y,) = testing.check_reference(
        fwd(name), [data, ids], naive_forward(name), atol=1e-5
    )
    grads = rng.standard_normal(y.shape).astype(dtype)
    testing.check_reference(
        bwd(name), [data, y, grads, ids], naive_backward(name), atol=1e-5
    )


@pytest.mark.parametrize("name", REDUCERS)
def test_caffe2_case_and_numeric_gradient(name):
    # segment_ops_test: sorted ids without gaps (cumsum of booleans), float data.
    data = (np.arange(18, dtype=np.float64).reshape(6, 3) - 8) / 5
    ids = np.array([0, 0, 1, 2, 2, 2], np.int32)
    (y,) = testing.check_reference(fwd(name), [data, ids], naive_forward(name))
    assert y.shape == (3, 3)
    testing.check_gradient(fwd(name), [data, ids], 0)


@pytest.mark.parametrize("name", REDUCERS)
def test_empty_input(name):
    data = np.zeros((0, 4), np.float32)
    ids = np.zeros(0, np.int32)
    (y,) = testing.check_reference(fwd(name), [data, ids], lambda d, s: [d.copy()])
    assert y.shape == (0, 4)
    testing.check_reference(
        bwd(name),
        [data, np.zeros((0, 4), np.float32), np.zeros((0, 4), np.float32), ids],
        lambda *a: [np.zeros((0, 4), np.float32)],
    )


def test_max_ties_nan_and_large_values():
    data = np.array([[1.0, np.nan], [1.0, 2.0], [1000.0, np.nan]], np.float32)
    ids = np.array([0, 0, 1], np.int32)
    ws_y = testing.check_reference(
        fwd("Max"),
        [data, ids],
        lambda d, s: [np.array([[1, 2], [1000, np.finfo(np.float32).min]], np.float32)],
    )[0]
    # every tie gets the gradient, as Caffe2's MaxRangeReducerGradient
    g = np.array([[5, 7], [9, 11]], np.float32)
    testing.check_reference(
        bwd("Max"),
        [data, ws_y, g, ids],
        lambda *a: [np.array([[5, 0], [5, 7], [9, 0]], np.float32)],
    )
    # log-sum-exp subtracts the max first: no overflow
    testing.check_reference(
        fwd("LogSumExp"),
        [np.array([[1000.0], [1000.0]], np.float32), np.array([0, 0], np.int32)],
        lambda d, s: [np.array([[1000 + math.log(2)]], np.float32)],
    )
    testing.check_reference(
        fwd("LogMeanExp"),
        [np.array([[1000.0], [1000.0]], np.float32), np.array([0, 0], np.int32)],
        lambda d, s: [np.array([[1000.0]], np.float32)],
    )


@pytest.mark.parametrize("name", REDUCERS)
def test_gradient_maker(name):
    ops, grads = GradientRegistry.GetBackwardPass([fwd(name)], {"Y": "Y_grad"})
    want = CreateOperator(
        f"SortedSegmentRange{name}Gradient", ["D", "Y", "Y_grad", "S"], ["D_grad"]
    )
    want.is_gradient_op = True
    assert [o.SerializeToString() for o in ops] == [want.SerializeToString()]
    assert str(grads["D"]) == "D_grad" and grads.get("S") is None
    assert registry.GRADIENTS[f"SortedSegmentRange{name}"].kind == registry.MAKER
    assert (
        registry.GRADIENTS[f"SortedSegmentRange{name}Gradient"].kind
        == registry.NOT_IMPLEMENTED_YET
    )


@pytest.mark.parametrize("name", REDUCERS)
def test_errors(name):
    data = np.ones((3, 2), np.float32)
    ids = np.array([0, 0, 1], np.int32)
    op = fwd(name)
    testing.check_raises(
        op, [data, ids.reshape(3, 1)], ShapeError, "SEGMENT_IDS must be a vector"
    )
    testing.check_raises(
        op,
        [data[:2], ids],
        ShapeError,
        r"3 vs 2\. SEGMENT_IDS must have the same length as outer "
        "dimension of DATA",
    )
    testing.check_raises(
        op, [data.astype(np.int32), ids], DTypeError, r"Unsupported input type: int\."
    )
    testing.check_raises(
        op,
        [data, ids.astype(np.int64)],
        DTypeError,
        "caller expects elements to be int while tensor contains long",
    )
    testing.check_raises(
        op,
        [np.array(1, np.float32), ids[:0]],
        ShapeError,
        "DATA should be at least 1-D",
    )
    for bad, text in (
        ([1, 1, 2], "0 == s_ids\\[0\\]. 0 vs 1"),
        ([0, 2, 2], "s_ids\\[start\\] \\+ 1 == s_ids\\[i\\]. 1 vs 2"),
        ([0, 1, 0], "s_ids\\[start\\] \\+ 1 == s_ids\\[i\\]. 2 vs 0"),
    ):
        testing.check_raises(
            op,
            [data, np.array(bad, np.int32)],
            EnforceError,
            text + ". Indices must be sorted and not have gaps",
        )
    g = bwd(name)
    y = np.ones((2, 2), np.float32)
    testing.check_raises(
        g,
        [data, np.ones((3, 2), np.float32), np.ones((3, 2), np.float32), ids],
        EnforceError,
        r"K - 1 == s_ids\[N - 1\]. 2 vs 1. Indices must be sorted",
    )
    testing.check_raises(
        g,
        [data, y, y, np.array([1, 1, 1], np.int32)],
        EnforceError,
        "Indices must be sorted and not have gaps",
    )
    testing.check_raises(
        g, [data[:2], y, y, ids], ShapeError, r"DATA_IN must have shape \[3, 2\]"
    )
    testing.check_raises(
        g,
        [data, y[:1], y, ids],
        ShapeError,
        r"DATA_OUT must have SEGMENT_GRADS' shape \[2, 2\]",
    )
    testing.check_raises(
        g,
        [data.astype(np.float64), y, y, ids],
        DTypeError,
        "caller expects elements to be float while tensor contains double",
    )
