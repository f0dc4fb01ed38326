"""Copy and CopyOnDeviceLike: the output is the input (Caffe2 copy_op).

On the CPU both are identities. Arrays stored in a workspace are never written in
place, so the output can share the input's array: nothing is copied.
"""

from __future__ import annotations

import numpy as np

from caffe2lite.errors import EnforceError
from caffe2lite.schema.example import Example
from caffe2lite.schema.shapes import same_as_input
from caffe2lite.schema.registry import (
    gradient_not_implemented_yet,
    register_cpu_operator,
    register_gradient,
)


def _tensor(x: object, blob: str) -> np.ndarray:
    if not isinstance(x, np.ndarray):
        raise EnforceError(
            "Copy works on tensors only",
            blob=blob,
            expected="a tensor",
            found=type(x).__name__,
        )
    return x


@register_cpu_operator(
    "Copy",
    inputs=["input"],
    outputs=["output"],
    shape=same_as_input(0),
    example=Example(
        {"input": np.array([[1.0, 2.0], [3.0, 4.0]], np.float32)},
        {"output": np.array([[1.0, 2.0], [3.0, 4.0]], np.float32)},
    ),
    doc="""Copy input tensor into output, potentially across devices (on the CPU: the
same type, shape and values).

Example: input=[[1., 2.], [3., 4.]] -> output=[[1., 2.], [3., 4.]]""",
)
def copy(x: np.ndarray) -> tuple[np.ndarray]:
    """The input, unchanged."""
    return (_tensor(x, "input"),)


@register_gradient("Copy")
def copy_gradient(g):
    """``CopyOnDeviceLike([output_grad, input]) -> [input_grad]``."""
    return [g.op_def("CopyOnDeviceLike", [g.GO(0), g.I(0)], [g.GI(0)])]


@register_cpu_operator(
    "CopyOnDeviceLike",
    inputs=["input", "dst"],
    outputs=["output"],
    shape=same_as_input(0),
    example=Example(
        {
            "input": np.array([1, 2], np.int64),
            "dst": np.array([0.0, 0.0, 0.0], np.float32),
        },
        {"output": np.array([1, 2], np.int64)},
    ),
    doc="""Copy input tensor into output to the specific device: the device of `dst`
(on the CPU: a copy of `input`; `dst` only names the device and is not read).
Copy's gradient operator.

Example: input=[1, 2], dst=[0., 0., 0.] -> output=[1, 2]""",
)
def copy_on_device_like(x: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray]:
    """The first input, unchanged."""
    return (_tensor(x, "input"),)


# Caffe2 registered no gradient maker for CopyOnDeviceLike: asking for one is an error.
gradient_not_implemented_yet("CopyOnDeviceLike")
