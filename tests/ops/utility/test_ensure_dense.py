from __future__ import annotations

import numpy as np

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import ShapeError
from caffe2lite.gradient.backward import GradientSlice
from caffe2lite.workspace import Workspace


def test_identity_in_place_and_error():
    op = CreateOperator("EnsureDense", ["X"], ["Y"])
    x = np.arange(6, dtype=np.int64).reshape(2, 3)
    testing.check_reference(op, [x], lambda a: [a], atol=0)
    ws = Workspace()
    ws.feed_blob("X", x)
    ws.run_operator_once(CreateOperator("EnsureDense", ["X"], ["X"]))
    np.testing.assert_array_equal(ws.fetch_blob("X"), x)
    testing.check_raises(
        op, [np.array(1.0)], ShapeError, "Input has to be at least a vector."
    )


def test_dense_gradient_passes_through():
    op = CreateOperator("EnsureDense", ["X"], ["Y"])
    ops, grads = GradientRegistry.GetBackwardPass([op], {"Y": "Y_grad"})
    assert ops == [] and str(grads["X"]) == "Y_grad"
    testing.check_gradient(op, [np.array([[1.0, -2.0], [0.5, 3.0]])], 0)


def test_sparse_gradient_becomes_dense():
    op = CreateOperator("EnsureDense", ["X"], ["Y"])
    ops, grads = GradientRegistry.GetBackwardPass(
        [op], {"Y": GradientSlice("Y_grad_indices", "Y_grad_values")}
    )
    want = CreateOperator(
        "SparseToDense", ["Y_grad_indices", "Y_grad_values", "X"], ["X_grad"]
    )
    want.is_gradient_op = True
    assert [o.SerializeToString() for o in ops] == [want.SerializeToString()]
    assert str(grads["X"]) == "X_grad"
    ws = Workspace()
    ws.feed_blob("X", np.zeros((4, 2), np.float32))
    ws.feed_blob("Y_grad_indices", np.array([3, 0, 3]))
    ws.feed_blob("Y_grad_values", np.array([[1, 2], [3, 4], [5, 6]], np.float32))
    ws.run_operator_once(ops[0])
    np.testing.assert_array_equal(
        ws.fetch_blob("X_grad"), [[3, 4], [0, 0], [0, 0], [6, 8]]
    )


def test_sparse_gather_gradient_through_ensure_dense():
    # Gather's slice gradient reaches EnsureDense's input as a dense tensor.
    gather = CreateOperator("Gather", ["T", "I"], ["G"])
    ensure = CreateOperator("EnsureDense", ["T0"], ["T"])
    ops, grads = GradientRegistry.GetBackwardPass([ensure, gather], {"G": "G_grad"})
    assert [o.type for o in ops] == ["SparseToDense"]
    assert list(ops[0].input) == ["I", "G_grad", "T0"] and str(grads["T0"]) == "T0_grad"


def test_shape_inference():
    import numpy as np

    from caffe2lite.core import CreateOperator
    from caffe2lite.inference import infer_op
    from caffe2lite.schema.shapes import TensorShape

    x = TensorShape(("N", 3), np.int32)
    assert infer_op(CreateOperator("EnsureDense", ["X"], ["Y"]), [x]) == [x]
