"""LengthsToShape: the shape [N, L] of the matrix that N vectors of one length L
make, from their int32 lengths."""

from __future__ import annotations

import numpy as np

from caffe2lite.errors import EnforceError
from caffe2lite.schema.checks import check_dtype, check_ndim
from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import register_cpu_operator, should_not_do_gradient
from caffe2lite.schema.shapes import TensorShape


def _shape(x: TensorShape) -> tuple[TensorShape]:
    """Two int32 values, whatever the input (Caffe2 declared no inference function)."""
    return (TensorShape((2,), np.int32),)


@register_cpu_operator(
    "LengthsToShape",
    inputs=["X"],
    outputs=["Y"],
    shape=_shape,
    example=Example({"X": np.array([2, 2, 2, 2, 2, 2, 2, 2, 2, 2], np.int32)},
                    {"Y": np.array([10, 2], np.int32)}),
    doc="""From X, a vector of N equal int32 lengths L, the int32 shape Y = [N, L] of
the matrix those N vectors make (a shape to pass to Reshape). Lengths that differ are
an error. An empty X is an error here (Caffe2 read a first length that was not there).

Example: X=[2, 2, 2, 2, 2, 2, 2, 2, 2, 2] -> Y=[10, 2]""",
)
def lengths_to_shape(x: np.ndarray) -> tuple:
    """[len(X), X[0]] once every length is checked to equal the first."""
    check_dtype(x, "X", np.int32)
    check_ndim(x, "X", 1, "Input must be a vector.")
    if x.size == 0:
        raise EnforceError("LengthsToShape needs at least one length (Caffe2 read past the "
                           "end of an empty input)", blob="X", expected="1 or more lengths",
                           found=0)
    if np.any(x != x[0]):
        raise EnforceError("All elements of input must be same ", blob="X",
                           expected=f"every length equal to {int(x[0])}",
                           found=x.tolist())
    return (np.array([x.size, x[0]], np.int32),)


should_not_do_gradient("LengthsToShape")
