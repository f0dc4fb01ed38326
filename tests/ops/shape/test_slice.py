from __future__ import annotations

import re

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import (
    ArgumentError,
    DTypeError,
    SchemaError,
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


def naive_slice(x, starts, ends):
    """Caffe2's index rules, one dimension at a time, by a loop over positions."""
    keep = []
    for i, size in enumerate(x.shape):
        if i >= len(starts) or size == 0:
            keep.append(list(range(size)))
            continue
        s, e = starts[i], ends[i]
        s = s + size + 1 if s < 0 else s
        e = e + size + 1 if e < 0 else e
        keep.append([j for j in range(size) if min(s, size) <= j < min(e, size)])
    out = np.empty([len(k) for k in keep], x.dtype)
    for index in np.ndindex(*out.shape):
        out[index] = x[tuple(k[j] for k, j in zip(keep, index))]
    return out


def test_examples():
    run_example("Slice")
    run_example("SliceGradient")


@settings(max_examples=40, deadline=None)
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3), data=st.data(),
       as_inputs=st.booleans(), index_type=st.sampled_from([np.int32, np.int64]))
def test_matches_naive(shape, data, as_inputs, index_type):
    x = np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape)
    n = data.draw(st.integers(1, len(shape)))
    dim = data.draw(st.integers(0, n - 1))
    starts, ends = [0] * n, [-1] * n
    size = shape[dim]
    starts[dim] = data.draw(st.integers(-size - 1, size))
    s = starts[dim] + size + 1 if starts[dim] < 0 else starts[dim]
    low = min(s, size)
    end = data.draw(st.integers(low, size + 2))
    ends[dim] = end if data.draw(st.booleans()) or end > size else end - size - 1
    want = naive_slice(x, starts, ends)
    if as_inputs:
        op = CreateOperator("Slice", ["X", "S", "E"], ["Y"])
        inputs = [x, np.array(starts, index_type), np.array(ends, index_type)]
        grad = CreateOperator("SliceGradient", ["X", "S", "E", "dY"], ["dX"])
    else:
        op = CreateOperator("Slice", ["X"], ["Y"], starts=starts, ends=ends)
        inputs = [x]
        grad = CreateOperator("SliceGradient", ["X", "dY"], ["dX"], starts=starts, ends=ends)
    testing.check_reference(op, inputs, lambda *a: [want])
    shapes = infer_op(op, [shape_of(v) for v in inputs])
    if not as_inputs:
        assert shapes[0] == TensorShape(want.shape, np.float64)
    dy = np.ones(want.shape)
    dx = np.zeros(x.shape)
    flat = naive_slice(np.arange(x.size).reshape(x.shape), starts, ends).reshape(-1)
    dx.reshape(-1)[flat] = 1
    testing.check_reference(grad, inputs + [dy], lambda *a: [dx])


def test_caffe2_cases_and_empty():
    x = np.array([[1, 2, 3, 4], [5, 6, 7, 8]], np.int64)
    op = CreateOperator("Slice", ["X"], ["Y"], starts=[0, 1], ends=[-1, 3])
    testing.check_reference(op, [x], lambda x: [x[:, 1:3]])
    op = CreateOperator("Slice", ["X"], ["Y"], starts=[1], ends=[2])
    testing.check_reference(op, [x], lambda x: [x[1:2]])
    empty = np.zeros((0, 3), np.float32)
    op = CreateOperator("Slice", ["X"], ["Y"], starts=[0, 1], ends=[-1, 2])
    testing.check_reference(op, [empty], lambda x: [np.zeros((0, 1), np.float32)])
    words = np.array([b"a", b"b", b"c"], dtype=object)
    op = CreateOperator("Slice", ["X"], ["Y"], starts=[1], ends=[-1])
    testing.check_reference(op, [words], lambda x: [x[1:]])


def test_errors():
    x = np.zeros((2, 4), np.float32)
    cases = [
        ({"starts": [0, 1], "ends": [1, 3]}, ShapeError, "Currently only possible to slice in 1"),
        ({"starts": [0, 0, 0], "ends": [1, 1, 1]}, ShapeError,
         re.escape("data.dim() >= starts.numel(). 2 vs 3")),
        ({"starts": [0, 3], "ends": [-1, 1]}, ShapeError, re.escape("end >= start. 1 vs 3")),
        ({"starts": [0, -7], "ends": [-1, 2]}, ShapeError, re.escape("start >= 0. -2 vs 0")),
        ({"starts": [0], "ends": [1, 2]}, ArgumentError,
         re.escape("starts_.size() == ends_.size(). 1 vs 2")),
        ({"starts": [0]}, ArgumentError, re.escape('HasArgument("ends")')),
        ({}, ArgumentError, re.escape('HasArgument("starts")')),
    ]
    for args, error, message in cases:
        testing.check_raises(CreateOperator("Slice", ["X"], ["Y"], **args), [x], error, message)
    op = CreateOperator("Slice", ["X", "S", "E"], ["Y"])
    testing.check_raises(op, [x, np.array([0.0]), np.array([1.0])], DTypeError,
                         "Unsupported type of tensor: double")
    testing.check_raises(op, [x, np.array([[0]], np.int32), np.array([[1]], np.int32)],
                         ShapeError, re.escape("starts.dim() == 1. 2 vs 1"))
    testing.check_raises(op, [x, np.array([0], np.int32), np.array([1], np.int64)],
                         DTypeError, "Unsupported type of tensor: long")
    testing.check_raises(CreateOperator("Slice", ["X", "S"], ["Y"]),
                         [x, np.array([0], np.int32)], ShapeError, "both starts and ends")
    grad = CreateOperator("SliceGradient", ["X", "dY"], ["dX"], starts=[0], ends=[1])
    testing.check_raises(grad, [x, np.zeros((2, 4), np.float32)], ShapeError, "dY.sizes()")
    testing.check_raises(CreateOperator("SliceGradient", ["X", "S", "dY"], ["dX"]),
                         [x, x, x], SchemaError, "not in allowed input sizes")


def test_gradient_ops_and_numeric():
    op = CreateOperator("Slice", ["X"], ["Y"], starts=[1, 0], ends=[3, -1])
    assert backward(op, ["Y"])[0] == [("SliceGradient", ["X", "Y_grad"], ["X_grad"])]
    testing.check_gradient(op, [np.arange(12.0).reshape(4, 3)], 0)
    op = CreateOperator("Slice", ["X", "S", "E"], ["Y"])
    assert backward(op, ["Y"])[0] == [("SliceGradient", ["X", "S", "E", "Y_grad"], ["X_grad"])]
    testing.check_gradient(op, [np.arange(12.0).reshape(4, 3), np.array([0, 1], np.int32),
                                np.array([-1, 2], np.int32)], 0)
