"""SumReduceLike: A summed down to B's shape under the legacy broadcasting rules, against
a naive loop; axis_str, a single-element B, errors and the gradient decision."""

from __future__ import annotations

import re

import numpy as np
import pytest

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import DTypeError, EnforceError, GradientError, ShapeError
from caffe2lite.inference import infer_op
from caffe2lite.schema.shapes import TensorShape


def naive(a, b, start):
    """Every element of A added into the element of B its run of dimensions meets."""
    core = list(b.shape)
    lead = 0
    while core and core[0] == 1:
        core.pop(0)
        lead += 1
    while core and core[-1] == 1:
        core.pop()
    out = np.zeros(core, np.float64)
    s = start + lead
    for idx in np.ndindex(*a.shape):
        out[idx[s:s + len(core)]] += a[idx]
    return [out.astype(a.dtype).reshape(b.shape)]


CASES = [  # (A shape, B shape, axis, where B's run starts): Caffe2's doc list and more
    ((2, 3, 4, 5), (4, 5), -1, 2), ((2, 3, 4, 5), (3, 4), 1, 1), ((2, 3, 2, 5), (2,), 0, 0),
    ((2, 3, 4, 5), (5,), -1, 3), ((2, 3, 4), (1, 3, 1), 0, 0), ((2, 3), (2, 3), -1, 0),
    ((0, 3), (3,), -1, 1), ((2, 3, 4), (1, 3, 4), 0, 0),
]


@pytest.mark.parametrize("a_shape,b_shape,axis,start", CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matches_naive_loop(a_shape, b_shape, axis, start, dtype):
    rng = np.random.default_rng(len(a_shape) + len(b_shape))
    a = rng.standard_normal(a_shape).astype(dtype)
    b = np.zeros(b_shape, np.float32)  # only B's shape is read (its type too is free)
    op = CreateOperator("SumReduceLike", ["A", "B"], ["C"], axis=axis)
    testing.check_reference(op, [a, b], lambda a, b: naive(a, b, start), atol=1e-5)


def test_single_element_b_and_axis_str():
    a = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    testing.check_reference(CreateOperator("SumReduceLike", ["A", "B"], ["C"]),
                            [a, np.zeros((1, 1), np.float32)],
                            lambda a, b: [np.array([[276]], np.float32)])
    testing.check_reference(CreateOperator("SumReduceLike", ["A", "B"], ["C"]),
                            [a, np.zeros((), np.float32)], lambda a, b: [np.array(276.0, np.float32)])
    x = np.ones((2, 3, 4, 5), np.float32)
    op = CreateOperator("SumReduceLike", ["A", "B"], ["C"], axis_str="C")
    testing.check_reference(op, [x, np.zeros(3, np.float32)],
                            lambda a, b: [np.full(3, 40, np.float32)])
    op = CreateOperator("SumReduceLike", ["A", "B"], ["C"], axis_str="C", order="NHWC")
    testing.check_reference(op, [x, np.zeros(5, np.float32)],
                            lambda a, b: [np.full(5, 24, np.float32)])
    assert infer_op(op, [TensorShape((2, 3, 4, 5), np.float32),
                         TensorShape((5,), np.int64)]) == [TensorShape((5,), np.float32)]


def test_errors_and_gradient_decision():
    a = np.ones((2, 3), np.float32)
    op = CreateOperator("SumReduceLike", ["A", "B"], ["C"])
    testing.check_raises(op, [a, np.ones(2, np.float32)], ShapeError,
                         re.escape("A.size(i + axis) == B.size(i). 3 vs 2. Broadcast dimension "
                                   "mismatch."))
    testing.check_raises(op, [np.ones(3, np.float32), np.ones((2, 3), np.float32)],
                         ShapeError, "input1 should have a smaller or equal number of "
                                     "dimensions")
    testing.check_raises(op, [np.ones((2, 3), np.int32), np.ones(3, np.int32)], DTypeError,
                         "Unsupported type of tensor: int")
    both = CreateOperator("SumReduceLike", ["A", "B"], ["C"], axis=0, axis_str="N")
    testing.check_raises(both, [a, np.ones(2, np.float32)], EnforceError,
                         "Args axis and axis_str cannot be used simultaneously.")
    with pytest.raises(GradientError):
        GradientRegistry.GetBackwardPass([op], {"C": "C_grad"})


def test_caffe2_broadcast_test_cases():
    # elementwise_op_broadcast_test.py: test_sum_reduce (which also passes broadcast=1,
    # an argument SumReduceLike ignores) and test_sum_reduce_empty_blob.
    rng = np.random.default_rng(7)
    x = rng.random((2, 3, 4, 5)).astype(np.float32)
    cases = [((4, 5), {}, x.sum(axis=(0, 1))), ((2, 3), {"axis": 0}, x.sum(axis=(2, 3))),
             ((3, 4), {"axis": 1}, x.sum(axis=(0, 3))),
             ((1, 3, 4, 1), {}, x.sum(axis=(0, 3)).reshape(1, 3, 4, 1))]
    for b_shape, kw, want in cases:
        op = CreateOperator("SumReduceLike", ["X", "Y"], ["out"], broadcast=1, **kw)
        testing.check_reference(op, [x, np.zeros(b_shape, np.float32)],
                                lambda a, b, want=want: [want], atol=1e-5)
    big = rng.random((2, 3, 4, 500))
    testing.check_reference(CreateOperator("SumReduceLike", ["X", "Y"], ["out"], broadcast=1),
                            [big, np.zeros(1)], lambda a, b: [np.array([big.sum()])], rtol=1e-12)
    testing.check_reference(CreateOperator("SumReduceLike", ["X", "Y"], ["out"], axis=0),
                            [np.zeros((2, 0, 5), np.float32), np.zeros((2, 0), np.float32)],
                            lambda a, b: [np.zeros((2, 0), np.float32)])
