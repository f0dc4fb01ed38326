from __future__ import annotations

import numpy as np
import pytest

from caffe2lite import testing
from caffe2lite.core import CreateOperator
from caffe2lite.errors import ArgumentError, DTypeError, EnforceError
from caffe2lite.schema.registry import GRADIENTS, NO_GRADIENT
from caffe2lite.workspace import Workspace


def run(op, **feeds):
    ws = Workspace()
    for name, value in feeds.items():
        ws.feed_blob(name, value)
    ws.run_operator_once(op)
    return ws.fetch_blob(op.output[0])


def test_both_bounds_are_drawn_uniformly():
    y = run(CreateOperator("UniformIntFill", [], ["Y"], shape=[60000], min=-2, max=3,
                           random_seed=5))
    assert y.dtype == np.int32 and y.shape == (60000,)
    counts = np.bincount(y + 2, minlength=6) / y.size
    # six values, each with probability 1/6: standard error sqrt(5/36 / 60000) = 0.0015
    assert np.all(np.abs(counts - 1 / 6) < 6 * 0.0015)


def test_seeded_runs_are_identical():
    op = CreateOperator("UniformIntFill", [], ["Y"], shape=[3, 4], min=0, max=1000,
                        random_seed=42)
    np.testing.assert_array_equal(run(op), run(op))


def test_shape_rules_and_defaults():
    y = run(CreateOperator("UniformIntFill", ["X"], ["Y"], extra_shape=[2]),
            X=np.zeros((3, 1), np.float32))
    assert y.shape == (3, 1, 2) and set(np.unique(y)) <= {0, 1}


def test_bounds_from_int_blobs():
    y = run(CreateOperator("UniformIntFill", ["X", "lo", "hi"], ["Y"], input_as_shape=1),
            X=np.array([100], np.int64), lo=np.array([7], np.int32),
            hi=np.array([8], np.int32))
    assert set(np.unique(y)) == {7, 8}
    empty = run(CreateOperator("UniformIntFill", ["X", "lo", "hi"], ["Y"]),
                X=np.zeros((4, 2)), lo=np.array([9], np.int32), hi=np.array([8], np.int32))
    assert empty.shape == (0, 2) and empty.dtype == np.int32


@pytest.mark.parametrize("inputs, kwargs, error, match", [
    ({}, {"shape": [2], "min": 3, "max": 3}, EnforceError,
     r"min_ < max_\. 3 vs 3\. Max value should be bigger than min value\."),
    ({}, {"shape": [2], "min": 0.5}, ArgumentError,
     "Argument min does not have the right field: expected field i"),
    ({"X": np.zeros(1), "lo": np.ones(1, np.float32), "hi": np.ones(1, np.int32)}, {},
     DTypeError, "caller expects elements to be int while tensor contains float"),
    ({}, {"extra_shape": [2]}, ArgumentError,
     "Cannot set extra_shape when there is no input"),
])
def test_errors(inputs, kwargs, error, match):
    op = CreateOperator("UniformIntFill", list(inputs), ["Y"], **kwargs)
    testing.check_raises(op, list(inputs.values()), error, match)


def test_no_gradient():
    assert GRADIENTS["UniformIntFill"].kind == NO_GRADIENT


def test_shape_inference():
    import numpy as np

    from caffe2lite.core import CreateOperator
    from caffe2lite.inference import infer_op
    from caffe2lite.schema.shapes import TensorShape

    op = CreateOperator("UniformIntFill", [], ["Y"], shape=[4], min=1, max=3)
    assert infer_op(op, []) == [TensorShape((4,), np.int32)]
    bounded = CreateOperator("UniformIntFill", ["X", "lo", "hi"], ["Y"])
    one = TensorShape((1,), np.int32)
    assert infer_op(bounded, [TensorShape((2, 2), np.float32), one, one]) == [
        TensorShape((2, 2), np.int32)
    ]
