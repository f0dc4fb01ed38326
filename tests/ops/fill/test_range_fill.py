from __future__ import annotations

import numpy as np
import pytest

from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import ArgumentError, SchemaError
from caffe2lite.inference import infer_op
from caffe2lite.schema import registry
from caffe2lite.schema.shapes import shape_of
from caffe2lite.testing import check_raises, check_reference


def naive_range(shape):
    out = np.empty(shape, np.float32)
    for i, idx in enumerate(np.ndindex(*shape)):
        out[idx] = float(i)
    return out


@pytest.mark.parametrize(
    "kwargs, feeds, shape",
    [
        ({"shape": [2, 3]}, {}, (2, 3)),
        ({"shape": [4]}, {}, (4,)),
        ({"shape": []}, {}, ()),
        ({}, {}, ()),
        ({"shape": [3, 0]}, {}, (3, 0)),
        ({}, {"X": np.zeros((2, 2, 3), np.int32)}, (2, 2, 3)),
        ({"extra_shape": [2]}, {"X": np.zeros((3,), np.float64)}, (3, 2)),
        ({"input_as_shape": 1}, {"X": np.array([2, 5], np.int64)}, (2, 5)),
    ],
)
def test_matches_naive(kwargs, feeds, shape):
    op = CreateOperator("RangeFill", list(feeds), ["Y"], **kwargs)
    (y,) = check_reference(op, list(feeds.values()), lambda *_: [naive_range(shape)])
    (inferred,) = infer_op(op, [shape_of(v) for v in feeds.values()])
    assert inferred.dtype == np.float32 and inferred.ndim == y.ndim
    if not kwargs.get("input_as_shape"):
        assert inferred == shape_of(y)


def test_large_indices_round_like_int_to_float():
    y = check_reference(
        CreateOperator("RangeFill", [], ["Y"], shape=[2**24 + 3]),
        [],
        lambda: [np.arange(2**24 + 3).astype(np.float32)],
    )[0]
    assert y[-1] == np.float32(2**24 + 2) and y[-2] == np.float32(2**24)


def test_in_place_and_example():
    check_reference(
        CreateOperator("RangeFill", ["X"], ["X"]),
        [np.zeros((2, 2), np.int8)],
        lambda x: [np.array([[0, 1], [2, 3]], np.float32)],
    )
    ex = registry.lookup("RangeFill").example
    op = CreateOperator("RangeFill", [], ["output"], **ex.args)
    check_reference(op, [], lambda: [ex.outputs["output"]])
    assert infer_op(op, []) == [shape_of(ex.outputs["output"])]


def test_errors():
    check_raises(
        CreateOperator("RangeFill", [], ["Y"], shape=5),
        [],
        ArgumentError,
        "list expected",
    )
    check_raises(
        CreateOperator("RangeFill", ["X"], ["Y"], input_as_shape=1),
        [np.array([[2]], np.int64)],
        Exception,
        "must be a 1D tensor",
    )
    check_raises(
        CreateOperator("RangeFill", ["X", "Z"], ["Y"]),
        [np.zeros(1)] * 2,
        SchemaError,
        "Input size 2",
    )


def test_no_gradient():
    assert registry.gradient_entry("RangeFill").kind == registry.NO_GRADIENT
    ops, grads = GradientRegistry.GetBackwardPass(
        [CreateOperator("RangeFill", ["X"], ["Y"])], {"Y": "Y_grad"}
    )
    assert ops == [] and grads.get("X") is None
