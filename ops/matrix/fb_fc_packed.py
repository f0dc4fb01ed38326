"""FbFCPacked: FC (Y = X·Wᵀ + b) whose weight Caffe2 kept as fbgemm's packed fp16
matrix, so the product is taken with W rounded to float16.

In Caffe2 the W input was a ``PackedGemmMatrixFP16`` made by FbGemmPack from an FC
weight (N x K); its tensor view (what shape inference and exporters saw) was that
N x K matrix of halves. Nets written for other runtimes feed a plain tensor there:
glow's importer tests fill it with GivenTensorFp16Fill (float16, FC's layout), and
glow's importer reads it as FC's weight (it insists on float16, then also converts X
and b to float16 and multiplies in half precision, its own emulation). caffe2lite
takes W as such a tensor (float16, or float rounded to float16 to nearest even, as
packing did), flattened at ``axis_w`` to N x K, and computes as fbgemm did: the halves
widened to X's type, products accumulated in that type, X and b not rounded, the bias
added in that type.
"""

from __future__ import annotations

import numpy as np

from caffe2lite.schema.checks import check_dtype
from caffe2lite.schema.example import Example
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.registry import gradient_not_implemented_yet, register_cpu_operator
from caffe2lite.schema.shapes import Cost, TensorShape, dim_product, nbytes
from caffe2lite.schema.shapes import canonical_axis as shape_axis
from .._dense import canonical_axis, dims, enforce_that, float_tensor, size_from, size_to

_ARGS = [
    Arg("axis", int, 1, doc="X is flattened to a matrix at this axis"),
    Arg("axis_w", int, 1, doc="W is flattened to an (N x K) matrix at this axis"),
]


def _shape(x: TensorShape, w: TensorShape, b: TensorShape, *, axis: int,
           axis_w: int) -> tuple[TensorShape]:
    if x.dims is None:
        return (TensorShape(None, x.dtype),)
    ax = shape_axis(axis, len(x.dims))
    if b.dims is not None and len(b.dims) == 1:
        n = b.dims[0]
    elif w.dims is not None:
        n = dim_product(w.dims[:shape_axis(axis_w, len(w.dims))])
    else:
        n = "N"
    return (TensorShape(tuple(x.dims[:ax]) + (n,), x.dtype),)


def _cost(x: TensorShape, w: TensorShape, b: TensorShape, *, axis: int, axis_w: int,
          outputs) -> Cost:
    """Caffe2's CostInferenceForFC: M·N·(2K + 1) flops; W and b are parameters."""
    if not (x.known and w.known and b.known):
        return Cost()
    ax = shape_axis(axis, len(x.dims))
    m, k = dim_product(x.dims[:ax]), dim_product(x.dims[ax:])
    n = dim_product(w.dims[:shape_axis(axis_w, len(w.dims))])
    return Cost(flops=m * n * (2 * k + 1), bytes_read=nbytes(x) + nbytes(w) + nbytes(b),
                bytes_written=nbytes(outputs[0]), params_bytes=nbytes(w) + nbytes(b))


@register_cpu_operator(
    "FbFCPacked",
    inputs=["X", "W", "b"],
    outputs=["Y"],
    args=_ARGS,
    shape=_shape,
    cost=_cost,
    example=Example(
        {"X": np.array([[1, 2]], np.float32),
         "W": np.array([[0.1, 1], [2049, 0]], np.float32),
         "b": np.array([0, 1], np.float32)},
        {"Y": np.array([[2.099975586, 2049]], np.float32)}),
    doc="""FC with a float16 weight: Y = X·fp16(W)ᵀ + b. X (float32 or float64) is
flattened to (M x K) at ``axis``; W, a float16, float32 or float64 tensor in FC's
layout, is flattened at ``axis_w`` to (N x K) and rounded to float16 (Caffe2 held it
packed in halves); b has N = b.numel() values of X's type. Y has shape
X.shape[:axis] + (N,) and X's type.

Example: X=[[1, 2]], W=[[0.1, 1], [2049, 0]], b=[0, 1] -> Y=[[2.0999756, 2049]]
(0.1 and 2049 are not halves: they become 0.099975586 and 2048)""",
)
def fb_fc_packed(x: np.ndarray, w: np.ndarray, b: np.ndarray, *, axis: int,
                 axis_w: int) -> tuple:
    """X·Wᵀ + b with W's values rounded to float16."""
    dtype = float_tensor(x, "X")
    check_dtype(w, "W", np.float16, np.float32, np.float64)
    float_tensor(b, "b", dtype)
    enforce_that(b.ndim == 1, f"b.dim() == 1. {b.ndim}", blob="b", expected="a 1-D bias",
                 found=f"{b.ndim}-D shape {dims(b.shape)}")
    ax = canonical_axis(axis, x.ndim)
    ax_w = canonical_axis(axis_w, w.ndim, "axis_w")
    m, n = size_to(x.shape, ax), b.size
    n_w, k = size_to(w.shape, ax_w), size_from(w.shape, ax_w)
    why = (f"Dimension mismatch: X: {dims(x.shape)}, W: {dims((k, n_w))}, b: "
           f"{dims(b.shape)}, axis: {axis}, M: {m}, N: {n}, K: {k}")
    enforce_that(k == size_from(x.shape, ax), "K == X.size_from_dim(canonical_axis)", why,
                 blob="W", expected=f"K = {size_from(x.shape, ax)} columns",
                 found=dims(w.shape))
    enforce_that(n == n_w, "N == W->numCols()", why, blob="W", expected=f"{n} rows (b's size)",
                 found=dims(w.shape))
    halves = w.astype(np.float16).astype(dtype)
    y = x.reshape(m, k) @ halves.reshape(n, k).T
    y += b
    return (y.reshape(x.shape[:ax] + (n,)),)


# Caffe2 registered no gradient maker for FbFCPacked (an inference-only op): asking
# for one is an error.
gradient_not_implemented_yet("FbFCPacked")
