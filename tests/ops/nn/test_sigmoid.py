from __future__ import annotations

import math
import re

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import DTypeError, ShapeError
from caffe2lite.workspace import Workspace


def naive_sigmoid(x):
    out = []
    for v in x.reshape(-1).tolist():
        out.append(1.0 / (1.0 + math.exp(-v)) if v > -700 else 0.0)
    return [np.array(out, dtype=x.dtype).reshape(x.shape)]


@settings(max_examples=30, deadline=None)
@given(shape=st.lists(st.integers(0, 4), max_size=3),
       dtype=st.sampled_from([np.float32, np.float64]), seed=st.integers(0, 2**16))
def test_matches_naive_loop(shape, dtype, seed):
    rng = np.random.default_rng(seed)
    x = np.asarray(4 * rng.standard_normal(shape), dtype=dtype)
    testing.check_reference(CreateOperator("Sigmoid", ["X"], ["Y"]), [x], naive_sigmoid,
                            atol=1e-6, rtol=1e-6)
    y, dy = naive_sigmoid(x)[0], rng.standard_normal(shape).astype(dtype)
    naive = [np.array([g * v * (1 - v) for v, g in zip(y.reshape(-1).tolist(),
                                                       dy.reshape(-1).tolist())],
                      dtype=dtype).reshape(shape)]
    testing.check_reference(CreateOperator("SigmoidGradient", ["Y", "dY"], ["dX"]), [y, dy],
                            lambda *a: naive, atol=1e-6, rtol=1e-6)


def test_extremes_scalar_and_in_place():
    x = np.array([-1000, -30, 0, 30, 1000], np.float32)
    testing.check_reference(CreateOperator("Sigmoid", ["X"], ["Y"]), [x], naive_sigmoid)
    testing.check_reference(CreateOperator("Sigmoid", ["X"], ["Y"]), [np.array(0.0)],
                            lambda x: [np.array(0.5)])
    ws = Workspace()
    ws.feed_blob("X", np.array([0.0], np.float32))
    ws.run_operator_once(CreateOperator("Sigmoid", ["X"], ["X"]))
    np.testing.assert_array_equal(ws.fetch_blob("X"), [0.5])


def test_errors():
    testing.check_raises(CreateOperator("Sigmoid", ["X"], ["Y"]), [np.ones(2, np.int64)],
                         DTypeError, "Unsupported type of tensor: long")
    testing.check_raises(CreateOperator("SigmoidGradient", ["Y", "dY"], ["dX"]),
                         [np.ones((2, 1), np.float32), np.ones(2, np.float32)], ShapeError,
                         re.escape("Y.sizes() == dY.sizes()"))


def test_numeric_gradient():
    x = np.array([[-1.3, 0.4, 2.0], [0.7, -0.2, -3.0]])
    testing.check_gradient(CreateOperator("Sigmoid", ["X"], ["Y"]), [x], 0)


def test_gradient_ops_list():
    ops, _ = GradientRegistry.GetBackwardPass([CreateOperator("Sigmoid", ["X"], ["Y"])],
                                              {"Y": "Y_grad"})
    want = CreateOperator("SigmoidGradient", ["Y", "Y_grad"], ["X_grad"])
    want.is_gradient_op = True
    assert [o.SerializeToString() for o in ops] == [want.SerializeToString()]


def test_shape_inference():
    from caffe2lite.inference import infer_op, op_cost
    from caffe2lite.schema.shapes import Cost, TensorShape

    x = TensorShape(("N", 3), np.float64)
    op = CreateOperator("Sigmoid", ["X"], ["Y"])
    assert infer_op(op, [x]) == [x]
    grad = CreateOperator("SigmoidGradient", ["Y", "dY"], ["dX"])
    assert infer_op(grad, [x, x]) == [x]
    # Caffe2 gave Sigmoid no cost function: the generic estimate
    known = TensorShape((2, 3), np.float64)
    assert op_cost(op, [known]) == Cost(6, 48, 48, 0)
