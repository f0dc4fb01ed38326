from __future__ import annotations

import re

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import (
    DTypeError,
    ShapeError,
)
from caffe2lite.inference import infer_op
from caffe2lite.schema import registry
from caffe2lite.schema.shapes import TensorShape, shape_of


def run_example(op_type):
    ex = registry.lookup(op_type).example
    op = CreateOperator(op_type, list(ex.inputs), list(ex.outputs), **ex.args)
    got = testing.check_reference(op, list(ex.inputs.values()),
                                  lambda *a: list(ex.outputs.values()), atol=0, rtol=1e-6)
    shapes = infer_op(op, [shape_of(v) for v in ex.inputs.values()])
    for s, g in zip(shapes, got):
        assert s.dtype == g.dtype
        assert s.dims is None or all(isinstance(d, str) or d == e
                                     for d, e in zip(s.dims, g.shape))


def backward(op, outputs):
    ops, grads = GradientRegistry.GetBackwardPass([op], {o: o + "_grad" for o in outputs})
    return [(o.type, list(o.input), list(o.output)) for o in ops], grads


def naive_arg(x, axis, keepdims, largest):
    axis = x.ndim - 1 if axis == -1 else axis
    moved = np.moveaxis(x, axis, -1)
    out = np.zeros(moved.shape[:-1], np.int64)
    for index in np.ndindex(*moved.shape[:-1]):
        best = 0
        for k in range(1, moved.shape[-1]):
            a, b = moved[index + (k,)], moved[index + (best,)]
            if (a > b) if largest else (a < b):
                best = k
        out[index] = best
    return np.expand_dims(out, axis) if keepdims else out


def test_examples():
    run_example("ArgMax")
    run_example("ArgMin")


@settings(max_examples=40, deadline=None)
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3), data=st.data(),
       name=st.sampled_from(["ArgMax", "ArgMin"]), keepdims=st.booleans(),
       dtype=st.sampled_from([np.float32, np.float64, np.int32, np.int64]))
def test_matches_naive_scan(shape, data, name, keepdims, dtype):
    x = np.asarray(np.random.default_rng(sum(shape)).integers(0, 3, shape), dtype)
    if dtype in (np.float32, np.float64) and data.draw(st.booleans()):
        x.reshape(-1)[data.draw(st.integers(0, x.size - 1))] = np.nan
    axis = data.draw(st.sampled_from([-1] + list(range(len(shape)))))
    op = CreateOperator(name, ["X"], ["I"], axis=axis, keepdims=keepdims)
    want = naive_arg(x, axis, keepdims, name == "ArgMax")
    testing.check_reference(op, [x], lambda x: [want])
    assert infer_op(op, [shape_of(x)])[0] == TensorShape(want.shape, np.int64)


def test_empty_axis_and_errors():
    op = CreateOperator("ArgMax", ["X"], ["I"], axis=1)
    testing.check_reference(op, [np.zeros((2, 0), np.float32)],
                            lambda x: [np.zeros((2, 1), np.int64)])
    x = np.zeros((2, 3), np.float32)
    testing.check_raises(CreateOperator("ArgMax", ["X"], ["I"], axis=2), [x], ShapeError,
                         re.escape("axis_ < ndim. 2 vs 2"))
    testing.check_raises(CreateOperator("ArgMin", ["X"], ["I"], axis=-2), [x], ShapeError,
                         re.escape("axis_ >= 0. -2 vs 0"))
    testing.check_raises(CreateOperator("ArgMin", ["X"], ["I"]), [np.array(1.0)], ShapeError,
                         re.escape("axis_ >= 0. -1 vs 0"))
    testing.check_raises(CreateOperator("ArgMax", ["X"], ["I"]), [x.astype(np.bool_)],
                         DTypeError, "Unsupported type of tensor: bool")


def test_no_gradient():
    for name in ("ArgMax", "ArgMin"):
        assert registry.GRADIENTS[name].kind == registry.SHOULD_NOT_DO
