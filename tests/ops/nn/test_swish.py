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



def sig(v):
    return 1 / (1 + math.exp(-v)) if v > -700 else 0.0


def test_examples():
    run_example("Swish")
    run_example("SwishGradient")


@settings(max_examples=25, deadline=None)
@given(shape=st.lists(st.integers(0, 4), max_size=3),
       dtype=st.sampled_from([np.float32, np.float64]), seed=st.integers(0, 2**16))
def test_matches_naive_loops(shape, dtype, seed):
    rng = np.random.default_rng(seed)
    x = np.asarray(rng.standard_normal(shape) * 4, dtype)
    want = elementwise(lambda v: v * sig(v), x)
    testing.check_reference(CreateOperator("Swish", ["X"], ["Y"]), [x], lambda x: [want],
                            rtol=1e-5, atol=1e-6)
    dy = np.asarray(rng.standard_normal(shape), dtype)
    want_dx = elementwise(lambda v, y, g: g * (y + sig(v) * (1 - y)), x, want, dy)
    testing.check_reference(CreateOperator("SwishGradient", ["X", "Y", "dY"], ["dX"]),
                            [x, want, dy], lambda *a: [want_dx], rtol=1e-5, atol=1e-6)


def test_extremes_without_warnings():
    x = np.array([-1000.0, 1000.0], np.float32)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        testing.check_reference(CreateOperator("Swish", ["X"], ["Y"]), [x],
                                lambda x: [np.array([-0.0, 1000.0], np.float32)])


def test_errors_and_in_place():
    testing.check_raises(CreateOperator("Swish", ["X"], ["Y"]), [np.ones(2, np.int32)],
                         DTypeError, "Unsupported type of tensor: int")
    op = CreateOperator("SwishGradient", ["X", "Y", "dY"], ["dX"])
    f = np.ones(2, np.float32)
    testing.check_raises(op, [f, np.ones(3, np.float32), f], ShapeError,
                         re.escape("Xin.numel() == Yin.numel(). 2 vs 3"))
    testing.check_raises(op, [f, f, np.ones(3, np.float32)], ShapeError,
                         re.escape("DYin.numel() == Yin.numel(). 3 vs 2"))
    testing.check_raises(op, [f, f, np.ones(2)], DTypeError, "while tensor contains double")
    ws = Workspace()
    for name in ("X", "Y", "dY"):
        ws.feed_blob(name, f)
    ws.run_operator_once(CreateOperator("SwishGradient", ["X", "Y", "dY"], ["dY"]))
    testing.check_raises(CreateOperator("SwishGradient", ["X", "Y", "dY"], ["X"]), [f, f, f],
                         SchemaError, "in-place")


def test_numeric_gradient():
    x = np.random.default_rng(0).standard_normal((3, 4)) * 3
    testing.check_gradient(CreateOperator("Swish", ["X"], ["Y"]), [x], 0)


def test_gradient_ops_list():
    ops, _grads = GradientRegistry.GetBackwardPass([CreateOperator("Swish", ["X"], ["Y"])],
                                                  {"Y": "Y_grad"})
    assert [(o.type, list(o.input), list(o.output)) for o in ops] == [
        ("SwishGradient", ["X", "Y", "Y_grad"], ["X_grad"])]
