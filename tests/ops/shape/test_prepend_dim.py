"""PrependDim against a reshape written out index by index, with the case of Caffe2's
prepend_dim_test.py (forward and backward through DotProduct)."""

from __future__ import annotations

import numpy as np
import pytest

from caffe2lite import core, testing, workspace
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import ArgumentError, EnforceError, ShapeError
from caffe2lite.inference import infer_op
from caffe2lite.schema.shapes import TensorShape


def loop_prepend(x, k):
    out = np.empty((k, x.shape[0] // k) + x.shape[1:], x.dtype)
    flat = x.reshape(-1)
    for n, idx in enumerate(np.ndindex(*out.shape)):
        out[idx] = flat[n]
    return [out]


@pytest.mark.parametrize("shape,k", [((128, 2, 4), 8), ((6,), 3), ((0, 2), 4), ((5, 1), 5)])
def test_matches_loop_and_shape(shape, k):
    x = np.arange(int(np.prod(shape)), dtype=np.int64).reshape(shape)
    op = CreateOperator("PrependDim", ["data"], ["reshaped"], dim_size=k)
    got = testing.check_reference(op, [x], lambda x: loop_prepend(x, k), atol=0)
    assert infer_op(op, [TensorShape(shape, np.int64)]) == [TensorShape(got[0].shape,
                                                                         np.int64)]


def test_caffe2_fwd_bwd_and_gradient_op():
    # prepend_dim_test.py _test_fwd_bwd
    old_shape, new_shape = (128, 2, 4), (8, 16, 2, 4)
    rng = np.random.default_rng(0)
    X = rng.random(old_shape).astype(np.float32)
    Y = rng.random(new_shape).astype(np.float32)
    net = core.Net("net")
    net.GivenTensorFill([], "X", shape=old_shape, values=X.flatten())
    net.GivenTensorFill([], "Y", shape=new_shape, values=Y.flatten())
    net.PrependDim(["X"], ["X_out"], dim_size=8)
    net.DotProduct(["X_out", "Y"], "Z")
    net.AddGradientOperators(["Z"])
    workspace.RunNetOnce(net)
    assert workspace.FetchBlob("X_out").shape == Y.shape
    np.testing.assert_array_equal(workspace.FetchBlob("X_grad"), Y.reshape(old_shape))
    op = CreateOperator("PrependDim", ["X"], ["Y"], dim_size=8)
    ops, _ = GradientRegistry.GetBackwardPass([op], {"Y": "Y_grad"})
    assert [(o.type, list(o.input), list(o.output), len(o.arg)) for o in ops] == [
        ("MergeDim", ["Y_grad"], ["X_grad"], 0)]  # Caffe2 copied no arguments


def test_errors():
    op = CreateOperator("PrependDim", ["data"], ["r"], dim_size=4)
    testing.check_raises(op, [np.ones((6, 2))], EnforceError,
                         "First dimension must be multiple of prepend_dim. Current first "
                         "dimension: 6")
    testing.check_raises(op, [np.array(1.0)], ShapeError, "Input must be at least 1D.")
    testing.check_raises(CreateOperator("PrependDim", ["data"], ["r"]), [np.ones(2)],
                         ArgumentError, "Argument dim_size must be greater than zero.")
