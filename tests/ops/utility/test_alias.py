from __future__ import annotations

import numpy as np

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import DTypeError
from caffe2lite.workspace import Workspace


def test_output_is_the_input():
    for x in [np.arange(24, dtype=np.float32).reshape(1, 2, 3, 4), np.array([b"a"], dtype=object),
              np.zeros((0, 3), np.int64), np.array(7)]:
        testing.check_reference(CreateOperator("Alias", ["X"], ["Y"]), [x], lambda v: [v])


def test_later_writes_to_the_input_do_not_reach_the_alias():
    ws = Workspace()
    ws.feed_blob("X", np.array([1.0, 2.0], np.float32))
    ws.run_operator_once(CreateOperator("Alias", ["X"], ["Y"]))
    ws.run_operator_once(CreateOperator("Scale", ["X"], ["X"], scale=3.0))
    np.testing.assert_array_equal(ws.fetch_blob("Y"), [1, 2])
    np.testing.assert_array_equal(ws.fetch_blob("X"), [3, 6])


def test_string_blob_is_not_a_tensor():
    testing.check_raises(CreateOperator("Alias", ["X"], ["Y"]), [b"text"], DTypeError,
                         "expected a tensor")


def test_gradient_passes_through():
    ops, grads = GradientRegistry.GetBackwardPass([CreateOperator("Alias", ["X"], ["Y"])],
                                                  {"Y": "Y_grad"})
    assert ops == []
    assert str(grads["X"]) == "Y_grad"
    testing.check_gradient(CreateOperator("Alias", ["X"], ["Y"]), [np.ones((2, 2))], 0)


def test_shape_inference():
    import numpy as np

    from caffe2lite.core import CreateOperator
    from caffe2lite.inference import infer_op
    from caffe2lite.schema.shapes import TensorShape

    x = TensorShape(("N", 3), np.int32)
    assert infer_op(CreateOperator("Alias", ["X"], ["Y"]), [x]) == [x]
