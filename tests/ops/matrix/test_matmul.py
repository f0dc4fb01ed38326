from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import DTypeError, SchemaError, ShapeError


def naive_matmul(a, b, axis_a=1, axis_b=1, trans_a=0, trans_b=0):
    """Row-by-row, element-by-element product of the flattened, transposed views."""
    def matrix(t, axis, trans):
        rows = int(np.prod(t.shape[:axis]))
        cols = int(np.prod(t.shape[axis:]))
        flat = t.reshape(-1).tolist()
        m = [[flat[i * cols + j] for j in range(cols)] for i in range(rows)]
        return [list(r) for r in zip(*m)] if trans else m
    ma, mb = matrix(a, axis_a, trans_a), matrix(b, axis_b, trans_b)
    k = len(mb)
    n = len(mb[0]) if mb else int(np.prod(b.shape[axis_b:] if not trans_b else b.shape[:axis_b]))
    out = [[sum(row[p] * mb[p][j] for p in range(k)) for j in range(n)] for row in ma]
    return np.array(out, dtype=a.dtype).reshape(len(ma), n)


@settings(max_examples=25, deadline=None)
@given(m=st.integers(1, 4), k=st.integers(1, 4), n=st.integers(1, 4),
       trans_a=st.integers(0, 1), trans_b=st.integers(0, 1),
       dtype=st.sampled_from([np.float32, np.float64]), seed=st.integers(0, 2**16))
def test_matches_naive_loop(m, k, n, trans_a, trans_b, dtype, seed):
    # caffe2/python/operator_test/matmul_op_test.py: test_matmul (M, K, N, trans_a, trans_b)
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((k, m) if trans_a else (m, k)).astype(dtype)
    b = rng.standard_normal((n, k) if trans_b else (k, n)).astype(dtype)
    op = CreateOperator("MatMul", ["A", "B"], ["Y"], trans_a=trans_a, trans_b=trans_b)
    testing.check_reference(op, [a, b], lambda a, b: [naive_matmul(a, b, 1, 1, trans_a, trans_b)],
                            atol=1e-4)


@pytest.mark.parametrize("axis_a,axis_b,trans_a,trans_b", [
    (1, 1, 0, 0), (2, 1, 0, 0), (-1, 2, 0, 0), (1, 2, 1, 0), (2, 1, 1, 1), (1, 1, 0, 1)])
def test_axes(axis_a, axis_b, trans_a, trans_b):
    # matmul_op_test.py: test_matmul_axis (flattening at axis_a / axis_b, with transposes)
    rng = np.random.default_rng(1)
    a = rng.standard_normal((2, 3, 4)).astype(np.float32)
    ax_a = axis_a % 3
    rows_a, cols_a = int(np.prod(a.shape[:ax_a])), int(np.prod(a.shape[ax_a:]))
    k = rows_a if trans_a else cols_a
    b_shape = (k, 5) if axis_b == 1 else (k, 1, 5)
    if trans_b:
        b_shape = (5, k) if axis_b == 1 else (5, 1, k)
        if axis_b == 2:
            b_shape = (5, 1, k)
    b = rng.standard_normal(b_shape).astype(np.float32)
    op = CreateOperator("MatMul", ["A", "B"], ["Y"], axis_a=axis_a, axis_b=axis_b,
                        trans_a=trans_a, trans_b=trans_b)
    testing.check_reference(
        op, [a, b], lambda a, b: [naive_matmul(a, b, ax_a, axis_b % b.ndim, trans_a, trans_b)],
        atol=1e-4)


def test_third_input_gives_the_shape_and_empty_inputs():
    op = CreateOperator("MatMul", ["A", "B", "L"], ["Y"])
    a, b = np.ones((2, 3), np.float32), np.ones((3, 2), np.float32)
    testing.check_reference(op, [a, b, np.zeros((4,), np.int32)],
                            lambda *v: [np.full(4, 3, np.float32)])
    op = CreateOperator("MatMul", ["A", "B"], ["Y"])
    testing.check_reference(op, [np.zeros((0, 3)), np.ones((3, 2))], lambda *v: [np.zeros((0, 2))])
    testing.check_reference(op, [np.ones((2, 0)), np.ones((0, 2))], lambda *v: [np.zeros((2, 2))])


def test_errors():
    op = CreateOperator("MatMul", ["A", "B"], ["Y"])
    testing.check_raises(op, [np.ones((2, 3), np.float32), np.ones((4, 2), np.float32)],
                         ShapeError,
                         re.escape("a_dim1 == b_dim0. Dimension mismatch: A: 2 3, B: 4 2"))
    op_t = CreateOperator("MatMul", ["A", "B"], ["Y"], trans_a=1, trans_b=1)
    testing.check_raises(op_t, [np.ones((2, 3), np.float32), np.ones((4, 3), np.float32)],
                         ShapeError, re.escape("Dimension mismatch: trans(A): 3 2, trans(B): 3 4"))
    testing.check_raises(op, [np.ones((2, 3)), np.ones((3, 2), np.float32)], DTypeError,
                         "caller expects elements to be double while tensor contains float")
    testing.check_raises(op, [np.ones((2, 3), np.int32), np.ones((3, 2), np.int32)], DTypeError,
                         "caller expects elements to be float while tensor contains int")
    bad_axis = CreateOperator("MatMul", ["A", "B"], ["Y"], axis_a=3)
    testing.check_raises(bad_axis, [np.ones((2, 3)), np.ones((3, 2))], ShapeError,
                         re.escape("axis_index < ndims. 3 vs 2"))
    like = CreateOperator("MatMul", ["A", "B", "L"], ["Y"])
    testing.check_raises(like, [np.ones((2, 3)), np.ones((3, 2)), np.ones(3)], ShapeError,
                         re.escape("a_dim0 * b_dim1 == Y->size()"))
    with pytest.raises(SchemaError, match="Input size 1 not in range"):
        testing.check_reference(CreateOperator("MatMul", ["A"], ["Y"]), [np.ones((1, 1))],
                                lambda a: [a])


@pytest.mark.parametrize("trans_a,trans_b", [(0, 0), (0, 1), (1, 0), (1, 1)])
def test_numeric_gradient(trans_a, trans_b):
    rng = np.random.default_rng(2)
    a = rng.standard_normal((4, 3) if trans_a else (3, 4))
    b = rng.standard_normal((5, 4) if trans_b else (4, 5))
    op = CreateOperator("MatMul", ["A", "B"], ["Y"], trans_a=trans_a, trans_b=trans_b)
    testing.check_gradient(op, [a, b], [0, 1])
    # flattened views: the gradient ops reshape into the forward inputs' shapes
    op = CreateOperator("MatMul", ["A", "B"], ["Y"], trans_a=trans_a, trans_b=trans_b)
    testing.check_gradient(op, [a.reshape(a.shape[0], 1, a.shape[1]),
                                b.reshape(b.shape[0], b.shape[1], 1)], [0, 1])


def _grad_ops(op):
    ops, _ = GradientRegistry.GetBackwardPass([op], {"Y": "Y_grad"})
    return ops


def _want(inputs, output, **args):
    op = CreateOperator("MatMul", inputs, [output], **args)
    op.is_gradient_op = True
    return op.SerializeToString()


@pytest.mark.parametrize("trans_a,trans_b,want", [
    (0, 0, [(["Y_grad", "B", "A"], "A_grad", dict(trans_b=1, axis_b=1)),
            (["A", "Y_grad", "B"], "B_grad", dict(trans_a=1, axis_a=1))]),
    (0, 1, [(["Y_grad", "B", "A"], "A_grad", dict(axis_b=1)),
            (["Y_grad", "A", "B"], "B_grad", dict(trans_a=1, axis_b=1))]),
    (1, 0, [(["B", "Y_grad", "A"], "A_grad", dict(trans_b=1, axis_a=1)),
            (["A", "Y_grad", "B"], "B_grad", dict(axis_a=1))]),
    (1, 1, [(["B", "Y_grad", "A"], "A_grad", dict(trans_a=1, trans_b=1, axis_a=1)),
            (["Y_grad", "A", "B"], "B_grad", dict(trans_a=1, trans_b=1, axis_b=1))]),
])
def test_gradient_ops_list(trans_a, trans_b, want):
    op = CreateOperator("MatMul", ["A", "B"], ["Y"], trans_a=trans_a, trans_b=trans_b, axis_a=1)
    got = [o.SerializeToString() for o in _grad_ops(op)]
    assert got == [_want(i, o, **a) for i, o, a in want]


def test_gradient_axes_pass_through_a_bool_as_in_caffe2():
    # Caffe2's GetMatMulGradient stored axis_a / axis_b in a bool: 2 becomes 1, 0 stays 0.
    op = CreateOperator("MatMul", ["A", "B"], ["Y"], axis_a=2, axis_b=0)
    ops = _grad_ops(op)
    assert [(a.name, a.i) for a in ops[0].arg] == [("trans_b", 1), ("axis_b", 0)]
    assert [(a.name, a.i) for a in ops[1].arg] == [("trans_a", 1), ("axis_a", 1)]


@settings(max_examples=20, deadline=None)
@given(m=st.integers(1, 4), k=st.integers(1, 4), n=st.integers(1, 4),
       axis_a=st.sampled_from([-3, -2, -1, 1, 2, 3]), axis_b=st.sampled_from([-3, -2, -1, 1, 2, 3]),
       trans_a=st.booleans(), trans_b=st.booleans(), seed=st.integers(0, 2**16))
def test_axes_on_4d_tensors_with_gradients(m, k, n, axis_a, axis_b, trans_a, trans_b, seed):
    # matmul_op_test.py: test_matmul_axis (the matrix spread over a 4-D tensor whose other
    # dimensions are 1, reference and gradient checks)
    rng = np.random.default_rng(seed)
    x = rng.random((k, m) if trans_a else (m, k)) - 0.5
    shape_x = [x.shape[0], 1, 1, 1]
    shape_x[axis_a] = x.shape[1]
    y = rng.random((n, k) if trans_b else (k, n)) - 0.5
    shape_y = [y.shape[0], 1, 1, 1]
    shape_y[axis_b] = y.shape[1]
    x, y = x.reshape(shape_x), y.reshape(shape_y)
    op = CreateOperator("MatMul", ["X", "Y"], ["out"], axis_a=axis_a, axis_b=axis_b,
                        trans_a=trans_a, trans_b=trans_b)
    testing.check_reference(op, [x, y], lambda x, y: [naive_matmul(
        x, y, axis_a % 4, axis_b % 4, int(trans_a), int(trans_b))], atol=1e-9)
    testing.check_gradient(op, [x, y], [0, 1])
