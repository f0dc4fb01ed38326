from __future__ import annotations

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


def naive_leaky_relu(x, alpha):
    out = [v if v >= 0 else v * alpha for v in x.reshape(-1).tolist()]
    return np.array(out, dtype=x.dtype).reshape(x.shape)


def naive_gradient(y, dy, alpha):
    out = [g if v >= 0 else g * alpha for v, g in zip(y.reshape(-1).tolist(), dy.reshape(-1).tolist())]
    return np.array(out, dtype=y.dtype).reshape(y.shape)


def run_example(op_type):
    ex = registry.lookup(op_type).example
    op = CreateOperator(op_type, list(ex.inputs), list(ex.outputs), **ex.args)
    got = testing.check_reference(op, list(ex.inputs.values()),
                                  lambda *a: list(ex.outputs.values()), atol=0, rtol=1e-6)
    shapes = infer_op(op, [shape_of(v) for v in ex.inputs.values()])
    assert [(s.dims, s.dtype) for s in shapes] == [(g.shape, g.dtype) for g in got]


def test_examples():
    run_example("LeakyRelu")
    run_example("LeakyReluGradient")


@settings(max_examples=25, deadline=None)
@given(shape=st.lists(st.integers(0, 4), max_size=3), alpha=st.floats(0.1, 2.0),
       dtype=st.sampled_from([np.float32, np.float64]), seed=st.integers(0, 2**16))
def test_matches_naive_loops(shape, alpha, dtype, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(dtype)
    op = CreateOperator("LeakyRelu", ["X"], ["Y"], alpha=alpha)
    testing.check_reference(op, [x], lambda x: [naive_leaky_relu(x, alpha)], rtol=1e-6)
    y = naive_leaky_relu(x, alpha)
    dy = rng.standard_normal(shape).astype(dtype)
    op = CreateOperator("LeakyReluGradient", ["Y", "dY"], ["dX"], alpha=alpha)
    testing.check_reference(op, [y, dy], lambda y, dy: [naive_gradient(y, dy, alpha)], rtol=1e-6)


def test_default_alpha_and_in_place():
    ws = Workspace()
    ws.feed_blob("X", np.array([-1.0, 0.0, 2.0], np.float32))
    ws.run_operator_once(CreateOperator("LeakyRelu", ["X"], ["X"]))
    np.testing.assert_allclose(ws.fetch_blob("X"), [-0.01, 0, 2], rtol=1e-6)
    testing.check_raises(CreateOperator("LeakyReluGradient", ["Y", "dY"], ["Y"]),
                         [np.ones(2, np.float32)] * 2, SchemaError, "in-place")


def test_gradient_pairs_elements_by_position():
    # Caffe2 checked only the element counts; dX takes Y's shape.
    op = CreateOperator("LeakyReluGradient", ["Y", "dY"], ["dX"], alpha=0.5)
    y = np.array([[-1.0, 2.0], [3.0, -4.0]], np.float32)
    dy = np.array([1.0, 1.0, 1.0, 1.0], np.float32)
    testing.check_reference(op, [y, dy], lambda y, dy: [np.array([[0.5, 1], [1, 0.5]], np.float32)])


def test_errors():
    testing.check_raises(CreateOperator("LeakyRelu", ["X"], ["Y"]), [np.ones(2, np.int32)],
                         DTypeError, "Unsupported type of tensor: int")
    op = CreateOperator("LeakyReluGradient", ["Y", "dY"], ["dX"])
    testing.check_raises(op, [np.ones(2, np.float32), np.ones(3, np.float32)], ShapeError,
                         re.escape("Y.numel() == dY.numel(). 2 vs 3"))
    testing.check_raises(op, [np.ones(2, np.float32), np.ones(2, np.float64)], DTypeError,
                         "caller expects elements to be float while tensor contains double")


def test_numeric_gradient():
    x = np.array([[-1.3, 0.4, 2.0], [0.7, -0.2, -3.0]])
    testing.check_gradient(CreateOperator("LeakyRelu", ["X"], ["Y"], alpha=0.3), [x], 0)


def test_gradient_ops_list():
    op = CreateOperator("LeakyRelu", ["X"], ["Y"], alpha=0.3)
    ops, grads = GradientRegistry.GetBackwardPass([op], {"Y": "Y_grad"})
    assert [(o.type, list(o.input), list(o.output)) for o in ops] == [
        ("LeakyReluGradient", ["Y", "Y_grad"], ["X_grad"])]
    assert [a.name for a in ops[0].arg] == ["alpha"] and ops[0].is_gradient_op
    assert str(grads["X"]) == "X_grad"
