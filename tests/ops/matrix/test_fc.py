from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.core import CreateOperator
from caffe2lite.errors import DTypeError, SchemaError, ShapeError
from caffe2lite.workspace import Workspace


def naive_fc(x, w, b, axis=1, axis_w=1):
    """Triple loop over the flattened views."""
    ax = axis % x.ndim if axis < 0 else axis
    ax_w = axis_w % w.ndim if axis_w < 0 else axis_w
    m = int(np.prod(x.shape[:ax]))
    k = int(np.prod(x.shape[ax:]))
    n = int(np.prod(w.shape[:ax_w]))
    xf, wf = x.reshape(-1), w.reshape(-1)
    y = np.zeros((m, n), dtype=np.float64)
    for i in range(m):
        for j in range(n):
            acc = float(b[j])
            for t in range(k):
                acc += float(xf[i * k + t]) * float(wf[j * k + t])
            y[i, j] = acc
    return [y.astype(x.dtype).reshape(x.shape[:ax] + (n,))]


def naive_fc_gradient(x, w, dy, axis=1, axis_w=1, with_dx=True):
    ax = axis % x.ndim if axis < 0 else axis
    m, k = int(np.prod(x.shape[:ax])), int(np.prod(x.shape[ax:]))
    n = w.size // k if k else int(np.prod(w.shape[:axis_w]))
    xf, wf, dyf = x.reshape(m, k), w.reshape(n, k), dy.reshape(m, n)
    dw = np.zeros((n, k))
    db = np.zeros(n)
    dx = np.zeros((m, k))
    for i in range(m):
        for j in range(n):
            db[j] += dyf[i, j]
            for t in range(k):
                dw[j, t] += dyf[i, j] * xf[i, t]
                dx[i, t] += dyf[i, j] * wf[j, t]
    out = [dw.astype(x.dtype).reshape(w.shape), db.astype(x.dtype)]
    if with_dx:
        out.append(dx.astype(x.dtype).reshape(x.shape))
    return out


def fc_op(axis=None, axis_w=None, out="Y"):
    return CreateOperator("FC", ["X", "W", "b"], [out], axis=axis, axis_w=axis_w)


def test_glow_fc_values():
    x = np.array([[1, 2, 3], [4, 5, 6]], np.float32)
    w = np.arange(1, 13, dtype=np.float32).reshape(4, 3)
    b = np.array([0.1, 0.2, 0.3, 0.4], np.float32)
    want = np.array([[14.1, 32.2, 50.3, 68.4], [32.1, 77.2, 122.3, 167.4]], np.float32)
    testing.check_reference(fc_op(), [x, w, b], lambda *a: [want])


@settings(max_examples=30, deadline=None)
@given(lead=st.lists(st.integers(0, 3), min_size=1, max_size=3),
       tail=st.lists(st.integers(0, 3), min_size=1, max_size=2),
       n=st.integers(1, 4), dtype=st.sampled_from([np.float32, np.float64]),
       negative=st.booleans(), seed=st.integers(0, 2**16))
def test_matches_naive_loop(lead, tail, n, dtype, negative, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(lead + tail).astype(dtype)
    k = int(np.prod(tail))
    w = rng.standard_normal((n, k)).astype(dtype)
    b = rng.standard_normal(n).astype(dtype)
    axis = len(lead) - x.ndim if negative else len(lead)
    op = fc_op(axis=axis)
    testing.check_reference(op, [x, w, b], lambda *a: naive_fc(*a, axis=axis),
                            atol=1e-5, rtol=1e-5)


def test_axis_w_flattens_the_weights():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 6)).astype(np.float32)
    w = rng.standard_normal((2, 2, 3, 2)).astype(np.float32)  # N=4 rows of K=6 at axis_w=2
    b = rng.standard_normal(4).astype(np.float32)
    y = testing.check_reference(fc_op(axis_w=2), [x, w, b],
                                lambda *a: naive_fc(*a, axis_w=2))[0]
    assert y.shape == (2, 4)


def test_glow_fc_3d_second_axis():
    x = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    w = np.arange(20, dtype=np.float32).reshape(5, 4)
    b = np.arange(5, dtype=np.float32)
    want = np.array([[[14, 39, 64, 89, 114], [38, 127, 216, 305, 394],
                      [62, 215, 368, 521, 674]],
                     [[86, 303, 520, 737, 954], [110, 391, 672, 953, 1234],
                      [134, 479, 824, 1169, 1514]]], np.float32)
    testing.check_reference(fc_op(axis=2), [x, w, b], lambda *a: [want])


def test_empty_batch_and_empty_features():
    w = np.ones((3, 2), np.float32)
    b = np.array([1, 2, 3], np.float32)
    testing.check_reference(fc_op(), [np.zeros((0, 2), np.float32), w, b],
                            lambda *a: [np.zeros((0, 3), np.float32)])
    # K = 0: X·Wᵀ is all zeros, so Y is the bias on every row.
    testing.check_reference(fc_op(), [np.zeros((2, 0), np.float32), np.zeros((3, 0), np.float32),
                                      b], lambda *a: [np.tile(b, (2, 1))])


def msg(text):
    return re.escape(text)


def test_dimension_mismatch_messages():
    x = np.ones((2, 3), np.float32)
    testing.check_raises(fc_op(), [x, np.ones((4, 2), np.float32), np.ones(4, np.float32)],
                         ShapeError, msg("K == W.numel() / N. Dimension mismatch: X: [2, 3], "
                                         "W: [4, 2], b: [4], axis: 1, M: 2, N: 4, K: 3"))
    testing.check_raises(fc_op(), [x, np.ones((4, 3), np.float32), np.ones(5, np.float32)],
                         ShapeError, msg("N == b.dim32(0). Dimension mismatch: X: [2, 3], "
                                         "W: [4, 3], b: [5], axis: 1, M: 2, N: 4, K: 3"))
    testing.check_raises(fc_op(), [x, np.ones((4, 3), np.float32), np.ones((4, 1), np.float32)],
                         ShapeError, msg("b.dim() == 1. 2"))


def test_axis_out_of_range():
    x, w, b = np.ones((2, 3), np.float32), np.ones((4, 3), np.float32), np.ones(4, np.float32)
    testing.check_raises(fc_op(axis=2), [x, w, b], ShapeError, msg("axis_index < ndims. 2 vs 2"))
    testing.check_raises(fc_op(axis=-3), [x, w, b], ShapeError,
                         msg("axis_index >= -ndims. -3 vs -2"))
    testing.check_raises(fc_op(axis_w=5), [x, w, b], ShapeError, "argument 'axis_w'")


def test_types():
    x, w, b = np.ones((2, 3), np.float32), np.ones((4, 3), np.float32), np.ones(4, np.float32)
    testing.check_raises(fc_op(), [x.astype(np.int32), w, b], DTypeError,
                         "caller expects elements to be float while tensor contains int")
    testing.check_raises(fc_op(), [x, w.astype(np.float64), b], DTypeError,
                         "caller expects elements to be float while tensor contains double")
    testing.check_raises(fc_op(), [x, w, b.astype(np.float64)], DTypeError, "blob 'b'")


def test_schema():
    testing.check_raises(CreateOperator("FC", ["X", "W"], ["Y"]),
                         [np.ones((1, 1), np.float32)] * 2, SchemaError,
                         msg("Input size 2 not in range [min=3, max=3]."))
    testing.check_raises(CreateOperator("FC", ["X", "W", "b"], ["X"]),
                         [np.ones((1, 1), np.float32)] * 2 + [np.ones(1, np.float32)],
                         SchemaError, "in-place")


@settings(max_examples=20, deadline=None)
@given(m=st.integers(0, 3), k=st.integers(0, 3), n=st.integers(1, 3),
       three=st.booleans(), seed=st.integers(0, 2**16))
def test_gradient_op_matches_naive_loop(m, k, n, three, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((m, k)).astype(np.float32)
    w = rng.standard_normal((n, k)).astype(np.float32)
    dy = rng.standard_normal((m, n)).astype(np.float32)
    outs = ["dW", "db", "dX"][:3 if three else 2]
    op = CreateOperator("FCGradient", ["X", "W", "dY"], outs)
    testing.check_reference(op, [x, w, dy],
                            lambda *a: naive_fc_gradient(*a, with_dx=three), atol=1e-5)


def test_gradient_op_nd_and_errors():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 2)).astype(np.float64)
    w = rng.standard_normal((4, 6)).astype(np.float64)
    dy = rng.standard_normal((2, 4)).astype(np.float64)
    op = CreateOperator("FCGradient", ["X", "W", "dY"], ["dW", "db", "dX"])
    testing.check_reference(op, [x, w, dy], naive_fc_gradient, atol=1e-9)
    testing.check_raises(op, [x, w, dy[:, :3]], ShapeError, msg(
        "dY.numel() == M * N. Dimension mismatch: X: [2, 3, 2], W: [4, 6], dY: [2, 3], "
        "axis: 1, M: 2, N: 4, K: 6"))
    testing.check_raises(op, [x, w[:, :5], dy], ShapeError, msg("K * N == W.numel()"))
    testing.check_raises(CreateOperator("FCGradient", ["X", "W", "dY"], ["dW"]), [x, w, dy],
                         SchemaError, msg("Output size 1 not in range [min=2, max=3]."))


@pytest.mark.parametrize("shape,axis", [((3, 4), 1), ((2, 3, 2), 1), ((2, 3, 2), 2),
                                        ((2, 3, 2), -1)])
def test_numeric_gradient(shape, axis):
    rng = np.random.default_rng(3)
    x = rng.standard_normal(shape)
    k = int(np.prod(shape[axis:]))
    w, b = rng.standard_normal((3, k)), rng.standard_normal(3)
    testing.check_gradient(fc_op(axis=axis), [x, w, b], [0, 1, 2])


def test_gradient_ops_list():
    from caffe2lite.core import GradientRegistry

    op = CreateOperator("FC", ["X", "W", "b"], ["Y"], axis=2)
    ops, grads = GradientRegistry.GetBackwardPass([op], {"Y": "Y_grad"})
    want = CreateOperator("FCGradient", ["X", "W", "Y_grad"], ["W_grad", "b_grad", "X_grad"],
                          axis=2)
    want.is_gradient_op = True
    assert [o.SerializeToString() for o in ops] == [want.SerializeToString()]
    assert {str(k): str(v) for k, v in grads.items()} == {
        "X": "X_grad", "W": "W_grad", "b": "b_grad", "Y": "Y_grad"}


# -- shape and cost inference --------------------------------------------------------


def test_shape_inference_keeps_the_leading_dims():
    from caffe2lite.inference import infer_op
    from caffe2lite.schema.shapes import TensorShape

    f4 = np.dtype(np.float32)
    op = CreateOperator("FC", ["X", "W", "b"], ["Y"], axis=2, axis_w=1)
    x, w, b = (
        TensorShape((2, 3, 4, 5), f4),
        TensorShape((6, 20), f4),
        TensorShape((6,), f4),
    )
    assert infer_op(op, [x, w, b]) == [TensorShape((2, 3, 6), f4)]
    sym = TensorShape(("B", 4), f4)
    op1 = CreateOperator("FC", ["X", "W", "b"], ["Y"])
    assert infer_op(op1, [sym, TensorShape((6, 4), f4), b]) == [
        TensorShape(("B", 6), f4)
    ]
    assert infer_op(op1, [TensorShape(None, f4), w, b])[0].dims is None


@pytest.mark.parametrize("w, b, message, blob", [
    ((4, 2), (4,), "K == W.numel() / N. Dimension mismatch: X: [2, 3], W: [4, 2], b: [4], "
                   "axis: 1, M: 2, N: 4, K: 3", "W"),
    ((4, 3), (5,), "N == b.dim32(0). Dimension mismatch: X: [2, 3], W: [4, 3], b: [5], "
                   "axis: 1, M: 2, N: 4, K: 3", "b"),
    ((4, 3), (4, 1), "b.dim() == 1. 2", "b"),
])
def test_shape_inference_finds_the_kernels_mismatches(w, b, message, blob):
    # the same errors as the run (test_dimension_mismatch_messages), before running
    from caffe2lite.inference import infer_op
    from caffe2lite.schema.shapes import TensorShape

    f4 = np.dtype(np.float32)
    op = CreateOperator("FC", ["X", "W", "b"], ["Y"])
    shapes = [TensorShape((2, 3), f4), TensorShape(w, f4), TensorShape(b, f4)]
    with pytest.raises(ShapeError, match=re.escape(message)) as info:
        infer_op(op, shapes)
    assert info.value.blob == blob
    # a symbolic batch still has a known K to check
    shapes[0] = TensorShape(("B", 3), f4)
    with pytest.raises(ShapeError, match=re.escape(message.replace("[2, 3]", "[B, 3]")
                                                   .replace("M: 2", "M: B"))):
        infer_op(op, shapes)
    assert infer_op(op, shapes[:1] + [TensorShape((4, 3), f4), TensorShape((4,), f4)]) == [
        TensorShape(("B", 4), f4)]


def test_costs_are_caffe2s():
    from caffe2lite.inference import op_cost
    from caffe2lite.schema.shapes import Cost, TensorShape

    f8 = np.dtype(np.float64)
    x, w, b = TensorShape((4, 3), f8), TensorShape((5, 3), f8), TensorShape((5,), f8)
    op = CreateOperator("FC", ["X", "W", "b"], ["Y"])
    # four bytes an element whatever the type, as Caffe2 counted
    assert op_cost(op, [x, w, b]) == Cost(140, 128, 80, 80)
    grad = CreateOperator("FCGradient", ["X", "W", "dY"], ["dW", "db", "dX"])
    dy = TensorShape((4, 5), f8)
    assert op_cost(grad, [x, w, dy]) == Cost(140 + 120, 0, (15 + 5 + 12) * 4, 80)
    grad2 = CreateOperator("FCGradient", ["X", "W", "dY"], ["dW", "db"])
    assert op_cost(grad2, [x, w, dy]) == Cost(140, 0, 80, 80)


def test_gradient_shape_inference():
    from caffe2lite.inference import infer_op
    from caffe2lite.schema.shapes import TensorShape

    f4 = np.dtype(np.float32)
    x, w, dy = TensorShape((4, 3), f4), TensorShape((5, 3), f4), TensorShape((4, 5), f4)
    grad = CreateOperator("FCGradient", ["X", "W", "dY"], ["dW", "db", "dX"])
    assert infer_op(grad, [x, w, dy]) == [w, TensorShape((5,), f4), x]


def _outputs(op, inputs):
    ws = Workspace()
    for name, value in zip(op.input, inputs):
        ws.feed_blob(name, value)
    ws.run_operator_once(op)
    return [ws.fetch_blob(name) for name in op.output]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_common_case_equals_the_general_path_bit_for_bit(dtype):
    """2-D X and W at the default axes take a short path; the same data seen as
    3-D X flattened at axis 2 take the general one: the same bits come out."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((6, 5)).astype(dtype)
    w = rng.standard_normal((4, 5)).astype(dtype)
    b = rng.standard_normal(4).astype(dtype)
    y2 = _outputs(fc_op(), [x, w, b])[0]
    y3 = _outputs(fc_op(axis=2), [x.reshape(1, 6, 5), w, b])[0]
    assert y2.dtype == dtype and y2.shape == (6, 4)
    np.testing.assert_array_equal(y2, y3.reshape(6, 4))
    dy = rng.standard_normal((6, 4)).astype(dtype)
    grad = CreateOperator("FCGradient", ["X", "W", "dY"], ["dW", "db", "dX"])
    fast = _outputs(grad, [x, w, dy])
    general = _outputs(CreateOperator("FCGradient", ["X", "W", "dY"], ["dW", "db", "dX"],
                                      axis_w=-1), [x, w, dy])
    for a, c in zip(fast, general):
        assert a.dtype == dtype
        np.testing.assert_array_equal(a, c)


def test_gradient_with_one_output_column():
    """FC 64 -> 1 (a logit): dX is an outer product, computed element-wise."""
    rng = np.random.default_rng(6)
    x = rng.standard_normal((7, 3)).astype(np.float32)
    w = rng.standard_normal((1, 3)).astype(np.float32)
    dy = rng.standard_normal((7, 1)).astype(np.float32)
    op = CreateOperator("FCGradient", ["X", "W", "dY"], ["dW", "db", "dX"])
    testing.check_reference(op, [x, w, dy], naive_fc_gradient, atol=1e-5)
    dx = _outputs(op, [x, w, dy])[2]
    np.testing.assert_array_equal(dx, dy * w)


def test_short_path_leaves_mismatches_to_the_checks():
    """Inputs the short path does not take (a 2-D b, a wrong bias length, another
    type, a non-array) still get Caffe2's messages."""
    x, w = np.ones((2, 3), np.float32), np.ones((4, 3), np.float32)
    testing.check_raises(fc_op(), [x, w, np.ones((1, 4), np.float32)], ShapeError,
                         msg("b.dim() == 1. 2"))
    testing.check_raises(fc_op(), [x, w, np.ones(5, np.float32)], ShapeError,
                         msg("N == b.dim32(0). Dimension mismatch: X: [2, 3], W: [4, 3], "
                             "b: [5], axis: 1, M: 2, N: 4, K: 3"))
    testing.check_raises(fc_op(), [x, w.astype(np.float64), np.ones(4, np.float32)],
                         DTypeError, "caller expects elements to be float while tensor "
                         "contains double")
    grad = CreateOperator("FCGradient", ["X", "W", "dY"], ["dW", "db", "dX"])
    testing.check_raises(grad, [x, w, np.ones((2, 3), np.float32)], ShapeError,
                         msg("dY.numel() == M * N"))
