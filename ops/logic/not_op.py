"""Not: Y = not X, element-wise on a bool tensor."""

from __future__ import annotations

import numpy as np

from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import register_cpu_operator, should_not_do_gradient
from caffe2lite.schema.shapes import same_as_input

from .._dense import dispatch
from ._binary import BOOL


@register_cpu_operator(
    "Not",
    inputs=["X"],
    outputs=["Y"],
    shape=same_as_input(0),
    example=Example(
        {"X": np.array([[True, False], [False, True]])},
        {"Y": np.array([[False, True], [True, False]])},
    ),
    doc="""Element-wise logical negation of a bool tensor: Y = not X, same shape (any
other type is "Unsupported type of tensor"). No in-place use. Asking for its gradient
is an error (SHOULD_NOT_DO).""",
)
def not_(x: np.ndarray) -> tuple[np.ndarray]:
    """not X element-wise."""
    dispatch(x, "X", BOOL)
    return (np.logical_not(x) if x.ndim else np.asarray(np.logical_not(x)),)


should_not_do_gradient("Not")
