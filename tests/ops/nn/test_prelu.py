from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import (
    DTypeError,
    EnforceError,
    ShapeError,
)
from caffe2lite.inference import infer_op
from caffe2lite.schema import registry
from caffe2lite.schema.shapes import shape_of
from caffe2lite.workspace import Workspace


def run_example(op_type):
    ex = registry.lookup(op_type).example
    op = CreateOperator(op_type, list(ex.inputs), list(ex.outputs), **ex.args)
    got = testing.check_reference(op, list(ex.inputs.values()),
                                  lambda *a: list(ex.outputs.values()), atol=0, rtol=1e-6)
    shapes = infer_op(op, [shape_of(v) for v in ex.inputs.values()])
    assert [(s.dims, s.dtype) for s in shapes] == [(g.shape, g.dtype) for g in got]


def elementwise(fn, *arrays):
    """Apply a scalar function element by element (the naive reference)."""
    flat = [a.reshape(-1).tolist() for a in arrays]
    out = [fn(*vals) for vals in zip(*flat)]
    return np.array(out, dtype=arrays[0].dtype).reshape(arrays[0].shape)


def away_from(x, points, gap=0.05):
    """Move values off the kinks so central differences stay valid."""
    for p in points:
        near = np.abs(x - p) < gap
        x = np.where(near, p + gap * np.where(x >= p, 1, -1) * 2, x)
    return x



def channel_of(index, shape, order):
    return index[1] if order == "NCHW" else index[-1]


def naive_prelu(x, w, order):
    y = x.copy()
    for index in np.ndindex(*x.shape):
        if x[index] <= 0:
            c = 0 if w.size == 1 else channel_of(index, x.shape, order)
            y[index] = x[index] * w.reshape(-1)[c]
    return y


def naive_prelu_gradient(dy, x, w, order):
    dx = np.zeros_like(x)
    dw = np.zeros(w.size, x.dtype)
    for index in np.ndindex(*x.shape):
        c = 0 if w.size == 1 else channel_of(index, x.shape, order)
        if x[index] > 0:
            dx[index] = dy[index]
        else:
            dx[index] = dy[index] * w.reshape(-1)[c]
            dw[c] += dy[index] * x[index]
    return dx, dw.reshape(w.shape)


def test_examples():
    run_example("PRelu")
    run_example("PReluGradient")


@settings(max_examples=25, deadline=None)
@given(shape=st.lists(st.integers(1, 3), min_size=2, max_size=4), shared=st.booleans(),
       order=st.sampled_from(["NCHW", "NHWC"]), dtype=st.sampled_from([np.float32, np.float64]),
       seed=st.integers(0, 2**16))
def test_matches_naive_loops(shape, shared, order, dtype, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(dtype)
    c = 1 if shared else (shape[1] if order == "NCHW" else shape[-1])
    w = rng.standard_normal(c).astype(dtype)
    y = naive_prelu(x, w, order)
    testing.check_reference(CreateOperator("PRelu", ["X", "W"], ["Y"], order=order), [x, w],
                            lambda *a: [y], rtol=1e-6)
    dy = rng.standard_normal(shape).astype(dtype)
    op = CreateOperator("PReluGradient", ["Y", "dY", "X", "W"], ["dX", "dW"], order=order)
    testing.check_reference(op, [y, dy, x, w],
                            lambda *a: list(naive_prelu_gradient(dy, x, w, order)), rtol=1e-5)


def test_caffe2_case_alpha_argument_is_ignored_and_in_place():
    # Caffe2's test passes an unused ``alpha`` and runs in place.
    rng = np.random.default_rng(20)
    x = rng.standard_normal((2, 3, 2, 2)).astype(np.float32)
    w = rng.standard_normal(3).astype(np.float32)
    ws = Workspace()
    ws.feed_blob("X", x)
    ws.feed_blob("W", w)
    ws.run_operator_once(CreateOperator("PRelu", ["X", "W"], ["X"], alpha=0.5, order="NCHW"))
    np.testing.assert_allclose(ws.fetch_blob("X"), naive_prelu(x, w, "NCHW"), rtol=1e-6)


@settings(max_examples=6, deadline=None)
@given(shared=st.booleans(), order=st.sampled_from(["NCHW", "NHWC"]), seed=st.integers(0, 100))
def test_numeric_gradient(shared, order, seed):
    rng = np.random.default_rng(seed)
    x = away_from(rng.standard_normal((2, 3, 2)), [0.0])
    w = rng.standard_normal(1 if shared else (3 if order == "NCHW" else 2))
    testing.check_gradient(CreateOperator("PRelu", ["X", "W"], ["Y"], order=order), [x, w],
                           [0, 1])


def test_errors():
    f = np.ones((2, 3), np.float32)
    op = CreateOperator("PRelu", ["X", "W"], ["Y"])
    testing.check_raises(op, [f, np.ones(2, np.float32)], ShapeError,
                         re.escape("C == W.numel(). 3 vs 2"))
    testing.check_raises(op, [np.ones(3, np.float32), np.ones(3, np.float32)], ShapeError,
                         re.escape("Dimension out of range"))
    testing.check_raises(op, [f, np.ones(3)], DTypeError, "while tensor contains double")
    testing.check_raises(op, [f.astype(np.int32), np.ones(3, np.int32)], DTypeError,
                         "Unsupported type of tensor: int")
    testing.check_raises(CreateOperator("PRelu", ["X", "W"], ["Y"], order="NCWH"),
                         [f, np.ones(3, np.float32)], Exception, "storage order")
    ws = Workspace()
    for name, value in (("X", f), ("dY", f), ("W", np.ones(3, np.float32))):
        ws.feed_blob(name, value)
    grad = CreateOperator("PReluGradient", ["X", "dY", "X", "W"], ["dX", "dW"])
    with pytest.raises(EnforceError, match="Cannot backpropagate through an in-place PReLU"):
        ws.run_operator_once(grad)
    assert not ws.has_blob("dX")
    grad = CreateOperator("PReluGradient", ["Y", "dY", "X", "W"], ["dX", "dW"])
    testing.check_raises(grad, [f, np.ones((3, 2), np.float32), f, np.ones(3, np.float32)],
                         ShapeError, re.escape("Y.sizes() == dY.sizes()"))


def test_one_dimensional_nhwc():
    x = np.array([-1.0, 2.0, -3.0], np.float32)
    w = np.array([0.1, 0.2, 0.3], np.float32)
    testing.check_reference(CreateOperator("PRelu", ["X", "W"], ["Y"], order="NHWC"), [x, w],
                            lambda *a: [np.array([-0.1, 2.0, -0.9], np.float32)])


def test_gradient_ops_list():
    op = CreateOperator("PRelu", ["X", "W"], ["Y"], order="NHWC")
    ops, grads = GradientRegistry.GetBackwardPass([op], {"Y": "Y_grad"})
    assert [(o.type, list(o.input), list(o.output)) for o in ops] == [
        ("PReluGradient", ["Y", "Y_grad", "X", "W"], ["X_grad", "W_grad"])]
    assert [a.name for a in ops[0].arg] == ["order"]
    assert str(grads["W"]) == "W_grad"
