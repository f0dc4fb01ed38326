"""IsEmpty: a bool scalar, True when the input tensor has no elements."""

from __future__ import annotations

import numpy as np

from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import (
    gradient_not_implemented_yet,
    register_cpu_operator,
)
from caffe2lite.schema.shapes import TensorShape

from .._dense import tensor


def is_empty_shape(x: TensorShape) -> tuple[TensorShape]:
    """A bool scalar, whatever the input (Caffe2's ScalarType(BOOL))."""
    return (TensorShape((), np.bool_),)


@register_cpu_operator(
    "IsEmpty",
    inputs=["tensor"],
    outputs=["is_empty"],
    shape=is_empty_shape,
    example=Example(
        {"tensor": np.zeros((2, 0), np.float32)}, {"is_empty": np.array(True)}
    ),
    doc="""A 0-d bool tensor: True if and only if `tensor` (of any type and shape) has no
elements, that is size 0. A 0-d tensor holds one element, so it is not empty. The
input must be a tensor. Caffe2 registered no gradient for IsEmpty: asking for one
is an error.""",
)
def is_empty(x: np.ndarray) -> tuple[np.ndarray]:
    """size(tensor) == 0, as a bool scalar."""
    tensor(x, "tensor")
    return (np.array(x.size == 0),)


# Caffe2 registered no gradient maker for IsEmpty: asking for one is an error.
gradient_not_implemented_yet("IsEmpty")
