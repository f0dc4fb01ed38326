"""BatchMatMul: matrix products over the leading (batch) dimensions, numpy.matmul style,
and its gradient (two BatchMatMul ops).

The last two dimensions of A and B are the matrices (``trans_a`` / ``trans_b``
transpose them); the dimensions before them are batch dimensions, which must be equal
unless ``broadcast`` = 1, when they broadcast as in numpy. A 1-D input is a vector: it
takes part as a row (A) or column (B) vector and that dimension is left out of Y.
"""

from __future__ import annotations

import numpy as np

from caffe2lite.errors import GradientError
from caffe2lite.schema.example import Example
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.registry import register_cpu_operator, register_gradient
from caffe2lite.schema.shapes import Cost, TensorShape, dim_product, nbytes, numel
from .._dense import dims, enforce_cmp, enforce_that, float_tensor

_ARGS = [
    Arg("trans_a", int, 0, doc="1: transpose the last two dimensions of A"),
    Arg("trans_b", int, 0, doc="1: transpose the last two dimensions of B"),
    Arg("broadcast", int, 0, doc="1: batch dimensions broadcast as in numpy.matmul"),
]


def _batch_dims(a: tuple, b: tuple, ok=None) -> tuple[tuple, tuple, tuple]:
    """Caffe2's ComputeBroadcastBinaryOpDims: both padded on the left with 1s to one
    rank, and the output's dims (0 wherever either is 0)."""
    n = max(len(a), len(b))
    pa = (1,) * (n - len(a)) + tuple(a)
    pb = (1,) * (n - len(b)) + tuple(b)
    out = []
    for x, y in zip(pa, pb):
        if ok is not None:
            ok(x, y)
        if isinstance(x, int) and isinstance(y, int):
            out.append(0 if x == 0 or y == 0 else max(x, y))
        else:
            out.append(y if x == 1 else x)
    return pa, pb, tuple(out)


def _out_dims(a: tuple, b: tuple, trans_a: int, trans_b: int) -> tuple:
    """Y's dims from A's and B's (no checks)."""
    if len(a) == 1 and len(b) == 1:
        return (1,)
    if len(a) == 1:
        return tuple(b[:-1]) if trans_b else tuple(b[:-2]) + (b[-1],)
    if len(b) == 1:
        return tuple(a[:-1])
    m = a[-1] if trans_a else a[-2]
    n = b[-2] if trans_b else b[-1]
    return _batch_dims(a[:-2], b[:-2])[2] + (m, n)


def _shape(a: TensorShape, b: TensorShape, *, trans_a: int, trans_b: int) -> tuple:
    if a.dims is None or b.dims is None or not a.dims or not b.dims:
        return (TensorShape(None, a.dtype),)
    return (TensorShape(_out_dims(a.dims, b.dims, trans_a, trans_b), a.dtype),)


def _cost(a: TensorShape, b: TensorShape, *, trans_a: int, outputs) -> Cost:
    """Caffe2's CostInferenceForBatchMatMul: 2·|Y|·K flops."""
    y = outputs[0]
    if not (a.known and b.known and y.known) or not a.dims:
        return Cost()
    k = a.dims[-2] if trans_a and len(a.dims) >= 2 else a.dims[-1]
    return Cost(flops=2 * numel(y) * k, bytes_read=nbytes(a) + nbytes(b),
                bytes_written=nbytes(y))


@register_cpu_operator(
    "BatchMatMul",
    inputs=["A", "B"],
    outputs=["Y"],
    args=_ARGS,
    shape=_shape,
    cost=_cost,
    example=Example(
        {"A": np.array([[[1, 2]], [[3, 4]]], np.float32),
         "B": np.array([[[1], [1]], [[2], [0]]], np.float32)},
        {"Y": np.array([[[3]], [[6]]], np.float32)}),
    doc="""Batched matrix product Y[i] = op(A[i])·op(B[i]) (float32 or float64, both of one
type). The last two dimensions hold the matrices (M x K and K x N; ``trans_a`` /
``trans_b`` = 1 transpose them), the leading ones are batch dimensions: they must be
equal (after padding the shorter list with 1s on the left) unless ``broadcast`` = 1,
when they broadcast as in numpy.matmul (a batch dimension of 0 gives 0). Y has the
batch dimensions followed by (M, N). Two 1-D inputs give their dot product, shape (1,);
a 1-D A is a row vector and a 1-D B a column vector, and that dimension is dropped from
Y (those cases never need ``broadcast``). A 0-D input is an error (Caffe2 read out of
bounds).

Example: A=[[[1, 2]], [[3, 4]]], B=[[[1], [1]], [[2], [0]]] -> Y=[[[3]], [[6]]]""",
)
def batch_mat_mul(a: np.ndarray, b: np.ndarray, *, trans_a: int, trans_b: int,
                  broadcast: int) -> tuple:
    """numpy.matmul with Caffe2's checks, transposes and broadcasting rule."""
    dtype = float_tensor(a, "A")
    float_tensor(b, "B", dtype)
    enforce_that(a.ndim >= 1, "A.dim() >= 1", blob="A", expected="at least 1-D",
                 found=dims(a.shape))
    enforce_that(b.ndim >= 1, "B.dim() >= 1", blob="B", expected="at least 1-D",
                 found=dims(b.shape))
    if a.ndim == 1 and b.ndim == 1:
        enforce_cmp(a.size == b.size, "A.numel() == B.numel()", a.size, b.size, blob="B")
        return (np.asarray(np.dot(a, b), dtype=dtype).reshape(1),)
    if a.ndim == 1:
        name = "B_dims[B_ndim - 1]" if trans_b else "B_dims[B_ndim - 2]"
        k = b.shape[-1] if trans_b else b.shape[-2]
        enforce_cmp(k == a.size, f"{name} == N", k, a.size, blob="B")
        return (np.matmul(np.swapaxes(b, -1, -2) if not trans_b else b, a),)
    if b.ndim == 1:
        name = "A_dims[A_ndim - 2]" if trans_a else "A_dims[A_ndim - 1]"
        k = a.shape[-2] if trans_a else a.shape[-1]
        enforce_cmp(k == b.size, f"{name} == N", k, b.size, blob="A")
        return (np.matmul(np.swapaxes(a, -1, -2) if trans_a else a, b),)
    m, k = (a.shape[-1], a.shape[-2]) if trans_a else (a.shape[-2], a.shape[-1])
    name = "B_dims[B_ndim - 1]" if trans_b else "B_dims[B_ndim - 2]"
    k_b, n = (b.shape[-1], b.shape[-2]) if trans_b else (b.shape[-2], b.shape[-1])
    enforce_cmp(k_b == k, f"{name} == K", k_b, k, blob="B")

    def fits(x: int, y: int) -> None:
        enforce_that(x == y or x <= 1 or y <= 1,
                     "A_broadcast_dims[i] == B_broadcast_dims[i] || "
                     "A_broadcast_dims[i] <= 1 || B_broadcast_dims[i] <= 1", blob="B",
                     expected=f"batch dimensions of A {dims(a.shape[:-2])} and B "
                     f"{dims(b.shape[:-2])} that broadcast", found=f"{x} vs {y}")

    pa, pb, batch = _batch_dims(a.shape[:-2], b.shape[:-2], fits)
    if pa != pb:
        enforce_that(broadcast, "broadcast_", blob="B",
                     expected=f"A's batch dimensions {dims(pa)} (or broadcast=1)",
                     found=dims(pb))
    if dim_product(batch) == 0 or m == 0 or n == 0:
        return (np.zeros(batch + (m, n), dtype),)
    at = np.swapaxes(a, -1, -2) if trans_a else a
    bt = np.swapaxes(b, -1, -2) if trans_b else b
    return (np.matmul(at.reshape(pa + at.shape[-2:]), bt.reshape(pb + bt.shape[-2:])),)


@register_gradient("BatchMatMul", copy_arguments=False)
def batch_mat_mul_gradient_maker(g):
    """Two BatchMatMul ops (not with ``broadcast`` = 1): AB -> dA = G·Bᵀ, dB = Aᵀ·G;
    ABᵀ -> dA = G·B, dB = Gᵀ·A; AᵀB -> dA = B·Gᵀ, dB = A·G; AᵀBᵀ -> dA = Bᵀ·Gᵀ,
    dB = Gᵀ·Aᵀ. The forward's arguments are not copied."""
    if g.arg("broadcast", 0):
        raise GradientError("Gradient is currently not supported with broadcast=1 for "
                            "BatchMatMul.", arg="broadcast", expected=0, found=1)
    a, b, go, ga, gb = g.I(0), g.I(1), g.GO(0), g.GI(0), g.GI(1)
    trans_a, trans_b = bool(g.arg("trans_a", 0)), bool(g.arg("trans_b", 0))
    if trans_a and trans_b:
        return [g.op_def("BatchMatMul", [b, go], [ga], trans_a=1, trans_b=1),
                g.op_def("BatchMatMul", [go, a], [gb], trans_a=1, trans_b=1)]
    if trans_a:
        return [g.op_def("BatchMatMul", [b, go], [ga], trans_b=1),
                g.op_def("BatchMatMul", [a, go], [gb])]
    if trans_b:
        return [g.op_def("BatchMatMul", [go, b], [ga]),
                g.op_def("BatchMatMul", [go, a], [gb], trans_a=1)]
    return [g.op_def("BatchMatMul", [go, b], [ga], trans_b=1),
            g.op_def("BatchMatMul", [a, go], [gb], trans_a=1)]
