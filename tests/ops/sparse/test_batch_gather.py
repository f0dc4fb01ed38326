from __future__ import annotations

import numpy as np
import pytest

from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import EnforceError
from caffe2lite.testing import check_gradient, check_raises, check_reference


def naive_gather_axis(data, indices, axis):
    """Loop over every output position, reading DATA by hand."""
    out_shape = data.shape[:axis] + indices.shape + data.shape[axis + 1:]
    out = np.zeros(out_shape, data.dtype)
    for pos in np.ndindex(*out_shape):
        before, idx, after = pos[:axis], pos[axis:axis + indices.ndim], pos[axis + indices.ndim:]
        out[pos] = data[before + (indices[idx],) + after]
    return out


def naive_gradient(data, indices, grad, axis):
    out = np.zeros_like(data, dtype=grad.dtype)
    for pos in np.ndindex(*grad.shape):
        before, idx, after = pos[:axis], pos[axis:axis + indices.ndim], pos[axis + indices.ndim:]
        out[before + (indices[idx],) + after] += grad[pos]
    return out


def test_batch_gather_matches_naive_loop():
    data = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    indices = np.array([[2, 0], [1, 1]], dtype=np.int64)
    op = CreateOperator("BatchGather", ["D", "I"], ["O"])
    check_reference(op, [data, indices], lambda d, i: [naive_gather_axis(d, i, 1)])
    op2 = CreateOperator("BatchGather", ["D", "I"], ["O"], axis=2)
    check_reference(op2, [data, indices], lambda d, i: [naive_gather_axis(d, i, 2)])


def test_doc_example():
    op = CreateOperator("BatchGather", ["D", "I"], ["O"])
    data = np.array([[1, 2, 3], [4, 5, 6]], np.int32)
    check_reference(op, [data, np.array([2, 0], np.int32)],
                    lambda d, i: [np.array([[3, 1], [6, 4]], np.int32)])


def test_gradient_op_accumulates_repeats():
    data = np.zeros((2, 3), np.float32)
    indices = np.array([2, 2], np.int32)
    grad = np.array([[1, 2], [3, 4]], np.float32)
    op = CreateOperator("BatchGatherGradient", ["D", "I", "G"], ["DG"], axis=1)
    check_reference(op, [data, indices, grad],
                    lambda d, i, g: [np.array([[0, 0, 3], [0, 0, 7]], np.float32)])
    rng = np.random.default_rng(0)
    data3 = rng.random((3, 4, 2))
    idx = rng.integers(0, 4, size=(2, 3))
    g3 = rng.random((3, 2, 3, 2))
    check_reference(op, [data3, idx, g3], lambda d, i, g: [naive_gradient(d, i, g, 1)])


def test_gradient_errors():
    op = CreateOperator("BatchGatherGradient", ["D", "I", "G"], ["DG"], axis=1)
    check_raises(op, [np.zeros((2, 3)), np.array([3]), np.zeros((2, 1))], EnforceError,
                 r"INDICES element is out of DATA bounds, id=3 axis_dim=3")
    check_raises(op, [np.zeros((2, 3)), np.array([1]), np.zeros((2, 2))], EnforceError,
                 r"GRAD must have the shape of the gather's output")


@pytest.mark.parametrize("forward", ["BatchGather", "Gather"])
def test_numeric_gradient_through_the_registry(forward):
    rng = np.random.default_rng(1)
    data = rng.random((3, 4))
    indices = np.array([1, 3, 1], np.int64)
    op = CreateOperator(forward, ["D", "I"], ["O"], axis=1)
    check_gradient(op, [data, indices], 0)
    ops, grads = GradientRegistry.GetBackwardPass([op], {"O": "O_grad"})
    assert [o.type for o in ops] == ["BatchGatherGradient"]
    assert list(ops[0].input) == ["D", "I", "O_grad"] and grads["D"] == "D_grad"


def test_shape_inference():
    import numpy as np

    from caffe2lite.core import CreateOperator
    from caffe2lite.inference import infer_op
    from caffe2lite.schema.shapes import TensorShape

    f8, i4 = np.dtype(np.float64), np.dtype(np.int32)
    data = TensorShape((2, 5, 3), f8)
    op = CreateOperator("BatchGather", ["D", "I"], ["O"])
    # DATA's type (Caffe2's inference said FLOAT whatever DATA held)
    assert infer_op(op, [data, TensorShape((4,), i4)]) == [TensorShape((2, 4, 3), f8)]
    grad = CreateOperator("BatchGatherGradient", ["D", "I", "G"], ["dD"])
    assert infer_op(
        grad, [data, TensorShape((4,), i4), TensorShape((2, 4, 3), f8)]
    ) == [data]
