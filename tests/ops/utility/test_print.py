from __future__ import annotations

import numpy as np
import pytest

from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import ArgumentError, EnforceError
from caffe2lite.schema.registry import GRADIENTS, SHOULD_NOT_DO
from caffe2lite.workspace import Workspace


def _print(value, capsys, **args):
    ws = Workspace()
    ws.feed_blob("t", value)
    ws.run_operator_once(CreateOperator("Print", ["t"], [], **args))
    assert sorted(ws.blobs) == ["t"]
    return capsys.readouterr().err


def naive_line(value, limit=1000):
    """The expected line, built value by value."""
    names = {
        "float32": "float",
        "float64": "double",
        "int32": "int",
        "int64": "long",
        "bool": "bool",
        "object": "std::string",
        "int8": "signed char",
        "uint8": "unsigned char",
    }
    line = f"Tensor t of type {names[str(value.dtype)]}. Dims: ("
    for d in value.shape:
        line += f"{d},"
    line += "): "
    parts = []
    for v in value.reshape(-1)[:limit].tolist():
        if isinstance(v, bool):
            parts.append(str(int(v)))
        elif isinstance(v, float):
            parts.append("%g" % v)
        elif isinstance(v, bytes):
            parts.append(v.decode())
        elif value.dtype.itemsize == 1:
            parts.append(chr(v % 256))
        else:
            parts.append(str(v))
    return line + ",".join(parts) + "\n"


@pytest.mark.parametrize(
    "value",
    [
        np.array([[1, 2.5], [3, 4e-7]], np.float32),
        np.array([1e10, -0.125, np.inf]),
        np.array([-3, 7], np.int32),
        np.array([[2**40]], np.int64),
        np.array([True, False]),
        np.array([65, 66], np.uint8),
        np.array([b"ab", b"c"], dtype=object),
        np.array(3.0),
    ],
)
def test_line_matches_naive_format(value, capsys):
    assert _print(value, capsys) == naive_line(value)


def test_limit_and_empty(capsys):
    x = np.arange(2000, dtype=np.float64)
    assert _print(x, capsys) == naive_line(x, 1000)
    assert _print(x, capsys, limit=3) == "Tensor t of type double. Dims: (2000,): 0,1,2\n"
    assert (
        _print(np.zeros((0, 3), np.float32), capsys)
        == "Tensor t of type float. Dims: (0,3,): \n"
    )


def test_string_blob(capsys):
    assert _print("hello", capsys) == "Blob of type: std::string\n"


def test_errors():
    ws = Workspace()
    ws.feed_blob("t", np.zeros(2, np.int16))
    with pytest.raises(EnforceError, match="Unsupported type of tensor: short"):
        ws.run_operator_once(CreateOperator("Print", ["t"], []))
    with pytest.raises(ArgumentError, match="every_n_ >= 1"):
        ws.run_operator_once(CreateOperator("Print", ["t"], [], every_n=0))
    with pytest.raises(ArgumentError, match="to_file is not supported"):
        ws.run_operator_once(CreateOperator("Print", ["t"], [], to_file=1))


def test_gradient_decision_is_never_triggered():
    assert GRADIENTS["Print"].kind == SHOULD_NOT_DO
    ops = [CreateOperator("Sum", ["x"], ["y"]), CreateOperator("Print", ["y"], [])]
    grad_ops, grads = GradientRegistry.GetBackwardPass(ops, {"y": "y_grad"})
    assert grad_ops == [] and grads == {"y": "y_grad", "x": "y_grad"}


def test_every_n_counts_runs_of_one_op_instance(capsys):
    from caffe2lite import core

    ws = Workspace()
    ws.feed_blob("t", np.array([1], np.int32))
    net = core.Net("printing")
    net.Print(["t"], [], every_n=2)
    ws.create_net(net)
    ws.run_net(net.Name(), num_iter=5)
    line = "Tensor t of type int. Dims: (1,): 1\n"
    assert capsys.readouterr().err == line * 3


def test_shape_inference_has_no_outputs():
    import numpy as np

    from caffe2lite.core import CreateOperator
    from caffe2lite.inference import infer_op
    from caffe2lite.schema.shapes import TensorShape

    assert (
        infer_op(CreateOperator("Print", ["X"], []), [TensorShape((2,), np.float32)])
        == []
    )
