from __future__ import annotations

import numpy as np
import pytest

from caffe2lite.schema import registry
from caffe2lite.core import CreateOperator
from caffe2lite.errors import EnforceError, GradientError, SchemaError
from caffe2lite.gradient.backward import GradientRegistry
from caffe2lite.proto import caffe2_pb2
from caffe2lite.testing import check_gradient, check_raises, check_reference
from caffe2lite.workspace import Workspace


def element_copy(x):
    """A new array of the same type and shape, filled element by element."""
    out = np.empty(x.shape, dtype=x.dtype)
    for index in np.ndindex(*x.shape):
        out[index] = x[index]
    return out


@pytest.mark.parametrize(
    "x",
    [
        np.arange(6, dtype=np.float32).reshape(2, 3),
        np.array([1, -2], dtype=np.int64),
        np.array(3.5),
        np.zeros((0, 2), np.int32),
        np.array([True, False]),
        np.array([b"a", b"bc"], dtype=object),
    ],
)
def test_copy_keeps_type_shape_and_values(x):
    check_reference(
        CreateOperator("Copy", ["X"], ["Y"]), [x], lambda a: [element_copy(a)]
    )
    check_reference(
        CreateOperator("CopyOnDeviceLike", ["X", "D"], ["Y"]),
        [x, np.zeros(3)],
        lambda a, d: [element_copy(a)],
    )


def test_the_output_is_independent_of_later_feeds():
    ws = Workspace()
    ws.feed_blob("X", np.array([1, 2]))
    ws.run_operator_once(CreateOperator("Copy", ["X"], ["Y"]))
    ws.feed_blob("X", np.array([5, 6]))
    np.testing.assert_array_equal(ws.fetch_blob("Y"), [1, 2])


def net_of(op, **feeds):
    net = caffe2_pb2.NetDef(name="copy")
    net.op.append(op)
    return net, feeds


def test_schema_errors():
    net, feeds = net_of(CreateOperator("Copy", ["X"], ["X"]), X=np.zeros(2))
    check_raises(
        net,
        feeds,
        SchemaError,
        "Input index 0 and output idx 0 \\(X\\) are set to be "
        "in-place but this is actually not supported by op Copy",
    )
    net, feeds = net_of(CreateOperator("CopyOnDeviceLike", ["X"], ["Y"]), X=np.zeros(2))
    check_raises(net, feeds, SchemaError, r"Input size 1 not in range \[min=2, max=2\]")
    net, feeds = net_of(CreateOperator("Copy", ["X"], ["Y", "Z"]), X=np.zeros(2))
    check_raises(
        net, feeds, SchemaError, r"Output size 2 not in range \[min=1, max=1\]"
    )


def test_a_string_blob_is_not_a_tensor():
    net, feeds = net_of(CreateOperator("Copy", ["X"], ["Y"]), X="text", Y=np.zeros(1))
    err = check_raises(net, feeds, EnforceError, "Copy works on tensors only")
    assert err.found == "bytes"


def test_gradient_is_copy_on_device_like():
    op = CreateOperator("Copy", ["X"], ["Y"])
    grad_ops, grads = GradientRegistry.GetBackwardPass([op], {"Y": "Y_grad"})
    assert [(g.type, list(g.input), list(g.output)) for g in grad_ops] == [
        ("CopyOnDeviceLike", ["Y_grad", "X"], ["X_grad"])
    ]
    assert grad_ops[0].is_gradient_op
    assert str(grads["X"]) == "X_grad"
    check_gradient(op, [np.random.default_rng(0).normal(size=(3, 4))], 0)


def test_copy_on_device_like_has_no_gradient_maker():
    assert (
        registry.gradient_entry("CopyOnDeviceLike").kind == registry.NOT_IMPLEMENTED_YET
    )
    op = CreateOperator("CopyOnDeviceLike", ["X", "D"], ["Y"])
    with pytest.raises(GradientError, match="CopyOnDeviceLike"):
        GradientRegistry.GetBackwardPass([op], {"Y": "Y_grad"})


@pytest.mark.parametrize("op_type", ["Copy", "CopyOnDeviceLike"])
def test_documented(op_type):
    assert "Example:" in registry.lookup(op_type).doc


def test_shape_inference():
    import numpy as np

    from caffe2lite.core import CreateOperator
    from caffe2lite.inference import infer_op
    from caffe2lite.schema.shapes import TensorShape

    x = TensorShape(("N", 3), np.int32)
    assert infer_op(CreateOperator("Copy", ["X"], ["Y"]), [x]) == [x]


def test_copy_on_device_like_shape_is_the_input_s():
    import numpy as np

    from caffe2lite.core import CreateOperator
    from caffe2lite.inference import infer_op
    from caffe2lite.schema.shapes import TensorShape

    x, dst = TensorShape((2,), np.int64), TensorShape((3,), np.float32)
    assert infer_op(
        CreateOperator("CopyOnDeviceLike", ["X", "D"], ["Y"]), [x, dst]
    ) == [x]
