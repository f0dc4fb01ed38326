"""MergeDim against a reshape written out index by index."""

from __future__ import annotations

import numpy as np
import pytest

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import GradientError, ShapeError
from caffe2lite.inference import infer_op
from caffe2lite.schema.shapes import TensorShape
from caffe2lite.workspace import Workspace

OP = CreateOperator("MergeDim", ["data"], ["reshaped"])


def loop_merge(x):
    out = np.empty((x.shape[0] * x.shape[1],) + x.shape[2:], x.dtype)
    flat = x.reshape(-1)
    for n, idx in enumerate(np.ndindex(*out.shape)):
        out[idx] = flat[n]
    return [out]


@pytest.mark.parametrize("shape", [(3, 2, 2), (8, 16, 2, 4), (2, 0), (0, 5, 1)])
def test_matches_loop_and_shape(shape):
    x = np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape)
    got = testing.check_reference(OP, [x], loop_merge, atol=0)
    assert infer_op(OP, [TensorShape(shape, np.float32)]) == [
        TensorShape(got[0].shape, np.float32)]
    assert infer_op(OP, [TensorShape(("N", 4, 2), np.float32)]) == [
        TensorShape(("N*4", 2), np.float32)]


def test_in_place_errors_and_no_gradient():
    ws = Workspace()
    ws.feed_blob("X", np.ones((2, 3, 4), np.int32))
    ws.run_operator_once(CreateOperator("MergeDim", ["X"], ["X"]))
    assert ws.fetch_blob("X").shape == (6, 4)
    testing.check_raises(OP, [np.ones(3)], ShapeError, "Input must be at least 2D.")
    with pytest.raises(GradientError):
        GradientRegistry.GetBackwardPass([OP], {"reshaped": "g"})
