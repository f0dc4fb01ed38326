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


def naive_split(x, lengths, k, axis, scale=1):
    per = len(lengths) // k
    parts, offset = [], 0
    for i in range(k):
        size = sum(lengths[i * per:(i + 1) * per]) * scale
        index = [slice(None)] * x.ndim
        index[axis] = slice(offset, offset + size)
        parts.append(x[tuple(index)].copy())
        offset += size
    return parts


def test_example():
    run_example("SplitByLengths")


@settings(max_examples=30, deadline=None)
@given(lengths=st.lists(st.integers(0, 3), max_size=6), k=st.integers(1, 3),
       other=st.integers(1, 3), axis=st.sampled_from([0, 1, -1]))
def test_matches_naive(lengths, k, other, axis):
    lengths = lengths[:len(lengths) - len(lengths) % k]
    total = sum(lengths)
    shape = [total, other] if axis == 0 else [other, total]
    ax = 0 if axis == 0 else 1
    x = np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape)
    outs = [f"Y{i}" for i in range(k)]
    op = CreateOperator("SplitByLengths", ["X", "L"], outs, axis=axis)
    want = naive_split(x, lengths, k, ax)
    testing.check_reference(op, [x, np.array(lengths, np.int32)], lambda *a: want)
    shapes = infer_op(op, [shape_of(x), TensorShape((len(lengths),), np.int32)])
    assert all(s.dims[1 - ax] == other and s.dtype == np.float64 for s in shapes)


def test_default_order_and_scaling():
    x = np.arange(24, dtype=np.int32).reshape(2, 6, 2)
    op = CreateOperator("SplitByLengths", ["X", "L"], ["A", "B"])  # NCHW: axis 1
    testing.check_reference(op, [x, np.array([2, 4], np.int32)],
                            lambda *a: naive_split(x, [2, 4], 2, 1))
    op = CreateOperator("SplitByLengths", ["X", "L"], ["A", "B"], axis=1,
                        use_scaling_lengths=True)
    testing.check_reference(op, [x, np.array([1, 2], np.int32)],
                            lambda *a: naive_split(x, [1, 2], 2, 1, scale=2))
    op = CreateOperator("SplitByLengths", ["X", "L"], ["A"], order="NHWC")
    y = np.zeros((1, 2, 2, 3), np.float32)
    testing.check_reference(op, [y, np.array([3], np.int32)], lambda *a: [y])


def test_errors():
    x = np.zeros((6,), np.float32)
    op = CreateOperator("SplitByLengths", ["X", "L"], ["A", "B"], axis=0)
    testing.check_raises(op, [x, np.array([1, 2, 3], np.int32)], ShapeError,
                         re.escape("1 vs 0. len(Lengths) 3should be divisible by OutputSize() 2."))
    testing.check_raises(op, [x, np.array([1, 2], np.int32)], ShapeError,
                         re.escape("sum_lengths == input_channels. 3 vs 6. Input channels "
                                   "should be equal to split dimensions sum, 6 vs 3"))
    testing.check_raises(op, [x, np.array([7, -1], np.int32)], EnforceError, "non-negative")
    testing.check_raises(op, [x, np.array([3, 3], np.int64)], DTypeError,
                         "caller expects elements to be int while tensor contains long")
    scaled = CreateOperator("SplitByLengths", ["X", "L"], ["A", "B"], axis=0,
                            use_scaling_lengths=True)
    testing.check_raises(scaled, [x, np.array([2, 2], np.int32)], ShapeError,
                         "Input channels 6 should be divisible by 4")
    both = CreateOperator("SplitByLengths", ["X", "L"], ["A", "B"], axis=0, order="NCHW")
    testing.check_raises(both, [x, np.array([3, 3], np.int32)], EnforceError,
                         "You shouldn't specify both the dim to split")


def test_gradient():
    op = CreateOperator("SplitByLengths", ["X", "L"], ["A", "B"], axis=0)
    ops, _ = backward(op, ["A", "B"])
    assert ops == [("Concat", ["A_grad", "B_grad"], ["X_grad", "_X_grad_dims"])]
    ops, _ = GradientRegistry.GetBackwardPass([op], {"B": "B_grad"})
    assert [list(o.input) for o in ops] == [["B_grad"]]
    testing.check_gradient(op, [np.arange(6.0), np.array([2, 4], np.int32)], 0)
