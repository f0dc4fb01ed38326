"""Transpose: permute the axes of a tensor (reverse them by default); its gradient is
a Transpose by the inverse permutation."""

from __future__ import annotations

import numpy as np

from caffe2lite.errors import ShapeError
from caffe2lite.schema.example import Example
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.registry import register_cpu_operator, register_gradient
from caffe2lite.schema.shapes import TensorShape

from .._dense import NUMERIC, dispatch, enforce_cmp

_AXES = Arg("axes", "ints", [], doc="the permutation (default: reverse the axes)",
            check=lambda axes: sorted(axes) == list(range(len(axes))),
            check_message="Axes should be a permutation of 0 to ndim.",
            expected="a permutation of 0..n-1")


def _shape(x: TensorShape, *, axes: list[int]) -> tuple[TensorShape]:
    if x.dims is None:
        return (TensorShape(None, x.dtype),)
    if not axes:
        return (TensorShape(tuple(reversed(x.dims)), x.dtype),)
    if not all(0 <= a < len(x.dims) for a in axes):
        raise ShapeError("Axes argument passed in had invalid values", arg="axes",
                         expected=f"axes in [0, {len(x.dims)})", found=axes)
    if len(axes) != len(x.dims):
        raise ShapeError("Axes argument passed in had the incorrect size", arg="axes",
                         expected=f"{len(x.dims)} axes", found=axes)
    return (TensorShape(tuple(x.dims[a] for a in axes), x.dtype),)


@register_cpu_operator(
    "Transpose",
    inputs=["X"],
    outputs=["Y"],
    args=[_AXES],
    shape=_shape,
    example=Example({"X": np.arange(6, dtype=np.float32).reshape(1, 2, 3)},
                    {"Y": np.arange(6, dtype=np.float32).reshape(1, 2, 3).transpose(1, 0, 2)},
                    {"axes": [1, 0, 2]}),
    doc="""Permute the axes of X (float32, float64, int32 or int64) like
numpy.transpose: Y.shape[i] = X.shape[axes[i]]. Without ``axes`` the axes are
reversed; otherwise ``axes`` must be a permutation of 0..rank-1.

Example: X of shape (1, 2, 3) = [[[0, 1, 2], [3, 4, 5]]] with axes=[1, 0, 2] ->
Y of shape (2, 1, 3) = [[[0, 1, 2]], [[3, 4, 5]]]""",
)
def transpose(x: np.ndarray, *, axes: list[int]) -> tuple:
    """np.transpose, copied into a contiguous array as Caffe2's output was."""
    dispatch(x, "X", NUMERIC)
    if axes:
        enforce_cmp(x.ndim == len(axes), "ndim == axes_.size()", x.ndim, len(axes), blob="X")
    return (np.transpose(x, axes or None).copy(),)


@register_gradient("Transpose", copy_arguments=False)
def transpose_gradient_maker(g):
    """``Transpose([Y_grad]) -> [X_grad]`` with the forward arguments, ``axes`` replaced
    by its inverse permutation."""
    op = g.op_def("Transpose", [g.GO(0)], [g.GI(0)])
    for arg in g.def_.arg:
        copy = op.arg.add()
        copy.CopyFrom(arg)
        if arg.name == "axes":
            inverse = [0] * len(arg.ints)
            for i, a in enumerate(arg.ints):
                inverse[a] = i
            del copy.ints[:]
            copy.ints.extend(inverse)
    return [op]

