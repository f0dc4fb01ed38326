from __future__ import annotations

import numpy as np
import pytest

from caffe2lite import core, workspace
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import SchemaError
from caffe2lite.schema.registry import GRADIENTS, MAKER
from caffe2lite.workspace import Workspace


def test_forward_has_no_outputs():
    ws = Workspace()
    ws.feed_blob("x", np.array([1.0, 2.0], np.float32))
    ws.run_operator_once(CreateOperator("ZeroGradient", ["x"], []))
    assert sorted(ws.blobs) == ["x"]
    with pytest.raises(SchemaError, match="Output size 1 not in range"):
        ws.run_operator_once(CreateOperator("ZeroGradient", ["x"], ["y"]))


def test_maker_runs_without_output_gradients():
    assert GRADIENTS["ZeroGradient"].kind == MAKER
    ops = [
        CreateOperator("Sum", ["x"], ["y"]),
        CreateOperator("ZeroGradient", ["x"], []),
    ]
    grad_ops, grads = GradientRegistry.GetBackwardPass(ops, {})
    want = CreateOperator("ConstantFill", ["x"], ["x_grad"], value=0.0)
    want.is_gradient_op = True
    assert grad_ops == [want]
    assert grads == {"x": "x_grad"}


def test_gradient_op_copies_device_option_and_arguments():
    option = core.DeviceOption(0, 0, random_seed=3)
    op = CreateOperator("ZeroGradient", ["x"], [], device_option=option)
    (grad_op,), _ = GradientRegistry.GetBackwardPass([op], [])
    assert grad_op.device_option == option


@pytest.mark.skipif(
    not core.IsOperator("ConstantFill"), reason="ConstantFill not built yet"
)
def test_zero_gradient_runs_in_a_net():
    net = core.Net("zero_gradient_net")
    net.ZeroGradient(["x"], [])
    net.Sum(["x", "x"], ["y"])
    grads = net.AddGradientOperators({"y": "y_grad"})
    net.AddExternalInput("y_grad")  # a net that declares inputs must declare all
    workspace.ResetWorkspace()
    workspace.FeedBlob("x", np.array([1.0, 2.0], np.float32))
    workspace.FeedBlob("y_grad", np.array([3.0, 4.0], np.float32))
    workspace.RunNetOnce(net)
    np.testing.assert_array_equal(
        workspace.FetchBlob(grads["x"]), np.array([6.0, 8.0], np.float32)
    )


def test_shape_inference_has_no_outputs():
    import numpy as np

    from caffe2lite.core import CreateOperator
    from caffe2lite.inference import infer_op
    from caffe2lite.schema.shapes import TensorShape

    assert (
        infer_op(
            CreateOperator("ZeroGradient", ["X"], []), [TensorShape((2,), np.float32)]
        )
        == []
    )
