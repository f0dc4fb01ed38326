"""MatMul (Y = A·B on the matrix views of two tensors), whose gradient is two MatMul ops.

A is read as a matrix by flattening it at ``axis_a`` (rows: the product of the
dimensions before it, columns: the product of the rest), B likewise at ``axis_b``;
``trans_a`` / ``trans_b`` transpose those matrices before multiplying. Y is always a
2-D matrix. A third input (used by the gradient ops) only gives Y its shape: Y is
reshaped like it.
"""

from __future__ import annotations

import numpy as np

from caffe2lite.schema.example import Example
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.registry import register_cpu_operator, register_gradient
from caffe2lite.schema.shapes import TensorShape, dim_product
from caffe2lite.schema.shapes import canonical_axis as shape_axis
from .._dense import (canonical_axis, dims, enforce_that, float_tensor, size_from, size_to,
                      tensor)

_ARGS = [
    Arg("axis_a", int, 1, doc="A is flattened to a matrix at this axis"),
    Arg("axis_b", int, 1, doc="B is flattened to a matrix at this axis"),
    Arg("trans_a", int, 0, doc="1: transpose A's matrix before multiplying"),
    Arg("trans_b", int, 0, doc="1: transpose B's matrix before multiplying"),
]


def _matrix_shape(shape, axis: int, trans: int) -> tuple:
    """(rows, cols) of a tensor's matrix view, transposed when ``trans``."""
    rows, cols = dim_product(shape[:axis]), dim_product(shape[axis:])
    return (cols, rows) if trans else (rows, cols)


def _shape(a: TensorShape, b: TensorShape, like: TensorShape | None = None, *,
           axis_a: int, axis_b: int, trans_a: int, trans_b: int) -> tuple[TensorShape]:
    if like is not None:
        return (TensorShape(like.dims, a.dtype),)
    if a.dims is None or b.dims is None:
        return (TensorShape(None, a.dtype),)
    m, _ = _matrix_shape(a.dims, shape_axis(axis_a, len(a.dims)), trans_a)
    _, n = _matrix_shape(b.dims, shape_axis(axis_b, len(b.dims)), trans_b)
    return (TensorShape((m, n), a.dtype),)


@register_cpu_operator(
    "MatMul",
    inputs=["A", "B", "Y_like"],
    outputs=["Y"],
    num_inputs=(2, 3),
    args=_ARGS,
    shape=_shape,
    example=Example(
        {"A": np.array([[1, 2], [3, 4]], np.float32), "B": np.array([[1, 0], [1, 1]], np.float32)},
        {"Y": np.array([[1, 3], [3, 7]], np.float32)},
        args={"trans_b": 1}),
    doc="""Matrix product Y = op(A)·op(B) (float32 or float64, both of one type). A is
read as a (M x K) matrix by flattening it at ``axis_a`` (rows = product of the dimensions
before the axis), B as (K x N) at ``axis_b``; ``trans_a`` / ``trans_b`` = 1 transpose
those matrices first. Y is the (M x N) matrix; with a third input (as the gradient ops
pass) Y takes that input's shape, which must hold M * N values.

Example: A=[[1, 2], [3, 4]], B=[[1, 0], [1, 1]] with trans_b=1 -> Y=[[1, 3], [3, 7]]""",
)
def mat_mul(a: np.ndarray, b: np.ndarray, like: np.ndarray | None = None, *, axis_a: int,
            axis_b: int, trans_a: int, trans_b: int) -> tuple:
    """op(A)·op(B) on the matrix views."""
    dtype = float_tensor(a, "A")
    float_tensor(b, "B", dtype)
    ax_a = canonical_axis(axis_a, a.ndim, "axis_a")
    ax_b = canonical_axis(axis_b, b.ndim, "axis_b")
    a2 = a.reshape(size_to(a.shape, ax_a), size_from(a.shape, ax_a))
    b2 = b.reshape(size_to(b.shape, ax_b), size_from(b.shape, ax_b))
    if trans_a:
        a2 = a2.T
    if trans_b:
        b2 = b2.T
    (m, k), (k_b, n) = a2.shape, b2.shape
    why = (f"Dimension mismatch: {'trans(A): ' if trans_a else 'A: '}{m} {k}"
           f"{', trans(B): ' if trans_b else ', B: '}{k_b} {n}")
    enforce_that(k == k_b, "a_dim1 == b_dim0", why, blob="B",
                 expected=f"{k} rows in B's matrix", found=k_b)
    y = a2 @ b2
    if like is not None:
        tensor(like, "Y_like")
        enforce_that(like.size == y.size, "a_dim0 * b_dim1 == Y->size()", why, blob="Y_like",
                     expected=f"{y.size} elements", found=dims(like.shape))
        y = y.reshape(like.shape)
    return (y,)


def _flag(value) -> int:
    """Caffe2's maker stored every axis and trans argument in a C++ ``bool``, so any
    non-zero value reaches the gradient ops as 1."""
    return int(bool(value))


@register_gradient("MatMul", copy_arguments=False)
def mat_mul_gradient_maker(g):
    """Two MatMul ops, each given the forward input whose shape its output takes:
    AB -> dA = G·Bᵀ, dB = Aᵀ·G; ABᵀ -> dA = G·B, dB = Gᵀ·A; AᵀB -> dA = B·Gᵀ, dB = A·G;
    AᵀBᵀ -> dA = Bᵀ·Gᵀ, dB = Gᵀ·Aᵀ. As in Caffe2, the forward axes pass through a
    C++ bool (see :func:`_flag`) and the forward's other arguments are not copied."""
    a, b, go, ga, gb = g.I(0), g.I(1), g.GO(0), g.GI(0), g.GI(1)
    axis_a, axis_b = _flag(g.arg("axis_a", 1)), _flag(g.arg("axis_b", 1))
    trans_a, trans_b = _flag(g.arg("trans_a", 0)), _flag(g.arg("trans_b", 0))
    if trans_a and trans_b:
        return [g.op_def("MatMul", [b, go, a], [ga], trans_a=1, trans_b=1, axis_a=axis_b),
                g.op_def("MatMul", [go, a, b], [gb], trans_a=1, trans_b=1, axis_b=axis_a)]
    if trans_a:
        return [g.op_def("MatMul", [b, go, a], [ga], trans_b=1, axis_a=axis_b),
                g.op_def("MatMul", [a, go, b], [gb], axis_a=axis_a)]
    if trans_b:
        return [g.op_def("MatMul", [go, b, a], [ga], axis_b=axis_b),
                g.op_def("MatMul", [go, a, b], [gb], trans_a=1, axis_b=axis_a)]
    return [g.op_def("MatMul", [go, b, a], [ga], trans_b=1, axis_b=axis_b),
            g.op_def("MatMul", [a, go, b], [gb], trans_a=1, axis_a=axis_a)]

