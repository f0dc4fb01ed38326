"""Glu against a loop over the elements, with the cases of Caffe2's glu_op_test.py
(test_glu_old: any axis of even length)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import DTypeError, EnforceError, GradientError
from caffe2lite.inference import infer_op
from caffe2lite.schema.shapes import TensorShape


def loop_glu(x, axis):
    half = x.shape[axis] // 2
    out_shape = list(x.shape)
    out_shape[axis] = half
    y = np.empty(out_shape, x.dtype)
    for idx in np.ndindex(*out_shape):
        b_idx = list(idx)
        b_idx[axis] += half
        b = float(x[tuple(b_idx)])
        y[idx] = float(x[idx]) / (1.0 + math.exp(-b)) if b >= 0 else (
            float(x[idx]) * math.exp(b) / (1.0 + math.exp(b)))
    return [y]


@settings(max_examples=30, deadline=None)
@given(shape=st.lists(st.integers(1, 4), min_size=0, max_size=3), data=st.data(),
       seed=st.integers(0, 2**16))
def test_matches_loop_on_every_axis(shape, data, seed):
    axis = data.draw(st.integers(0, len(shape)))
    shape.insert(axis, 2 * data.draw(st.integers(1, 2)))
    x = (np.random.default_rng(seed).standard_normal(shape) * 5).astype(np.float32)
    last = axis == len(shape) - 1
    for dim in ([axis, -1] if last else [axis]):
        op = CreateOperator("Glu", ["X"], ["Y"], dim=dim)
        got = testing.check_reference(op, [x], lambda x: loop_glu(x, axis), rtol=1e-6,
                                      atol=1e-7)
        assert infer_op(op, [TensorShape(x.shape, np.float32)]) == [
            TensorShape(got[0].shape, np.float32)]


def test_errors_and_no_gradient():
    x = np.ones((2, 3), np.float32)
    testing.check_raises(CreateOperator("Glu", ["X"], ["Y"]), [x], EnforceError,
                         "Split dimension 3 should be divided by two")
    testing.check_raises(CreateOperator("Glu", ["X"], ["Y"], dim=-2), [x], EnforceError,
                         "dim is not an axis")
    testing.check_raises(CreateOperator("Glu", ["X"], ["Y"], dim=0), [x.astype(np.int32)],
                         DTypeError, "caller expects elements to be float")
    with pytest.raises(GradientError):
        GradientRegistry.GetBackwardPass([CreateOperator("Glu", ["X"], ["Y"])], {"Y": "g"})
