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



def phi(v):
    return 0.5 * (1 + math.erf(v / math.sqrt(2)))


def naive_gelu(x, fast):
    if fast:
        k = math.sqrt(2 / math.pi)
        return elementwise(lambda v: 0.5 * v * (1 + math.tanh(k * (v + 0.044715 * v ** 3))), x)
    return elementwise(lambda v: v * phi(v), x)


def test_examples():
    run_example("Gelu")
    run_example("GeluGradient")


def test_normal_cdf_matches_math_erf():
    from caffe2lite.ops.nn.gelu import normal_cdf

    x = np.linspace(-12, 12, 4801)
    want = np.array([0.5 * math.erfc(-v / math.sqrt(2)) for v in x])
    np.testing.assert_allclose(normal_cdf(x), want, rtol=1e-13, atol=0)


@settings(max_examples=25, deadline=None)
@given(shape=st.lists(st.integers(0, 4), max_size=3), fast=st.booleans(),
       dtype=st.sampled_from([np.float32, np.float64]), seed=st.integers(0, 2**16))
def test_matches_naive_loops(shape, fast, dtype, seed):
    rng = np.random.default_rng(seed)
    x = np.asarray(rng.standard_normal(shape) * 3, dtype)
    op = CreateOperator("Gelu", ["X"], ["Y"], fast_gelu=fast)
    testing.check_reference(op, [x], lambda x: [naive_gelu(x, fast)], rtol=1e-5, atol=1e-6)
    # Caffe2's test: the tanh form is within 1e-3 of the exact one.
    testing.check_reference(op, [x], lambda x: [naive_gelu(x, False)], rtol=1e-3, atol=1e-3)


@settings(max_examples=10, deadline=None)
@given(fast=st.booleans(), seed=st.integers(0, 100))
def test_numeric_gradient(fast, seed):
    x = np.random.default_rng(seed).standard_normal((3, 4)) * 2
    testing.check_gradient(CreateOperator("Gelu", ["X"], ["Y"], fast_gelu=fast), [x], 0)


def test_gradient_matches_naive_derivative():
    x = np.array([-7.0, -2.0, -0.5, 0.0, 0.5, 2.0, 7.0])
    dy = np.array([1.0, 2.0, -1.0, 0.5, 3.0, -2.0, 1.0])
    want = elementwise(lambda v, g: g * (phi(v) + v * math.exp(-v * v / 2) / math.sqrt(2 * math.pi)),
                       x, dy)
    testing.check_reference(CreateOperator("GeluGradient", ["dY", "X"], ["dX"]), [dy, x],
                            lambda *a: [want], rtol=1e-12, atol=1e-15)


def test_empty_and_errors():
    op = CreateOperator("Gelu", ["X"], ["Y"])
    testing.check_reference(op, [np.zeros((0, 3), np.float32)],
                            lambda x: [np.zeros((0, 3), np.float32)])
    testing.check_raises(op, [np.ones(2, np.int32)], DTypeError, "Unsupported type of tensor: int")
    testing.check_raises(CreateOperator("Gelu", ["X"], ["X"]), [np.ones(2, np.float32)],
                         SchemaError, "in-place")
    testing.check_raises(CreateOperator("GeluGradient", ["dY", "X"], ["dX"]),
                         [np.ones(2, np.float32), np.ones(3, np.float32)], ShapeError,
                         re.escape("dY.sizes() == X.sizes()"))


def test_gradient_ops_list():
    op = CreateOperator("Gelu", ["X"], ["Y"], fast_gelu=True)
    ops, grads = GradientRegistry.GetBackwardPass([op], {"Y": "Y_grad"})
    assert [(o.type, list(o.input), list(o.output)) for o in ops] == [
        ("GeluGradient", ["Y_grad", "X"], ["X_grad"])]
    assert [a.name for a in ops[0].arg] == ["fast_gelu"]
    assert str(grads["X"]) == "X_grad"
