"""Size: the number of elements of a tensor, as an int64 scalar."""

from __future__ import annotations

import numpy as np

from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import no_gradient, register_cpu_operator
from caffe2lite.schema.shapes import TensorShape

from .._dense import tensor


def _shape(x: TensorShape) -> tuple[TensorShape]:
    return (TensorShape((), np.int64),)


@register_cpu_operator(
    "Size",
    inputs=["X"],
    outputs=["size"],
    shape=_shape,
    example=Example({"X": np.zeros((3, 3), np.int32)}, {"size": np.array(9, np.int64)}),
    doc="""The number of elements of X (of any type) as a 0-D int64 tensor.

Example: X of shape (3, 3) -> size=9""",
)
def size(x: np.ndarray) -> tuple:
    """X.size as an int64 scalar tensor."""
    tensor(x, "X")
    return (np.array(x.size, dtype=np.int64),)


no_gradient("Size")
