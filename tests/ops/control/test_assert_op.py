from __future__ import annotations

import re

import numpy as np
import pytest

from caffe2lite import testing
from caffe2lite.core import CreateOperator
from caffe2lite.errors import DTypeError, EnforceError


def naive_first_false(x):
    for i, v in enumerate(x.reshape(-1).tolist()):
        if not v:
            return i, int(v)
    return None


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.bool_])
def test_passes_and_fails_like_a_loop(dtype):
    # assert_op_test.py: test_assert (random tensors of bool / int / long)
    rng = np.random.default_rng(0)
    op = CreateOperator("Assert", ["X"], [], error_msg="custom")
    for _ in range(20):
        x = rng.integers(0, 3, rng.integers(0, 5, 2)).astype(dtype)
        first = naive_first_false(x)
        if first is None:
            testing.check_reference(op, [x], lambda x: [])
        else:
            i, v = first
            testing.check_raises(op, [x], EnforceError, re.escape(
                f"Assert failed for element {i} in tensor, value: {v}\nError message: custom"))


def test_message_without_error_msg_and_dtypes():
    op = CreateOperator("Assert", ["X"], [])
    err = testing.check_raises(op, [np.array([True, False])], EnforceError,
                               re.escape("(bool)cmp_data[i]. Assert failed for element 1 in "
                                         "tensor, value: 0"))
    assert "Error message" not in str(err)
    testing.check_raises(op, [np.ones(2, np.float32)], DTypeError,
                         "Unsupported type of tensor: float")
    testing.check_reference(op, [np.array(5, np.int64)], lambda x: [])
