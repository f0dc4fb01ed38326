from __future__ import annotations

import itertools
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import DTypeError, GradientError, ShapeError


def naive_batch_matmul(a, b, trans_a=0, trans_b=0):
    """Loops over the broadcast batch index and the matrix entries."""
    if a.ndim == 1 and b.ndim == 1:
        return np.array([sum(float(x) * float(y) for x, y in zip(a, b))], a.dtype)
    squeeze_a, squeeze_b = a.ndim == 1, b.ndim == 1
    if squeeze_a:
        a, trans_a = a.reshape(1, -1), 0
    if squeeze_b:
        b, trans_b = b.reshape(-1, 1), 0
    if trans_a:
        a = np.swapaxes(a, -1, -2)
    if trans_b:
        b = np.swapaxes(b, -1, -2)
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    m, k, n = a.shape[-2], a.shape[-1], b.shape[-1]
    out = np.zeros(batch + (m, n), a.dtype)
    for idx in itertools.product(*[range(d) for d in batch]):
        ia = tuple(i if d > 1 else 0 for i, d in zip(idx[len(idx) - (a.ndim - 2):], a.shape[:-2]))
        ib = tuple(i if d > 1 else 0 for i, d in zip(idx[len(idx) - (b.ndim - 2):], b.shape[:-2]))
        for i in range(m):
            for j in range(n):
                out[idx + (i, j)] = sum(a[ia + (i, p)] * b[ib + (p, j)] for p in range(k))
    if squeeze_a:
        out = out.reshape(out.shape[:-2] + (n,))
    if squeeze_b:
        out = out.reshape(out.shape[:-1])
    return out


@settings(max_examples=25, deadline=None)
@given(batch=st.lists(st.integers(1, 3), max_size=2), m=st.integers(1, 3), k=st.integers(1, 3),
       n=st.integers(1, 3), trans_a=st.integers(0, 1), trans_b=st.integers(0, 1),
       dtype=st.sampled_from([np.float32, np.float64]), seed=st.integers(0, 2**16))
def test_matches_naive_loop(batch, m, k, n, trans_a, trans_b, dtype, seed):
    # batch_matmul_op_test.py: test_batch_matmul (same batch dims, transposes)
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(tuple(batch) + ((k, m) if trans_a else (m, k))).astype(dtype)
    b = rng.standard_normal(tuple(batch) + ((n, k) if trans_b else (k, n))).astype(dtype)
    op = CreateOperator("BatchMatMul", ["A", "B"], ["Y"], trans_a=trans_a, trans_b=trans_b)
    testing.check_reference(op, [a, b], lambda a, b: [naive_batch_matmul(a, b, trans_a, trans_b)],
                            atol=1e-4)


@pytest.mark.parametrize("a_shape,b_shape", [
    ((2, 1, 3, 4), (5, 4, 2)), ((3, 4), (2, 2, 4, 5)), ((2, 3, 4), (1, 4, 5)),
    ((4,), (2, 4, 3)), ((2, 3, 4), (4,)), ((4,), (4,)), ((1, 3, 4), (2, 4, 2))])
def test_broadcast(a_shape, b_shape):
    # batch_matmul_op_test.py: test_numpy_batch_matmul / test_numpy_batch_matmul_1d
    rng = np.random.default_rng(3)
    a = rng.standard_normal(a_shape).astype(np.float32)
    b = rng.standard_normal(b_shape).astype(np.float32)
    op = CreateOperator("BatchMatMul", ["A", "B"], ["Y"], broadcast=1)
    y = testing.check_reference(op, [a, b], lambda a, b: [naive_batch_matmul(a, b)], atol=1e-4)[0]
    if len(a_shape) > 1 or len(b_shape) > 1:
        np.testing.assert_allclose(y, np.matmul(a, b), rtol=1e-5)


def test_vectors_with_transposes():
    rng = np.random.default_rng(4)
    a, b = rng.standard_normal(3), rng.standard_normal((2, 4, 3))
    op = CreateOperator("BatchMatMul", ["A", "B"], ["Y"], trans_b=1)
    testing.check_reference(op, [a, b], lambda a, b: [
        np.array([[sum(b[i, j, p] * a[p] for p in range(3)) for j in range(4)] for i in range(2)])])
    op = CreateOperator("BatchMatMul", ["A", "B"], ["Y"], trans_a=1)
    testing.check_reference(op, [b, np.ones(4)], lambda b, v: [
        np.array([[sum(b[i, p, j] for p in range(4)) for j in range(3)] for i in range(2)])])


def test_empty_batches_and_zero_dims():
    op = CreateOperator("BatchMatMul", ["A", "B"], ["Y"], broadcast=1)
    testing.check_reference(op, [np.ones((0, 2, 3)), np.ones((0, 3, 4))],
                            lambda *v: [np.zeros((0, 2, 4))])
    # Caffe2 gives a batch dimension of 0 where either input has 0 (numpy would refuse 0 vs 3)
    testing.check_reference(op, [np.ones((0, 2, 3)), np.ones((3, 3, 4))],
                            lambda *v: [np.zeros((0, 2, 4))])
    testing.check_reference(op, [np.ones((2, 2, 0)), np.ones((2, 0, 4))],
                            lambda *v: [np.zeros((2, 2, 4))])


def test_errors():
    op = CreateOperator("BatchMatMul", ["A", "B"], ["Y"])
    f4 = np.float32
    testing.check_raises(op, [np.ones((2, 3, 4), f4), np.ones((2, 5, 2), f4)], ShapeError,
                         re.escape("B_dims[B_ndim - 2] == K. 5 vs 4"))
    testing.check_raises(op, [np.ones((2, 3, 4), f4), np.ones((3, 4, 2), f4)], ShapeError,
                         re.escape("A_broadcast_dims[i] == B_broadcast_dims[i] || "))
    testing.check_raises(op, [np.ones((2, 3, 4), f4), np.ones((1, 4, 2), f4)], ShapeError,
                         re.escape("broadcast_"))
    testing.check_raises(op, [np.ones(3, f4), np.ones(4, f4)], ShapeError,
                         re.escape("A.numel() == B.numel(). 3 vs 4"))
    testing.check_raises(op, [np.ones(3, f4), np.ones((4, 2), f4)], ShapeError,
                         re.escape("B_dims[B_ndim - 2] == N. 4 vs 3"))
    testing.check_raises(op, [np.ones((2, 4), f4), np.ones(3, f4)], ShapeError,
                         re.escape("A_dims[A_ndim - 1] == N. 4 vs 3"))
    testing.check_raises(op, [np.array(1, f4), np.ones(3, f4)], ShapeError,
                         re.escape("A.dim() >= 1"))
    testing.check_raises(op, [np.ones((2, 2)), np.ones((2, 2), f4)], DTypeError,
                         "caller expects elements to be double while tensor contains float")


@pytest.mark.parametrize("trans_a,trans_b", [(0, 0), (0, 1), (1, 0), (1, 1)])
def test_numeric_gradient(trans_a, trans_b):
    rng = np.random.default_rng(5)
    a = rng.standard_normal((2, 4, 3) if trans_a else (2, 3, 4))
    b = rng.standard_normal((2, 5, 4) if trans_b else (2, 4, 5))
    op = CreateOperator("BatchMatMul", ["A", "B"], ["Y"], trans_a=trans_a, trans_b=trans_b)
    testing.check_gradient(op, [a, b], [0, 1])


@pytest.mark.parametrize("trans_a,trans_b,want", [
    (0, 0, [(["Y_grad", "B"], "A_grad", dict(trans_b=1)),
            (["A", "Y_grad"], "B_grad", dict(trans_a=1))]),
    (0, 1, [(["Y_grad", "B"], "A_grad", {}), (["Y_grad", "A"], "B_grad", dict(trans_a=1))]),
    (1, 0, [(["B", "Y_grad"], "A_grad", dict(trans_b=1)), (["A", "Y_grad"], "B_grad", {})]),
    (1, 1, [(["B", "Y_grad"], "A_grad", dict(trans_a=1, trans_b=1)),
            (["Y_grad", "A"], "B_grad", dict(trans_a=1, trans_b=1))]),
])
def test_gradient_ops_list(trans_a, trans_b, want):
    op = CreateOperator("BatchMatMul", ["A", "B"], ["Y"], trans_a=trans_a, trans_b=trans_b)
    ops, _ = GradientRegistry.GetBackwardPass([op], {"Y": "Y_grad"})
    expected = []
    for inputs, output, args in want:
        w = CreateOperator("BatchMatMul", inputs, [output], **args)
        w.is_gradient_op = True
        expected.append(w.SerializeToString())
    assert [o.SerializeToString() for o in ops] == expected


def test_no_gradient_with_broadcast():
    op = CreateOperator("BatchMatMul", ["A", "B"], ["Y"], broadcast=1)
    with pytest.raises(GradientError, match="Gradient is currently not supported with "
                                            "broadcast=1 for BatchMatMul."):
        GradientRegistry.GetBackwardPass([op], {"Y": "Y_grad"})


def test_shape_and_cost():
    from caffe2lite.inference import infer_op, op_cost
    from caffe2lite.schema.shapes import Cost, TensorShape

    f4 = np.dtype(np.float32)
    op = CreateOperator("BatchMatMul", ["A", "B"], ["Y"], broadcast=1, trans_a=1)
    shapes = [TensorShape((2, 1, 4, 3), f4), TensorShape((5, 4, 6), f4)]
    assert infer_op(op, shapes) == [TensorShape((2, 5, 3, 6), f4)]
    # Caffe2's CostInferenceForBatchMatMul: 2·|Y|·K flops
    assert op_cost(op, shapes) == Cost(flops=2 * 180 * 4, bytes_read=(24 + 120) * 4,
                                       bytes_written=180 * 4)
    vec = infer_op(op, [TensorShape((4,), f4), TensorShape((2, 4, 3), f4)])
    assert vec == [TensorShape((2, 3), f4)]


@settings(max_examples=30, deadline=None)
@given(c1=st.integers(0, 3), c2=st.integers(0, 3), m=st.integers(1, 4), k=st.integers(1, 4),
       n=st.integers(1, 4), trans_a=st.booleans(), trans_b=st.booleans(),
       seed=st.integers(0, 2**16))
def test_numpy_batch_matmul(c1, c2, m, k, n, trans_a, trans_b, seed):
    # batch_matmul_op_test.py / matmul_op_test.py: test_numpy_batch_matmul (batch dims
    # drawn from [0, 3), the shorter list a suffix of the longer), with broadcast=1
    rng = np.random.default_rng(seed)
    batch = rng.integers(0, 3, max(c1, c2)).tolist()
    x = rng.random(batch[len(batch) - c1:] + [m, k]) - 0.5
    y = rng.random(batch[len(batch) - c2:] + [k, n]) - 0.5
    if trans_a:
        x = np.swapaxes(x, -1, -2)
    if trans_b:
        y = np.swapaxes(y, -1, -2)
    op = CreateOperator("BatchMatMul", ["X", "Y"], ["out"], trans_a=trans_a, trans_b=trans_b,
                        broadcast=1)
    testing.check_reference(op, [x, y], lambda x, y: [naive_batch_matmul(
        x, y, int(trans_a), int(trans_b))])
