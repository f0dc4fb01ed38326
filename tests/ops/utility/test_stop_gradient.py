from __future__ import annotations

import numpy as np
import pytest

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import GradientValueError
from caffe2lite.schema.registry import GRADIENTS, NO_GRADIENT
from caffe2lite.workspace import Workspace


@pytest.mark.parametrize(
    "value",
    [
        np.array([1.5, -2.0], np.float32),
        np.arange(6, dtype=np.int64).reshape(2, 3),
        np.array([b"a", b"bc"], dtype=object),
        np.zeros((0, 4), np.float64),
        np.array(True),
    ],
)
def test_identity_for_any_type_and_shape(value):
    testing.check_reference(
        CreateOperator("StopGradient", ["x"], ["y"]),
        [value],
        lambda v: [v],
        atol=0,
        rtol=0,
    )


def test_in_place():
    ws = Workspace()
    ws.feed_blob("x", np.array([1.5, -2.0], np.float32))
    ws.run_operator_once(CreateOperator("StopGradient", ["x"], ["x"]))
    np.testing.assert_array_equal(ws.fetch_blob("x"), np.array([1.5, -2.0], np.float32))


def test_gradient_decision_and_backward_pass():
    assert GRADIENTS["StopGradient"].kind == NO_GRADIENT
    ops = [
        CreateOperator("Sum", ["a", "b"], ["h"]),
        CreateOperator("StopGradient", ["h"], ["h"]),
        CreateOperator("Sum", ["h", "c"], ["out"]),
    ]
    grad_ops, grads = GradientRegistry.GetBackwardPass(ops, {"out": "out_grad"})
    assert grad_ops == []
    assert grads == {"out": "out_grad", "c": "out_grad"}


def test_orphan_output_is_rejected():
    ops = [
        CreateOperator("StopGradient", ["h"], ["unused"]),
        CreateOperator("Sum", ["h"], ["out"]),
    ]
    with pytest.raises(
        GradientValueError, match="StopGradient's output 'unused' is orphan."
    ):
        GradientRegistry.GetBackwardPass(ops, ["out"])


def test_shape_inference():
    import numpy as np

    from caffe2lite.core import CreateOperator
    from caffe2lite.inference import infer_op
    from caffe2lite.schema.shapes import TensorShape

    x = TensorShape(("N", 3), np.int32)
    assert infer_op(CreateOperator("StopGradient", ["X"], ["Y"]), [x]) == [x]
