"""EnsureDense: identity forward, dense gradient backward (Caffe2 utility_ops)."""

from __future__ import annotations

import numpy as np

from caffe2lite.errors import GradientError, ShapeError
from caffe2lite.schema.example import Example
from caffe2lite.schema.shapes import same_as_input
from caffe2lite.schema.registry import register_cpu_operator, register_gradient


@register_cpu_operator(
    "EnsureDense",
    inputs=["input"],
    outputs=["output"],
    shape=same_as_input(0),
    example=Example(
        {"input": np.array([[1, 2], [3, 4]], np.int64)},
        {"output": np.array([[1, 2], [3, 4]], np.int64)},
    ),
    allow_inplace=[(0, 0)],
    doc="""Pass the input (at least a vector) through, in place or as a copy. In the
backward pass a sparse gradient (a GradientSlice) becomes a dense one through
SparseToDense, so it can flow into ops that take dense gradients only (e.g.
FCGradient); a dense gradient passes through unchanged.

Example: input=[[1, 2], [3, 4]] -> output=[[1, 2], [3, 4]]""",
)
def ensure_dense(x):
    """The input itself (stored arrays are never written in place)."""
    if not isinstance(x, np.ndarray) or x.ndim < 1:
        raise ShapeError(
            "Input has to be at least a vector.",
            blob="input",
            expected="rank >= 1",
            found=f"shape {np.shape(x)}",
        )
    return (x,)


@register_gradient("EnsureDense")
def ensure_dense_gradient(g):
    """Dense dOUT: input gradient = dOUT, no op. Sparse dOUT:
    SparseToDense([dOUT_indices, dOUT_values, input]) -> input_grad."""
    grad = g.GradOut(0)
    if grad is None:
        raise GradientError(
            f"Input gradient {g.O(0)} should be either sparse or dense."
        )
    if isinstance(grad, tuple):
        return [g.op_def("SparseToDense", [g.GO_I(0), g.GO_V(0), g.I(0)], [g.GI(0)])]
    g.SetDense(0, g.GO(0))
    return []
