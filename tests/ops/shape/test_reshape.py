from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import (
    ArgumentError,
    Caffe2LiteError,
    DTypeError,
    SchemaError,
    ShapeError,
)
from caffe2lite.inference import infer_op
from caffe2lite.schema import registry
from caffe2lite.schema.shapes import TensorShape, shape_of
from caffe2lite.workspace import Workspace


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


def naive_resolve(new, old):
    """0 copies old[i]; one -1 takes the rest (written as a search, not a division)."""
    dims = [old[i] if d == 0 else d for i, d in enumerate(new)]
    total = 1
    for d in old:
        total *= d
    if -1 in dims:
        i = dims.index(-1)
        for guess in range(total + 1):
            trial = dims[:i] + [guess] + dims[i + 1:]
            n = 1
            for d in trial:
                n *= d
            if n == total:
                return trial
        raise AssertionError("no fit")
    return dims


def test_example():
    run_example("Reshape")


@settings(max_examples=30, deadline=None)
@given(old=st.lists(st.integers(1, 4), min_size=1, max_size=4), data=st.data())
def test_matches_naive_rules(old, data):
    x = np.arange(int(np.prod(old)), dtype=np.float32).reshape(old)
    flat = [d for d in old]
    perm = data.draw(st.permutations(flat))
    new = list(perm)
    if data.draw(st.booleans()):
        new[data.draw(st.integers(0, len(new) - 1))] = -1
    want_shape = naive_resolve(new, old)
    op = CreateOperator("Reshape", ["X"], ["Y", "old"], shape=new)
    testing.check_reference(op, [x], lambda x: [x.reshape(want_shape), np.array(old, np.int64)])
    for dtype in (np.int32, np.int64):
        op = CreateOperator("Reshape", ["X", "S"], ["Y", "old"])
        testing.check_reference(op, [x, np.array(new, dtype)],
                                lambda *a, dtype=dtype: [x.reshape(want_shape), np.array(old, dtype)])


def test_zero_copies_dimension_and_caffe2_cases():
    x = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    op = CreateOperator("Reshape", ["X"], ["Y", "old"], shape=[0, -1])
    testing.check_reference(op, [x], lambda x: [x.reshape(2, 12), np.array([2, 3, 4], np.int64)])
    op = CreateOperator("Reshape", ["X"], ["Y", "old"], shape=[0, 0, 2, 2])
    testing.check_reference(op, [x], lambda x: [x.reshape(2, 3, 2, 2), np.array([2, 3, 4],
                                                                                  np.int64)])
    empty = np.zeros((0, 5), np.int64)
    op = CreateOperator("Reshape", ["X"], ["Y", "old"], shape=[5, -1])
    testing.check_reference(op, [empty], lambda x: [x.reshape(5, 0), np.array([0, 5], np.int64)])
    op = CreateOperator("Reshape", ["X"], ["Y", "old"], shape=[5, 0])  # empty: 0 stays 0
    testing.check_reference(op, [empty], lambda x: [x.reshape(5, 0), np.array([0, 5], np.int64)])
    scalar = np.array(7.0, np.float32)
    op = CreateOperator("Reshape", ["X"], ["Y", "old"], shape=[1, 1])
    testing.check_reference(op, [scalar], lambda x: [x.reshape(1, 1), np.zeros(0, np.int64)])
    op = CreateOperator("Reshape", ["X"], ["Y", "old"], shape=[])
    testing.check_reference(op, [np.array([3], np.int32)],
                            lambda x: [np.array(3, np.int32), np.array([1], np.int64)])


def test_caffe2_cases():
    """Caffe2's reshape_ops_test: basic, missing dim, zero dims, zeros with -1, and the
    new shape given as an argument or an input."""
    cases = [((4, 2, 1), (2, 4), (2, 4)), ((4, 2, 1), (-1, 8), (1, 8)),
             ((4, 2, 1), (0, 0, 0), (4, 2, 1)), ((4, 2, 1), (0, 2, 1), (4, 2, 1)),
             ((0, 0), (0, 0, 0), (0, 0, 0)), ((4, 2, 1), (0, -1, 0), (4, 2, 1)),
             ((4, 3, 2), (-1, 0), (8, 3)), ((2, 0), (-1, 0), (0, 0))]
    rng = np.random.default_rng(0)
    for old, new, want in cases:
        x = rng.random(old).astype(np.float32)
        for as_arg in (True, False):
            if as_arg:
                op = CreateOperator("Reshape", ["X"], ["Y", "old"], shape=list(new))
                inputs = [x]
            else:
                op = CreateOperator("Reshape", ["X", "S"], ["Y", "old"])
                inputs = [x, np.array(new, np.int64)]
            expected = [x.reshape(want), np.array(x.shape, np.int64)]
            testing.check_reference(op, inputs, lambda *a, e=expected: e)


def test_in_place_and_strings():
    ws = Workspace()
    ws.feed_blob("X", np.arange(6, dtype=np.float64))
    ws.run_operator_once(CreateOperator("Reshape", ["X"], ["X", "old"], shape=[2, 3]))
    assert ws.fetch_blob("X").shape == (2, 3)
    words = np.array([b"a", b"b", b"c", b"d"], dtype=object)
    op = CreateOperator("Reshape", ["X"], ["Y", "old"], shape=[2, 2])
    testing.check_reference(op, [words], lambda x: [x.reshape(2, 2), np.array([4], np.int64)])


def test_errors():
    x = np.arange(6, dtype=np.float32)
    testing.check_raises(CreateOperator("Reshape", ["X"], ["Y", "old"]), [x], ArgumentError,
                         "Argument `shape` is missing.")
    testing.check_raises(CreateOperator("Reshape", ["X", "S"], ["Y", "old"], shape=[6]),
                         [x, np.array([6], np.int64)], ArgumentError,
                         "New shape is specified by the input blob, do not pass in the "
                         "argument `shape`.")
    testing.check_raises(CreateOperator("Reshape", ["X", "S"], ["Y", "old"]),
                         [x, np.array([[6]], np.int64)], ShapeError, "Shape should be 1-D")
    testing.check_raises(CreateOperator("Reshape", ["X", "S"], ["Y", "old"]),
                         [x, np.array([6.0])], DTypeError, "Unsupported type of tensor: double")
    cases = [([-1, -1], ArgumentError, "more than one missing dimension"),
             ([4, -1], ShapeError, re.escape("does not agree with the input data. (6 vs 4)")),
             ([4], ShapeError, re.escape("does not agree with the input data. (6 != 4)")),
             ([-2, -3], ArgumentError, "must not be a negative number"),
             ([1, 0], ShapeError, re.escape("Can not reshape a non-zero size (6) tensor to "
                                            "zero size.")),
             ([0, -1, 0], ShapeError, "to zero size")]
    for new, error, message in cases:
        testing.check_raises(CreateOperator("Reshape", ["X"], ["Y", "old"], shape=new), [x],
                             error, message)
    testing.check_raises(CreateOperator("Reshape", ["X"], ["Y", "old"], shape=[2, 2]),
                         [np.zeros((0, 3), np.float32)], ShapeError, re.escape("(0 != 4)"))
    testing.check_raises(CreateOperator("Reshape", ["X"], ["Y"], shape=[6]), [x], SchemaError,
                         "Output size")


def test_shape_function():
    op = CreateOperator("Reshape", ["X"], ["Y", "old"], shape=[0, -1])
    y, old = infer_op(op, [TensorShape((2, 3, 4), np.float32)])
    assert (y.dims, y.dtype, old.dims, old.dtype) == ((2, 12), np.float32, (3,), np.int64)
    op = CreateOperator("Reshape", ["X", "S"], ["Y", "old"])
    y, old = infer_op(op, [TensorShape((6,), np.float32), TensorShape((2,), np.int32)])
    assert y.dims == ("new_shape[0]", "new_shape[1]") and old.dtype == np.int32
    op2 = CreateOperator("Reshape", ["X"], ["Y", "old"], shape=[0, -1, 4])
    y2, _ = infer_op(op2, [TensorShape(("N", 3, 4), np.float32)])
    assert y2.dims == ("N", "reshaped_rest", 4)
    y, _ = infer_op(op, [TensorShape((6,), np.float32), TensorShape(None, np.int64)])
    assert y.dims is None and y.dtype == np.float32
    with pytest.raises(Caffe2LiteError, match="either the input blob or the argument"):
        infer_op(CreateOperator("Reshape", ["X"], ["Y", "old"]), [TensorShape((6,), np.float32)])
    with pytest.raises(Caffe2LiteError, match="at the same time"):
        infer_op(CreateOperator("Reshape", ["X", "S"], ["Y", "old"], shape=[6]),
                 [TensorShape((6,), np.float32), TensorShape((1,), np.int64)])


def test_gradient():
    op = CreateOperator("Reshape", ["X"], ["Y", "old"], shape=[3, 2])
    ops, _ = backward(op, ["Y"])
    assert ops == [("Reshape", ["Y_grad", "old"], ["X_grad", "_X_grad_dims"])]
    grad_ops, _ = GradientRegistry.GetBackwardPass([op], {"Y": "Y_grad"})
    assert list(grad_ops[0].arg) == []
    testing.check_gradient(op, [np.arange(6.0)], 0, outputs=[0])
