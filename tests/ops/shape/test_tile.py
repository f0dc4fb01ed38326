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


def naive_tile(x, tiles, axis):
    axis = axis % x.ndim
    pieces = []
    for outer in np.ndindex(*x.shape[:axis]):
        for _ in range(tiles):
            pieces.append(x[outer].copy())
    shape = list(x.shape)
    shape[axis] *= tiles
    if not pieces:
        return np.zeros(shape, x.dtype)
    return np.concatenate([p.reshape(-1) for p in pieces]).reshape(shape)


def test_examples():
    run_example("Tile")
    run_example("TileGradient")


@settings(max_examples=40, deadline=None)
@given(shape=st.lists(st.integers(0, 3), min_size=1, max_size=3), tiles=st.integers(0, 3),
       data=st.data(), mode=st.sampled_from(["args", "tiles", "both"]),
       dtype=st.sampled_from([np.float32, np.float64, np.int32, np.int64, np.uint8]))
def test_matches_naive(shape, tiles, data, mode, dtype):
    x = np.arange(int(np.prod(shape))).astype(dtype).reshape(shape)
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    if mode == "args":
        op = CreateOperator("Tile", ["X"], ["Y"], tiles=tiles, axis=axis)
        inputs = [x]
    elif mode == "tiles":
        op = CreateOperator("Tile", ["X", "T"], ["Y"], axis=axis)
        inputs = [x, np.array([tiles], np.int32)]
    else:
        op = CreateOperator("Tile", ["X", "T", "A"], ["Y"], tiles=7, axis=0)
        inputs = [x, np.array([tiles], np.int64), np.array([axis], np.int32)]
    want = naive_tile(x, tiles, axis)
    testing.check_reference(op, inputs, lambda *a: [want])
    if mode == "args":
        assert infer_op(op, inputs=[shape_of(x)])[0] == TensorShape(want.shape, dtype)
    if tiles and dtype in (np.float32, np.float64):
        grad_inputs = [want.astype(dtype)] + inputs[1:]
        grad = CreateOperator("TileGradient", ["dY"] + list(op.input[1:]), ["dX"],
                              **({"tiles": tiles, "axis": axis} if mode == "args" else
                                 {"axis": axis}))
        testing.check_reference(grad, grad_inputs, lambda *a: [x * tiles], rtol=1e-6)


def test_int64_tiles_input_resets_axis():
    x = np.array([[1, 2], [3, 4]], np.int32)
    op = CreateOperator("Tile", ["X", "T"], ["Y"], axis=1)
    testing.check_reference(op, [x, np.array([2], np.int64)], lambda *a: [np.tile(x, (2, 1))])
    testing.check_reference(op, [x, np.array([2], np.int32)], lambda *a: [np.tile(x, (1, 2))])


def test_strings():
    words = np.array([b"a", b"b"], dtype=object)
    op = CreateOperator("Tile", ["X"], ["Y"], tiles=2, axis=0)
    testing.check_reference(op, [words], lambda x: [np.array([b"a", b"b", b"a", b"b"], object)])


def test_errors():
    x = np.zeros((2, 3), np.float32)
    testing.check_raises(CreateOperator("Tile", ["X"], ["Y"], axis=0), [x], ArgumentError,
                         "Argument `tiles` is missing and was not specified as input.")
    testing.check_raises(CreateOperator("Tile", ["X"], ["Y"], tiles=2), [x], ArgumentError,
                         "Argument `axis` is missing and was not specified as input.")
    testing.check_raises(CreateOperator("Tile", ["X", "T"], ["Y"]),
                         [x, np.array([2], np.int32)], ArgumentError, "Argument `axis` is missing")
    testing.check_raises(CreateOperator("Tile", ["X", "T"], ["Y"], axis=0),
                         [x, np.array([2, 3], np.int32)], ShapeError,
                         "Input `tiles` should be a vector of size 1.")
    testing.check_raises(CreateOperator("Tile", ["X", "T", "A"], ["Y"]),
                         [x, np.array([2], np.int32), np.array(1, np.int32)], ShapeError,
                         "Input `axis` should be a vector of size 1.")
    testing.check_raises(CreateOperator("Tile", ["X"], ["Y"], tiles=2, axis=2), [x],
                         ShapeError, re.escape("axis_index < ndims. 2 vs 2"))
    testing.check_raises(CreateOperator("Tile", ["X"], ["Y"], tiles=-1, axis=0), [x],
                         EnforceError, "tiles must be non-negative")
    testing.check_raises(CreateOperator("Tile", ["X", "T"], ["Y"], axis=0),
                         [x, np.array([2**30], np.int32)], EnforceError, "too large")
    testing.check_raises(CreateOperator("Tile", ["X"], ["Y"], tiles=2, axis=0),
                         [np.zeros(2, np.int8)], DTypeError, "Unsupported type")
    testing.check_raises(CreateOperator("TileGradient", ["dY"], ["dX"], tiles=2, axis=1), [x],
                         ShapeError, "not a multiple of tiles")


def test_gradient_ops_and_numeric():
    op = CreateOperator("Tile", ["X"], ["Y"], tiles=3, axis=1)
    assert backward(op, ["Y"])[0] == [("TileGradient", ["Y_grad"], ["X_grad"])]
    testing.check_gradient(op, [np.arange(6.0).reshape(2, 3)], 0)
    op = CreateOperator("Tile", ["X", "T", "A"], ["Y"])
    assert backward(op, ["Y"])[0] == [("TileGradient", ["Y_grad", "T", "A"], ["X_grad"])]
    testing.check_gradient(op, [np.arange(6.0).reshape(2, 3), np.array([2], np.int32),
                                np.array([0], np.int32)], 0)
