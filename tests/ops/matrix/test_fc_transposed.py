from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import DTypeError, ShapeError


def naive_fc_transposed(x, w, b, axis=1, axis_w=1):
    m, k = int(np.prod(x.shape[:axis])), int(np.prod(x.shape[axis:]))
    n = int(np.prod(w.shape[axis_w:]))
    xf, wf = x.reshape(-1).tolist(), w.reshape(-1).tolist()
    y = [[b[j] + sum(xf[i * k + p] * wf[p * n + j] for p in range(k)) for j in range(n)]
         for i in range(m)]
    return [np.array(y, dtype=x.dtype).reshape(x.shape[:axis] + (n,))]


@settings(max_examples=25, deadline=None)
@given(m=st.integers(0, 4), k=st.integers(1, 4), n=st.integers(1, 4),
       dtype=st.sampled_from([np.float32, np.float64]), seed=st.integers(0, 2**16))
def test_matches_naive_loop(m, k, n, dtype, seed):
    # fc_operator_test.py: test_fc with transposed weights (FCTransposed)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((m, k)).astype(dtype)
    w = rng.standard_normal((k, n)).astype(dtype)
    b = rng.standard_normal(n).astype(dtype)
    op = CreateOperator("FCTransposed", ["X", "W", "b"], ["Y"])
    testing.check_reference(op, [x, w, b], naive_fc_transposed, atol=1e-4)


def test_axes():
    rng = np.random.default_rng(1)
    x, w, b = rng.standard_normal((2, 3, 4)), rng.standard_normal((4, 1, 5)), rng.standard_normal(5)
    op = CreateOperator("FCTransposed", ["X", "W", "b"], ["Y"], axis=2, axis_w=1)
    testing.check_reference(op, [x, w, b], lambda x, w, b: naive_fc_transposed(x, w, b, 2, 1))
    x2 = rng.standard_normal((2, 2, 3))
    w2 = rng.standard_normal((2, 3, 4))
    op = CreateOperator("FCTransposed", ["X", "W", "b"], ["Y"], axis=1, axis_w=2)
    testing.check_reference(op, [x2, w2, rng.standard_normal(4)],
                            lambda x, w, b: naive_fc_transposed(x, w, b, 1, 2))


def test_errors():
    op = CreateOperator("FCTransposed", ["X", "W", "b"], ["Y"])
    f4 = np.float32
    testing.check_raises(op, [np.ones((2, 3), f4), np.ones((4, 5), f4), np.ones(5, f4)],
                         ShapeError, re.escape("K == W.numel() / N. Dimension mismatch: X: [2, 3], "
                                               "W: [4, 5], b: [5], axis: 1, M: 2, N: 5, K: 3"))
    testing.check_raises(op, [np.ones((2, 3), f4), np.ones((3, 5), f4), np.ones(4, f4)],
                         ShapeError, re.escape("N == b.dim32(0)"))
    testing.check_raises(op, [np.ones((2, 3), f4), np.ones((3, 5), f4), np.ones((5, 1), f4)],
                         ShapeError, re.escape("b.dim() == 1. 2"))
    testing.check_raises(op, [np.ones((2, 3), f4), np.ones((3, 5)), np.ones(5, f4)], DTypeError,
                         "caller expects elements to be float while tensor contains double")
    grad = CreateOperator("FCTransposedGradient", ["X", "W", "dY"], ["dW", "db", "dX"])
    testing.check_raises(grad, [np.ones((2, 3), f4), np.ones((3, 5), f4), np.ones((2, 4), f4)],
                         ShapeError, re.escape("dY.numel() == M * N"))


def test_gradient_op_values_and_two_outputs():
    rng = np.random.default_rng(2)
    x, w, dy = rng.standard_normal((3, 2)), rng.standard_normal((2, 4)), rng.standard_normal((3, 4))

    def naive(x, w, dy):
        dw = [[sum(x[i, p] * dy[i, j] for i in range(3)) for j in range(4)] for p in range(2)]
        db = [sum(dy[i, j] for i in range(3)) for j in range(4)]
        dx = [[sum(dy[i, j] * w[p, j] for j in range(4)) for p in range(2)] for i in range(3)]
        return [np.array(dw), np.array(db), np.array(dx)]

    grad = CreateOperator("FCTransposedGradient", ["X", "W", "dY"], ["dW", "db", "dX"])
    testing.check_reference(grad, [x, w, dy], naive)
    grad2 = CreateOperator("FCTransposedGradient", ["X", "W", "dY"], ["dW", "db"])
    testing.check_reference(grad2, [x, w, dy], lambda *v: naive(*v)[:2])


@pytest.mark.parametrize("axis,x_shape,w_shape", [(1, (3, 4), (4, 2)), (2, (2, 3, 4), (4, 1, 2))])
def test_numeric_gradient(axis, x_shape, w_shape):
    rng = np.random.default_rng(9)
    op = CreateOperator("FCTransposed", ["X", "W", "b"], ["Y"], axis=axis)
    testing.check_gradient(op, [rng.standard_normal(x_shape), rng.standard_normal(w_shape),
                                rng.standard_normal(int(np.prod(w_shape[1:])))], [0, 1, 2])


def test_gradient_ops_list():
    op = CreateOperator("FCTransposed", ["X", "W", "b"], ["Y"], axis=1)
    ops, _ = GradientRegistry.GetBackwardPass([op], {"Y": "Y_grad"})
    want = CreateOperator("FCTransposedGradient", ["X", "W", "Y_grad"],
                          ["W_grad", "b_grad", "X_grad"], axis=1)
    want.is_gradient_op = True
    assert [o.SerializeToString() for o in ops] == [want.SerializeToString()]


def test_shape_and_cost():
    from caffe2lite.inference import infer_op, op_cost
    from caffe2lite.schema.shapes import Cost, TensorShape

    f4 = np.dtype(np.float32)
    op = CreateOperator("FCTransposed", ["X", "W", "b"], ["Y"], axis=2)
    shapes = [TensorShape((2, 2, 3), f4), TensorShape((3, 5), f4), TensorShape((5,), f4)]
    assert infer_op(op, shapes) == [TensorShape((2, 2, 5), f4)]
    # Caffe2's CostInferenceForFC: M·N·(2K + 1) flops, W and b are the parameters
    assert op_cost(op, shapes) == Cost(flops=4 * 5 * 7, bytes_read=(12 + 15 + 5) * 4,
                                       bytes_written=20 * 4, params_bytes=(15 + 5) * 4)
    unknown = infer_op(op, [TensorShape(("N", 2, 3), f4), TensorShape(None, f4), TensorShape()])
    assert unknown == [TensorShape(("N", 2, "N"), f4)]


def test_gradient_shape_and_cost():
    from caffe2lite.inference import infer_op, op_cost
    from caffe2lite.schema.shapes import Cost, TensorShape

    f4 = np.dtype(np.float32)
    shapes = [TensorShape((4, 3), f4), TensorShape((3, 5), f4), TensorShape((4, 5), f4)]
    op = CreateOperator("FCTransposedGradient", ["X", "W", "dY"], ["dW", "db", "dX"])
    assert infer_op(op, shapes) == [TensorShape((3, 5), f4), TensorShape((5,), f4),
                                    TensorShape((4, 3), f4)]
    assert op_cost(op, shapes) == Cost(flops=4 * 5 * 7 + 2 * 4 * 5 * 3,
                                       bytes_written=(15 + 5 + 12) * 4,
                                       params_bytes=(15 + 5) * 4)
    two = CreateOperator("FCTransposedGradient", ["X", "W", "dY"], ["dW", "db"])
    assert op_cost(two, shapes) == Cost(flops=4 * 5 * 7, bytes_written=(15 + 5) * 4,
                                        params_bytes=(15 + 5) * 4)
