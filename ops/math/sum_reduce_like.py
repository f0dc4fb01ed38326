"""SumReduceLike: sum A down to B's shape (the reduction behind a legacy-broadcast
gradient)."""

from __future__ import annotations

import numpy as np

from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import (
    gradient_not_implemented_yet,
    register_cpu_operator,
)
from caffe2lite.schema.shapes import TensorShape

from .._dense import dispatch, tensor
from . import _elementwise as ew


def _shape(a: TensorShape, b: TensorShape) -> tuple[TensorShape]:
    """C has B's shape and A's type. (Caffe2's schema declared A's shape, which is not
    what its kernel produced.)"""
    return (TensorShape(b.dims, a.dtype),)


@register_cpu_operator(
    "SumReduceLike",
    inputs=["A", "B"],
    outputs=["C"],
    args=[a for a in ew.ARGS if a.name != "broadcast"],
    shape=_shape,
    example=Example({"A": np.array([[[1, 2], [3, 4], [5, 6]], [[7, 8], [9, 10], [11, 12]]],
                                   np.float32),
                     "B": np.zeros(3, np.float32)},
                    {"C": np.array([18, 26, 34], np.float32)}, {"axis": 1}),
    doc="""Sum A (float32 or float64) so that the result C looks like B: C has B's shape and
A's type. B is either a single element (C is then the sum of all of A) or its shape,
leading and trailing 1s dropped, is a contiguous run of A's dimensions starting at
``axis`` (or at the axis ``axis_str`` names in ``order``; by default the run ends at
A's last dimension), exactly as in legacy broadcasting; C sums A over every other
dimension. Only B's shape is read.""",
)
def sum_reduce_like(a: np.ndarray, b: np.ndarray, *, axis: int, axis_str: str,
                    order: str) -> tuple:
    """A summed over the dimensions outside B's run."""
    ax = ew.legacy_axis(axis, axis_str, order)
    dtype = dispatch(a, "A")
    tensor(b, "B")
    if b.size == 1:
        return (np.full(b.shape, np.sum(a, dtype=dtype), dtype),)
    pre, n, post = ew.legacy_sizes(a.shape, b.shape, ax)
    c = np.sum(a.reshape(pre, n, post), axis=(0, 2), dtype=dtype)
    return (np.asarray(c, dtype).reshape(b.shape),)


# Caffe2 registered no gradient for SumReduceLike: asking for one is an error.
gradient_not_implemented_yet("SumReduceLike")
