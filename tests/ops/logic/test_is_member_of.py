"""IsMemberOf against a loop over the elements and a Python set, with the case of
Caffe2's elementwise_logical_ops_test.py (test_is_member_of) and the value-type rules
of Caffe2's IsMemberOfOp."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import ArgumentError, DTypeError, GradientError
from caffe2lite.inference import infer_op
from caffe2lite.proto import caffe2_pb2
from caffe2lite.schema.shapes import TensorShape
from caffe2lite.workspace import Workspace

TP = caffe2_pb2.TensorProto


def naive(x, values):
    members = set(values)
    out = np.zeros(x.shape, bool)
    for idx in np.ndindex(*x.shape):
        out[idx] = x[idx].item() in members
    return [out]


@settings(max_examples=30, deadline=None)
@given(n=st.integers(0, 10), dtype=st.sampled_from([np.int32, np.int64]),
       seed=st.integers(0, 2**16))
def test_caffe2s_case_and_naive(n, dtype, seed):
    x = np.random.default_rng(seed).integers(10, size=n).astype(dtype)
    values = [0, 3, 4, 6, 8]
    op = CreateOperator("IsMemberOf", ["X"], ["Y"], value=np.array(values))
    testing.check_reference(op, [x], lambda x: naive(x, values))
    x2 = x.reshape(-1, 1) if n else np.zeros((0, 3), dtype)
    testing.check_reference(op, [x2], lambda x: naive(x, values))


def test_bool_and_string_inputs():
    op = CreateOperator("IsMemberOf", ["X"], ["Y"], value=[1])
    testing.check_reference(op, [np.array([True, False, True])],
                            lambda x: [np.array([True, False, True])])
    s = np.array([[b"a", b"bc"], [b"", b"a"]], dtype=object)
    op = CreateOperator("IsMemberOf", ["X"], ["Y"], value=["a", ""])
    testing.check_reference(op, [s], lambda x: [np.array([[True, False], [True, True]])])


def test_values_keep_their_type_as_in_caffe2():
    x32, x64 = np.array([1, 2], np.int32), np.array([1, 2], np.int64)
    # dtype fixes the values' type: an X of another type finds nothing
    op = CreateOperator("IsMemberOf", ["X"], ["Y"], value=[1], dtype=TP.INT32)
    testing.check_reference(op, [x32], lambda x: [np.array([True, False])])
    testing.check_reference(op, [x64], lambda x: [np.array([False, False])])
    # without dtype, the first run's type is kept for the op's life
    ws = Workspace()
    net = caffe2_pb2.NetDef(name="n", op=[CreateOperator("IsMemberOf", ["X"], ["Y"],
                                                         value=[2])])
    ws.feed_blob("X", x64)
    ws.create_net(net)
    ws.run_net("n")
    np.testing.assert_array_equal(ws.fetch_blob("Y"), [False, True])
    ws.feed_blob("X", x32)
    ws.run_net("n")
    np.testing.assert_array_equal(ws.fetch_blob("Y"), [False, False])
    # floats or a single value are not Caffe2's repeated ints: no values
    for value in (2, [2.0]):
        op = CreateOperator("IsMemberOf", ["X"], ["Y"], value=value)
        testing.check_reference(op, [x64], lambda x: [np.array([False, False])])


def test_errors_shape_and_gradient():
    op = CreateOperator("IsMemberOf", ["X"], ["Y"], value=[1])
    testing.check_raises(op, [np.ones(2, np.float32)], DTypeError,
                         "Unsupported type of tensor: float")
    bad = CreateOperator("IsMemberOf", ["X"], ["Y"], value=[1], dtype=TP.FLOAT)
    testing.check_raises(bad, [np.ones(2, np.int32)], ArgumentError,
                         "Unexpected 'dtype' argument value")
    assert infer_op(op, [TensorShape(("N", 3), np.int64)]) == [TensorShape(("N", 3), bool)]
    assert infer_op(op, [TensorShape(None, np.int64)]) == [TensorShape(None, bool)]
    with pytest.raises(GradientError):
        GradientRegistry.GetBackwardPass([op], {"Y": "Y_grad"})
