from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import ArgumentError, DTypeError
from caffe2lite.workspace import Workspace


@settings(max_examples=30, deadline=None)
@given(shape=st.lists(st.integers(0, 4), max_size=3), scale=st.floats(-4, 4, width=32),
       dtype=st.sampled_from([np.float32, np.float64]), seed=st.integers(0, 2**16))
def test_matches_naive_loop(shape, scale, dtype, seed):
    x = np.random.default_rng(seed).standard_normal(shape).astype(dtype)

    def naive(v):
        out = [dtype(scale) * dtype(e) for e in v.reshape(-1).tolist()]
        return [np.array(out, dtype=dtype).reshape(v.shape)]

    testing.check_reference(CreateOperator("Scale", ["X"], ["Y"], scale=scale), [x], naive,
                            atol=0, rtol=0)


def test_default_in_place_and_int_argument():
    ws = Workspace()
    ws.feed_blob("X", np.array([1, -2, 3], np.float32))
    ws.run_operator_once(CreateOperator("Scale", ["X"], ["X"]))
    np.testing.assert_array_equal(ws.fetch_blob("X"), [1, -2, 3])
    ws.run_operator_once(CreateOperator("Scale", ["X"], ["X"], scale=2))
    np.testing.assert_array_equal(ws.fetch_blob("X"), [2, -4, 6])


def test_errors():
    testing.check_raises(CreateOperator("Scale", ["X"], ["Y"]), [np.ones(2, np.int32)],
                         DTypeError, "Unsupported type of tensor: int")
    testing.check_raises(CreateOperator("Scale", ["X"], ["Y"], scale="2"),
                         [np.ones(2, np.float32)], ArgumentError,
                         "Argument scale does not have the right field: expected field f")


def test_numeric_gradient():
    x = np.array([[-1.3, 0.4, 2.0], [0.7, -0.2, -3.0]])
    testing.check_gradient(CreateOperator("Scale", ["X"], ["Y"], scale=-1.5), [x], 0)


def test_gradient_is_a_scale_op_with_the_same_scale():
    op = CreateOperator("Scale", ["X"], ["Y"], scale=2.0)
    ops, grads = GradientRegistry.GetBackwardPass([op], {"Y": "Y_grad"})
    want = CreateOperator("Scale", ["Y_grad"], ["X_grad"], scale=2.0)
    want.is_gradient_op = True
    assert [o.SerializeToString() for o in ops] == [want.SerializeToString()]
    assert str(grads["X"]) == "X_grad"


def test_shape_inference():
    from caffe2lite.inference import infer_op
    from caffe2lite.schema.shapes import TensorShape

    x = TensorShape((2, "N"), np.float64)
    assert infer_op(CreateOperator("Scale", ["X"], ["Y"], scale=3.0), [x]) == [x]
