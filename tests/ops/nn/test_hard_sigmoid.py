from __future__ import annotations

import re

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import DTypeError, ShapeError
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
    run_example("HardSigmoid")
    run_example("HardSigmoidGradient")


@settings(max_examples=25, deadline=None)
@given(shape=st.lists(st.integers(0, 4), max_size=3), alpha=st.floats(0.1, 1.0),
       beta=st.floats(-1.0, 1.0), dtype=st.sampled_from([np.float32, np.float64]),
       seed=st.integers(0, 2**16))
def test_matches_naive_loops(shape, alpha, beta, dtype, seed):
    rng = np.random.default_rng(seed)
    x = np.asarray(rng.standard_normal(shape) * 3, dtype)
    want = elementwise(lambda v: max(0.0, min(1.0, v * alpha + beta)), x)
    op = CreateOperator("HardSigmoid", ["X"], ["Y"], alpha=alpha, beta=beta)
    testing.check_reference(op, [x], lambda x: [want], rtol=1e-5, atol=1e-6)
    y = op_y = want
    dy = np.asarray(rng.standard_normal(shape), dtype)
    want_dx = elementwise(lambda v, g: g * alpha if 0 < v < 1 else 0.0, op_y, dy)
    testing.check_reference(CreateOperator("HardSigmoidGradient", ["Y", "dY"], ["dX"],
                                           alpha=alpha), [y, dy], lambda *a: [want_dx], rtol=1e-5)


def test_errors_and_in_place():
    testing.check_raises(CreateOperator("HardSigmoid", ["X"], ["Y"]), [np.ones(2, np.int32)],
                         DTypeError, "Unsupported type of tensor: int")
    testing.check_raises(CreateOperator("HardSigmoidGradient", ["Y", "dY"], ["dX"]),
                         [np.ones(2, np.float32), np.ones(3, np.float32)], ShapeError,
                         re.escape("Y.sizes() == dY.sizes()"))
    ws = Workspace()
    ws.feed_blob("X", np.array([0.0], np.float32))
    ws.run_operator_once(CreateOperator("HardSigmoid", ["X"], ["X"]))
    np.testing.assert_array_equal(ws.fetch_blob("X"), [0.5])


def test_numeric_gradient():
    x = np.array([[-3.0, -1.0, 0.3], [1.2, 1.9, 4.0]])
    testing.check_gradient(CreateOperator("HardSigmoid", ["X"], ["Y"], alpha=0.3, beta=0.4),
                           [x], 0)


def test_gradient_ops_list():
    op = CreateOperator("HardSigmoid", ["X"], ["Y"], alpha=0.3, beta=0.4)
    ops, _ = GradientRegistry.GetBackwardPass([op], {"Y": "Y_grad"})
    assert [(o.type, list(o.input), list(o.output)) for o in ops] == [
        ("HardSigmoidGradient", ["Y", "Y_grad"], ["X_grad"])]
    assert [a.name for a in ops[0].arg] == ["alpha", "beta"]
