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

OPS = [("ReduceFrontSum", True, False), ("ReduceBackSum", False, False),
       ("ReduceFrontMean", True, True), ("ReduceBackMean", False, True)]


def naive(x, n, front, mean, lengths=None):
    """Loop over the kept positions and the reduced ones."""
    shape = list(x.shape)
    red = shape[:n] if front else shape[len(shape) - n:]
    kept = shape[n:] if front else shape[:len(shape) - n]
    out = np.zeros(kept, x.dtype)
    for k_index, k in enumerate(np.ndindex(*kept)):
        total, count = 0, 0
        for r_index, r in enumerate(np.ndindex(*red)):
            if lengths is not None and r_index >= lengths[k_index]:
                continue
            total += x[(r + k) if front else (k + r)].item()
            count += 1
        out[k] = total / count if mean else total
    return out


def test_examples():
    for name, _, _ in OPS:
        run_example(name)
        run_example(name + "Gradient")


@settings(max_examples=40, deadline=None)
@given(shape=st.lists(st.integers(1, 3), min_size=1, max_size=3), data=st.data(),
       which=st.sampled_from(OPS), use_lengths=st.booleans(),
       dtype=st.sampled_from([np.float32, np.float64, np.int32, np.int64]))
def test_matches_naive(shape, data, which, use_lengths, dtype):
    name, front, mean = which
    x = np.asarray(np.random.default_rng(len(shape)).integers(-9, 9, shape), dtype)
    n = 1 if use_lengths else data.draw(st.integers(0, len(shape)))
    if mean and dtype in (np.int32, np.int64):
        dtype = np.float64
        x = x.astype(dtype)
    inputs, names, lengths = [x], ["X"], None
    if use_lengths:
        batch = int(np.prod(shape[1:] if front else shape[:-1]))
        reduced = shape[0] if front else shape[-1]
        lengths = data.draw(st.lists(st.integers(1, reduced), min_size=batch, max_size=batch))
        inputs.append(np.array(lengths, np.int32))
        names.append("L")
    op = CreateOperator(name, names, ["Y"], num_reduce_dim=n)
    want = naive(x, n, front, mean, lengths)
    got = testing.check_reference(op, inputs, lambda *a: [want], rtol=1e-6)
    assert infer_op(op, [shape_of(v) for v in inputs])[0] == TensorShape(got[0].shape, dtype)
    if dtype in (np.float32, np.float64):
        testing.check_gradient(op, inputs, 0)


def test_caffe2_quirks():
    x = np.array([[1.0, 5.0], [4.0, 1.0]])
    lengths = np.array([0, 2], np.int32)
    testing.check_reference(CreateOperator("ReduceFrontSum", ["X", "L"], ["Y"]), [x, lengths],
                            lambda *a: [np.array([1.0, 6.0])])
    want = np.array([np.inf, 3.0])  # the first element divided by a length of 0
    testing.check_reference(CreateOperator("ReduceFrontMean", ["X", "L"], ["Y"]),
                            [x, lengths], lambda *a: [want])
    ints = np.array([[7, -7], [0, 0]], np.int32)
    testing.check_reference(CreateOperator("ReduceFrontMean", ["X"], ["Y"]), [ints],
                            lambda x: [np.array([3, -3], np.int32)])
    testing.check_reference(CreateOperator("ReduceBackSum", ["X"], ["Y"]),
                            [np.zeros((2, 0), np.float32)], lambda x: [np.zeros(2, np.float32)])


def test_old_models_pass_the_shape():
    grad = CreateOperator("ReduceBackSumGradient", ["dY", "S"], ["dX"])
    testing.check_reference(grad, [np.array([1.0, 2.0]), np.array([2, 3], np.int64)],
                            lambda *a: [np.array([[1.0] * 3, [2.0] * 3])])


def test_errors():
    x = np.zeros((2, 3), np.float32)
    op = CreateOperator("ReduceFrontSum", ["X"], ["Y"], num_reduce_dim=3)
    testing.check_raises(op, [x], EnforceError, re.escape("support num_reduce_dims in range "
                                                          "[0, N]."))
    op = CreateOperator("ReduceBackSum", ["X", "L"], ["Y"])
    testing.check_raises(op, [x, np.array([1, 2, 3], np.int32)], EnforceError,
                         "The size of lengths vector doesn't match the batch size.")
    testing.check_raises(op, [x, np.array([1, 4], np.int32)], EnforceError, "out of range")
    testing.check_raises(op, [x, np.array([1, 2], np.int64)], DTypeError, "caller expects")
    op = CreateOperator("ReduceBackSum", ["X", "L"], ["Y"], num_reduce_dim=2)
    testing.check_raises(op, [x, np.array([1], np.int32)], EnforceError,
                         "Given lengths input, the number of reduce dimensions should be one.")
    op = CreateOperator("ReduceBackMean", ["X", "L"], ["Y"])
    testing.check_raises(op, [x.astype(np.int32), np.array([0, 1], np.int32)],
                         EnforceError, "integer mean over zero elements")
    grad = CreateOperator("ReduceBackSumGradient", ["dY", "X"], ["dX"])
    testing.check_raises(grad, [np.zeros(3, np.float32), x], EnforceError,
                         "dY does not match the reduced shape")
    testing.check_raises(grad, [np.zeros(1, np.float32), np.array([2**40, 1], np.int64)],
                         EnforceError, "too large")


def test_gradient_ops():
    for name, _, _ in OPS:
        assert backward(CreateOperator(name, ["X"], ["Y"]), ["Y"])[0] == [
            (name + "Gradient", ["Y_grad", "X"], ["X_grad"])]
        assert backward(CreateOperator(name, ["X", "L"], ["Y"]), ["Y"])[0] == [
            (name + "Gradient", ["Y_grad", "X", "L"], ["X_grad"])]
