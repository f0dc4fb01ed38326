"""LengthsToShape against a loop, with the case of Caffe2's reshape_ops_test.py
(test_lengths_to_shape_ops) and its checks."""

from __future__ import annotations

import numpy as np
import pytest

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import DTypeError, EnforceError, GradientError, ShapeError
from caffe2lite.inference import infer_op
from caffe2lite.schema.shapes import TensorShape

OP = CreateOperator("LengthsToShape", ["l"], ["s"])


def naive(lengths):
    first = int(lengths[0])
    for v in lengths:
        assert int(v) == first
    return [np.array([len(lengths), first], np.int32)]


@pytest.mark.parametrize("lengths", [[200, 200, 200], [0], [7] * 11, [0, 0]])
def test_matches_loop(lengths):
    got = testing.check_reference(OP, [np.array(lengths, np.int32)], naive, atol=0)
    assert got[0].dtype == np.int32
    assert infer_op(OP, [TensorShape((len(lengths),), np.int32)]) == [
        TensorShape((2,), np.int32)]


def test_errors_and_gradient():
    testing.check_raises(OP, [np.array([2, 3], np.int32)], EnforceError,
                         "All elements of input must be same")
    testing.check_raises(OP, [np.array([[2, 2]], np.int32)], ShapeError,
                         "Input must be a vector.")
    testing.check_raises(OP, [np.array([2, 2], np.int64)], DTypeError,
                         "caller expects elements to be int while tensor contains long")
    testing.check_raises(OP, [np.zeros(0, np.int32)], EnforceError, "at least one length")
    with pytest.raises(GradientError):
        GradientRegistry.GetBackwardPass([OP], {"s": "s_grad"})
