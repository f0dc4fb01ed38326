"""NanCheck: the identity on finite data, failing (and changing nothing) on NaN or inf in
the first input; its gradient is another NanCheck."""

from __future__ import annotations

import re

import numpy as np
import pytest

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import DTypeError, EnforceError
from caffe2lite.workspace import Workspace


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(), (0,), (2, 3)])
def test_identity_on_finite_data(dtype, shape):
    x = np.random.default_rng(1).standard_normal(shape).astype(dtype)
    got = testing.check_reference(CreateOperator("NanCheck", ["X"], ["Y"]), [x],
                                  lambda x: [x.copy()], atol=0, rtol=0)
    assert got[0].dtype == dtype


def test_fails_on_nan_or_inf_naming_the_blob():
    for bad in (np.nan, np.inf, -np.inf):
        x = np.array([1, bad, 2], np.float32)
        e = testing.check_raises(CreateOperator("NanCheck", ["weights"], ["out"]), [x],
                                 EnforceError,
                                 re.escape("Tensor contained NaN or inf: [weights]"))
        assert "weights: [1]" in str(e)


def test_only_the_first_input_is_checked_and_in_place():
    good, bad = np.ones(2, np.float32), np.array([np.nan, 1], np.float32)
    testing.check_reference(CreateOperator("NanCheck", ["A", "B"], ["Y"]), [good, bad],
                            lambda a, b: [a])
    e = testing.check_raises(CreateOperator("NanCheck", ["B", "A"], ["Y"]), [bad, good],
                             EnforceError, "NaN or inf")
    assert "B: [0]" in str(e) and "A: []" in str(e)
    ws = Workspace()
    ws.feed_blob("X", good)
    ws.run_operator_once(CreateOperator("NanCheck", ["X"], ["X"]))
    np.testing.assert_array_equal(ws.fetch_blob("X"), good)
    testing.check_raises(CreateOperator("NanCheck", ["X"], ["Y"]), [np.ones(2, np.int32)],
                         DTypeError, "caller expects elements to be float while tensor "
                                     "contains int")


def test_gradient_is_a_nan_check():
    op = CreateOperator("NanCheck", ["X"], ["Y"])
    ops, _ = GradientRegistry.GetBackwardPass([op], {"Y": "Y_grad"})
    want = CreateOperator("NanCheck", ["Y_grad"], ["X_grad"])
    want.is_gradient_op = True
    assert [o.SerializeToString() for o in ops] == [want.SerializeToString()]
    testing.check_gradient(op, [np.array([0.5, -1.0])], 0)
