from __future__ import annotations

import re

import numpy as np
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


def naive_range(start, stop, step):
    out = []
    value = start
    if step > 0:
        while value < stop:
            out.append(value)
            value += step
    else:
        while value > stop:
            out.append(value)
            value += step
    return out


def test_example():
    run_example("Range")


@settings(max_examples=40, deadline=None)
@given(start=st.integers(-20, 20), stop=st.integers(-20, 20),
       step=st.integers(1, 5), dtype=st.sampled_from([np.int32, np.int64, np.float32,
                                                       np.float64]))
def test_positive_steps_match_naive(start, stop, step, dtype):
    want = np.array(naive_range(start, stop, step), dtype)
    op = CreateOperator("Range", ["a", "b", "c"], ["Y"])
    testing.check_reference(op, [np.array(v, dtype) for v in (start, stop, step)],
                            lambda *a: [want])
    if start == 0 and step == 1:
        testing.check_reference(CreateOperator("Range", ["b"], ["Y"]), [np.array([stop], dtype)],
                                lambda *a: [want])
    if step == 1:
        testing.check_reference(CreateOperator("Range", ["a", "b"], ["Y"]),
                                [np.array(start, dtype), np.array(stop, dtype)],
                                lambda *a: [want])


def test_negative_steps():
    op = CreateOperator("Range", ["a", "b", "c"], ["Y"])
    testing.check_reference(op, [np.array(v, np.float64) for v in (10, 0, -3)],
                            lambda *a: [np.array([10.0, 7.0, 4.0, 1.0])])
    # Caffe2's integer length rounds toward zero first: 10, 7, 4 (1 is dropped).
    testing.check_reference(op, [np.array(v, np.int32) for v in (10, 0, -3)],
                            lambda *a: [np.array([10, 7, 4], np.int32)])
    testing.check_reference(op, [np.array(v, np.int64) for v in (10, 1, -3)],
                            lambda *a: [np.array([10, 7, 4], np.int64)])
    testing.check_reference(op, [np.array(v, np.int32) for v in (0, 5, -1)],
                            lambda *a: [np.zeros(0, np.int32)])


def test_float_steps_and_shape_function():
    op = CreateOperator("Range", ["a", "b", "c"], ["Y"])
    got = testing.check_reference(op, [np.array(v, np.float32) for v in (0, 1, 0.25)],
                                  lambda *a: [np.array([0, 0.25, 0.5, 0.75], np.float32)])
    shape = infer_op(op, [shape_of(np.array(0, np.float32))] * 3)[0]
    assert shape.dtype == np.float32 and len(shape.dims) == 1 == got[0].ndim


def test_errors():
    op = CreateOperator("Range", ["a", "b", "c"], ["Y"])
    testing.check_raises(op, [np.array(v, np.int32) for v in (0, 5, 0)], ShapeError,
                         re.escape("step != 0. 0 vs 0. Step size cannot be 0."))
    testing.check_raises(op, [np.array([0, 1], np.int32), np.array(5, np.int32),
                              np.array(1, np.int32)], ShapeError,
                         re.escape("Input(0).numel() == 1. 2 vs 1. All inputs must be "
                                   "scalar/1D tensor."))
    testing.check_raises(op, [np.array(0, np.int32), np.array(5, np.int64),
                              np.array(1, np.int32)], DTypeError,
                         "caller expects elements to be int while tensor contains long")
    testing.check_raises(CreateOperator("Range", ["b"], ["Y"]), [np.array(3, np.int8)],
                         DTypeError, "Unsupported type of tensor: signed char")
    testing.check_raises(CreateOperator("Range", ["b"], ["Y"]), [np.array(2**40, np.int64)],
                         EnforceError, "too long")
    testing.check_raises(CreateOperator("Range", ["b"], ["Y"]), [np.array(np.inf)],
                         EnforceError, "no finite length")


def test_no_gradient():
    assert registry.GRADIENTS["Range"].kind == registry.NO_GRADIENT
