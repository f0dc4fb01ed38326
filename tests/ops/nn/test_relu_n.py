from __future__ import annotations

import re

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import ArgumentError, DTypeError, ShapeError
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



def test_examples():
    run_example("ReluN")
    run_example("ReluNGradient")


@settings(max_examples=25, deadline=None)
@given(shape=st.lists(st.integers(0, 4), max_size=3), n=st.floats(0.5, 2.0),
       dtype=st.sampled_from([np.float32, np.float64]), seed=st.integers(0, 2**16))
def test_matches_naive_loops(shape, n, dtype, seed):
    rng = np.random.default_rng(seed)
    x = np.asarray(rng.uniform(-3, 3, shape), dtype)
    cap = float(np.float32(n))  # n travels as a float32 argument
    want = elementwise(lambda v: min(max(v, 0.0), cap), x)
    testing.check_reference(CreateOperator("ReluN", ["X"], ["Y"], n=n), [x], lambda x: [want])
    dy = np.asarray(rng.standard_normal(shape), dtype)
    want_dx = elementwise(lambda v, g: g if 0 < v < cap else 0.0, want, dy)
    testing.check_reference(CreateOperator("ReluNGradient", ["Y", "dY"], ["dX"], n=n),
                            [want, dy], lambda *a: [want_dx])


def test_default_n_in_place_and_errors():
    ws = Workspace()
    ws.feed_blob("X", np.array([-1.0, 3.0, 7.0], np.float32))
    ws.run_operator_once(CreateOperator("ReluN", ["X"], ["X"]))
    np.testing.assert_array_equal(ws.fetch_blob("X"), [0, 3, 6])
    testing.check_raises(CreateOperator("ReluN", ["X"], ["Y"], n=0.0),
                         [np.ones(2, np.float32)], ArgumentError, "n should be greater than 0")
    testing.check_raises(CreateOperator("ReluN", ["X"], ["Y"]), [np.ones(2, np.int32)],
                         DTypeError, "Unsupported type of tensor: int")
    testing.check_raises(CreateOperator("ReluNGradient", ["Y", "dY"], ["dX"]),
                         [np.ones(2, np.float32), np.ones(3, np.float32)], ShapeError,
                         re.escape("Y.sizes() == dY.sizes()"))


@settings(max_examples=5, deadline=None)
@given(n=st.floats(0.5, 2.0), seed=st.integers(0, 100))
def test_numeric_gradient(n, seed):
    x = np.random.default_rng(seed).uniform(-3, 3, (2, 4))
    x = away_from(x, [0.0, n])
    testing.check_gradient(CreateOperator("ReluN", ["X"], ["Y"], n=n), [x], 0)


def test_gradient_ops_list():
    op = CreateOperator("ReluN", ["X"], ["Y"], n=2.0)
    ops, _grads = GradientRegistry.GetBackwardPass([op], {"Y": "Y_grad"})
    assert [(o.type, list(o.input), list(o.output)) for o in ops] == [
        ("ReluNGradient", ["Y", "Y_grad"], ["X_grad"])]
    assert [a.name for a in ops[0].arg] == ["n"]
