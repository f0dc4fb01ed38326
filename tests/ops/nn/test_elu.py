from __future__ import annotations

import math
import re

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import DTypeError, SchemaError, ShapeError
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



def naive_elu(x, alpha):
    return elementwise(lambda v: alpha * (math.exp(v) - 1) if v < 0 else v, x)


def test_examples():
    run_example("Elu")
    run_example("EluGradient")


@settings(max_examples=25, deadline=None)
@given(shape=st.lists(st.integers(0, 4), max_size=3), alpha=st.floats(0.1, 2.0),
       dtype=st.sampled_from([np.float32, np.float64]), seed=st.integers(0, 2**16))
def test_matches_naive_loops(shape, alpha, dtype, seed):
    rng = np.random.default_rng(seed)
    x = np.asarray(rng.standard_normal(shape) * 3, dtype)
    testing.check_reference(CreateOperator("Elu", ["X"], ["Y"], alpha=alpha), [x],
                            lambda x: [naive_elu(x, alpha)], rtol=1e-5)
    y = naive_elu(x, alpha)
    dy = np.asarray(rng.standard_normal(shape), dtype)
    want = elementwise(lambda v, g: g * (v + alpha) if v < 0 else g, y, dy)
    testing.check_reference(CreateOperator("EluGradient", ["Y", "dY"], ["dX"], alpha=alpha),
                            [y, dy], lambda *a: [want], rtol=1e-5)


def test_large_negative_and_in_place():
    ws = Workspace()
    ws.feed_blob("X", np.array([-1000.0, -1.0, 0.0, 5.0], np.float32))
    ws.run_operator_once(CreateOperator("Elu", ["X"], ["X"], alpha=1.1))
    np.testing.assert_allclose(ws.fetch_blob("X"), [-1.1, 1.1 * (math.exp(-1) - 1), 0, 5],
                               rtol=1e-6)
    testing.check_raises(CreateOperator("Elu", ["X"], ["Y"]), [np.ones(2, np.int64)],
                         DTypeError, "Unsupported type of tensor: long")


def test_gradient_errors():
    op = CreateOperator("EluGradient", ["Y", "dY"], ["dX"])
    testing.check_raises(op, [np.ones(2, np.float32), np.ones((2, 1), np.float32)],
                         ShapeError, re.escape("Y.sizes() == dY.sizes()"))
    testing.check_raises(op, [np.ones(2, np.float64), np.ones(2, np.float32)], DTypeError,
                         "caller expects elements to be double while tensor contains float")
    testing.check_raises(CreateOperator("EluGradient", ["Y", "dY"], ["Y"]),
                         [np.ones(2, np.float32)] * 2, SchemaError, "in-place")


@settings(max_examples=5, deadline=None)
@given(alpha=st.floats(0.1, 2.0), seed=st.integers(0, 100))
def test_numeric_gradient(alpha, seed):
    x = away_from(np.random.default_rng(seed).standard_normal((2, 3)), [0.0])
    testing.check_gradient(CreateOperator("Elu", ["X"], ["Y"], alpha=alpha), [x], 0)


def test_gradient_ops_list():
    op = CreateOperator("Elu", ["X"], ["Y"], alpha=0.5)
    ops, grads = GradientRegistry.GetBackwardPass([op], {"Y": "Y_grad"})
    assert [(o.type, list(o.input), list(o.output)) for o in ops] == [
        ("EluGradient", ["Y", "Y_grad"], ["X_grad"])]
    assert [a.name for a in ops[0].arg] == ["alpha"]
    assert str(grads["X"]) == "X_grad"
