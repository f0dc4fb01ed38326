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



def naive_mish(v):
    softplus = math.log1p(math.exp(v)) if v < 30 else v
    return v * math.tanh(softplus)


def test_examples():
    run_example("Mish")
    run_example("MishGradient")


@settings(max_examples=25, deadline=None)
@given(shape=st.lists(st.integers(0, 4), max_size=3),
       dtype=st.sampled_from([np.float32, np.float64]), seed=st.integers(0, 2**16))
def test_matches_naive_loops(shape, dtype, seed):
    rng = np.random.default_rng(seed)
    x = np.asarray(rng.standard_normal(shape) * 4, dtype)
    want = elementwise(naive_mish, x)
    testing.check_reference(CreateOperator("Mish", ["X"], ["Y"]), [x], lambda x: [want],
                            rtol=1e-5, atol=1e-6)
    dy = np.asarray(rng.standard_normal(shape), dtype)
    # Caffe2's own formula: dY * e^x * w / q^2 (fine for moderate x).
    def caffe2_formula(v, g):
        e = math.exp(v)
        w = math.exp(3 * v) + 4 * math.exp(2 * v) + e * (6 + 4 * v) + 4 * (1 + v)
        q = (e + 1) ** 2 + 1
        return g * e * w / (q * q)
    want_dx = elementwise(caffe2_formula, x, dy)
    testing.check_reference(CreateOperator("MishGradient", ["X", "Y", "dY"], ["dX"]),
                            [x, want, dy], lambda *a: [want_dx], rtol=1e-4, atol=1e-5)


def test_large_inputs_stay_finite():
    x = np.array([-200.0, 100.0, 1000.0], np.float32)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        testing.check_reference(CreateOperator("Mish", ["X"], ["Y"]), [x],
                                lambda x: [np.array([-0.0, 100.0, 1000.0], np.float32)])
    ws = Workspace()
    for name, value in (("X", x), ("Y", x), ("dY", np.ones(3, np.float32))):
        ws.feed_blob(name, value)
    ws.run_operator_once(CreateOperator("MishGradient", ["X", "Y", "dY"], ["dX"]))
    np.testing.assert_allclose(ws.fetch_blob("dX"), [0, 1, 1], atol=1e-6)


def test_errors():
    testing.check_raises(CreateOperator("Mish", ["X"], ["Y"]), [np.ones(2, np.int32)],
                         DTypeError, "Unsupported type of tensor: int")
    op = CreateOperator("MishGradient", ["X", "Y", "dY"], ["dX"])
    f = np.ones(2, np.float32)
    testing.check_raises(op, [np.ones(3, np.float32), f, f], ShapeError,
                         re.escape("Xin.numel() == Yin.numel(). 3 vs 2"))
    testing.check_raises(op, [f, f, np.ones(1, np.float32)], ShapeError,
                         re.escape("DYin.numel() == Yin.numel(). 1 vs 2"))
    testing.check_raises(CreateOperator("Mish", ["X"], ["X"]), [f], SchemaError, "in-place")


def test_numeric_gradient():
    x = np.random.default_rng(1).standard_normal((3, 4)) * 3
    testing.check_gradient(CreateOperator("Mish", ["X"], ["Y"]), [x], 0)


def test_gradient_ops_list():
    ops, _ = GradientRegistry.GetBackwardPass([CreateOperator("Mish", ["X"], ["Y"])],
                                              {"Y": "Y_grad"})
    assert [(o.type, list(o.input), list(o.output)) for o in ops] == [
        ("MishGradient", ["X", "Y", "Y_grad"], ["X_grad"])]
