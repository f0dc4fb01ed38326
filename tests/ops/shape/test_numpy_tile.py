"""NumpyTile against a loop that copies element by element, with the cases of Caffe2's
numpy_tile_op_test.py (random ranks and counts, zero sizes and zero counts)."""

from __future__ import annotations

import numpy as np
import pytest

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import DTypeError, EnforceError, GradientError, ShapeError
from caffe2lite.inference import infer_op
from caffe2lite.schema.shapes import TensorShape

OP = CreateOperator("NumpyTile", ["input", "repeats"], ["out"])


def loop_tile(x, repeats):
    out_shape = tuple(d * int(r) for d, r in zip(x.shape, repeats))
    out = np.empty(out_shape, x.dtype)
    for idx in np.ndindex(*out_shape):
        out[idx] = x[tuple(i % d for i, d in zip(idx, x.shape))]
    return [out]


@pytest.mark.parametrize("seed", range(12))
def test_matches_loop(seed):
    rng = np.random.default_rng(seed)
    ndim = rng.integers(1, 5)
    low = 0 if seed % 2 else 1  # the odd seeds are Caffe2's zero-dim case
    x = rng.standard_normal(rng.integers(low, 4, ndim))
    reps = rng.integers(low, 5, ndim).astype(np.int64)
    got = testing.check_reference(OP, [x, reps], loop_tile, atol=0)
    shape = infer_op(OP, [TensorShape(x.shape, x.dtype), TensorShape((ndim,), np.int64)])
    assert len(shape[0].dims) == got[0].ndim


def test_errors_and_no_gradient():
    x = np.ones((2, 3), np.float32)
    testing.check_raises(OP, [x, np.array([1, 2, 3], np.int64)], ShapeError,
                         "repeats input have the same number of elements")
    testing.check_raises(OP, [x, np.array([[1, 2]], np.int64)], ShapeError,
                         "repeats input must be a 1-d tensor")
    testing.check_raises(OP, [x, np.array([1, -1], np.int64)], ShapeError,
                         "repeats_data")
    testing.check_raises(OP, [x, np.array([1, 2], np.int32)], DTypeError,
                         "caller expects elements to be long")
    testing.check_raises(OP, [x, np.array([2**30, 2**30], np.int64)], EnforceError,
                         "too large")
    with pytest.raises(GradientError):
        GradientRegistry.GetBackwardPass([OP], {"out": "g"})
