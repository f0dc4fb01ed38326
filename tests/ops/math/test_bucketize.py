"""Bucketize: bucket indices against a naive scan of the boundaries; Caffe2's doc cases,
edge values, errors and the gradient decision."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import ArgumentError, DTypeError, GradientError, ShapeError
from caffe2lite.inference import infer_op
from caffe2lite.schema.shapes import TensorShape


def naive_bucketize(data, boundaries):
    out = np.zeros(data.shape, np.int32)
    for idx in np.ndindex(*data.shape):
        i = 0
        while i < len(boundaries) and np.float32(boundaries[i]) < data[idx]:
            i += 1
        out[idx] = i
    return [out]


@settings(max_examples=40, deadline=None)
@given(shape=st.lists(st.integers(0, 4), min_size=1, max_size=3),
       boundaries=st.lists(st.floats(-3, 3, width=32), max_size=6).map(sorted),
       seed=st.integers(0, 2**16))
def test_matches_naive_scan(shape, boundaries, seed):
    rng = np.random.default_rng(seed)
    data = rng.uniform(-4, 4, shape).astype(np.float32)
    if boundaries and data.size:
        data.flat[0] = boundaries[0]  # an element on a boundary goes to its left bucket
    op = CreateOperator("Bucketize", ["X"], ["Y"], boundaries=boundaries)
    testing.check_reference(op, [data], lambda d: naive_bucketize(d, boundaries), atol=0)


def test_caffe2_doc_cases():
    op = CreateOperator("Bucketize", ["X"], ["Y"], boundaries=[0.1, 2.5])
    testing.check_reference(op, [np.array([2, 4, 1], np.float32)],
                            lambda d: [np.array([1, 2, 1], np.int32)])
    testing.check_reference(op, [np.array([[2, 3], [4, 1], [2, 5]], np.float32)],
                            lambda d: [np.array([[1, 2], [2, 1], [1, 2]], np.int32)])
    testing.check_reference(op, [np.array([0.1, 2.5, -9, np.nan], np.float32)],
                            lambda d: [np.array([0, 1, 0, 0], np.int32)])
    testing.check_reference(CreateOperator("Bucketize", ["X"], ["Y"]),
                            [np.array([3, -3], np.float32)], lambda d: [np.zeros(2, np.int32)])


def test_errors_shape_and_gradient_decision():
    op = CreateOperator("Bucketize", ["X"], ["Y"], boundaries=[1.0])
    testing.check_raises(op, [np.array(1.0, np.float32)], ShapeError,
                         re.escape("input.dim() >= 1. 0 vs 1"))
    testing.check_raises(op, [np.ones(2, np.float64)], DTypeError,
                         "caller expects elements to be float while tensor contains double")
    testing.check_raises(CreateOperator("Bucketize", ["X"], ["Y"], boundaries=[2.0, 1.0]),
                         [np.ones(2, np.float32)], ArgumentError,
                         "The boundaries need to be monotonically increasing")
    assert infer_op(op, [TensorShape((2, 3), np.float32)]) == [TensorShape((2, 3), np.int32)]
    with pytest.raises(GradientError):
        GradientRegistry.GetBackwardPass([op], {"Y": "Y_grad"})
