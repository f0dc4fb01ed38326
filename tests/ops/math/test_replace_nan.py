"""ReplaceNaN: NaN replaced by value against a naive loop; types, in-place use and the
gradient decision."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import DTypeError, GradientError
from caffe2lite.workspace import Workspace


def naive(x, value):
    out = np.empty(x.shape, x.dtype)
    for idx in np.ndindex(*x.shape):
        out[idx] = value if math.isnan(x[idx]) else x[idx]
    return [out]


@settings(max_examples=30, deadline=None)
@given(shape=st.lists(st.integers(0, 4), max_size=3), value=st.sampled_from([0.0, -1.5, 7.0]),
       dtype=st.sampled_from([np.float32, np.float64]), seed=st.integers(0, 2**16))
def test_matches_naive_loop(shape, value, dtype, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    x[rng.random(shape) < 0.4] = np.nan
    x = x.astype(dtype)
    testing.check_reference(CreateOperator("ReplaceNaN", ["X"], ["Y"], value=value), [x],
                            lambda x: naive(x, value), atol=0, rtol=0)


def test_default_infinities_in_place_and_errors():
    x = np.array([np.nan, np.inf, -np.inf, 1], np.float32)
    testing.check_reference(CreateOperator("ReplaceNaN", ["X"], ["Y"]), [x],
                            lambda x: [np.array([0, np.inf, -np.inf, 1], np.float32)])
    ws = Workspace()
    ws.feed_blob("X", x)
    ws.run_operator_once(CreateOperator("ReplaceNaN", ["X"], ["X"], value=2.0))
    np.testing.assert_array_equal(ws.fetch_blob("X"), [2, np.inf, -np.inf, 1])
    testing.check_raises(CreateOperator("ReplaceNaN", ["X"], ["Y"]), [np.ones(2, np.int32)],
                         DTypeError, "Unsupported type of tensor: int")
    with pytest.raises(GradientError):
        GradientRegistry.GetBackwardPass([CreateOperator("ReplaceNaN", ["X"], ["Y"])],
                                         {"Y": "Y_grad"})
