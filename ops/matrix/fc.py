"""FC (fully connected: Y = X·Wᵀ + b) and its gradient op FCGradient.

X is read as a matrix (M x K) by flattening it at ``axis``; W as a matrix (N x K) by
flattening it at ``axis_w``. The output keeps X's leading dimensions:
``Y.shape == X.shape[:axis] + (N,)``.
"""

from __future__ import annotations

import numpy as np

from caffe2lite.schema.registry import (
    gradient_not_implemented_yet,
    register_cpu_operator,
    register_gradient,
)
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.example import Example
from caffe2lite.schema import shapes as sh
from caffe2lite.schema.shapes import Cost, TensorShape
from .._dense import (
    FLOATS,
    canonical_axis,
    dims,
    enforce_that,
    float_tensor,
    size_from,
    size_to,
)

_NDARRAY = np.ndarray

_ARGS = [
    Arg("axis", int, 1, doc="X is flattened to a matrix at this axis"),
    Arg("axis_w", int, 1, doc="W is flattened to a matrix at this axis"),
]


def _mnk(
    x: np.ndarray, w: np.ndarray, axis: int, axis_w: int
) -> tuple[int, int, int, int, int]:
    """(canonical axis, canonical axis_w, M, N, K) as Caffe2 computed them."""
    ax = canonical_axis(axis, x.ndim)
    ax_w = canonical_axis(axis_w, w.ndim, "axis_w")
    return (
        ax,
        ax_w,
        size_to(x.shape, ax),
        size_to(w.shape, ax_w),
        size_from(x.shape, ax),
    )


def _mismatch(x, w, third: str, t, axis, m, n, k) -> str:
    return (
        f"Dimension mismatch: X: {dims(x.shape)}, W: {dims(w.shape)}, {third}: "
        f"{dims(t.shape)}, axis: {axis}, M: {m}, N: {n}, K: {k}"
    )


def _shape_mnk(x: TensorShape, w: TensorShape, axis: int, axis_w: int):
    """(canonical axis, M, K, N) from shapes (each a symbol or None when unknown)."""
    ax = sh.canonical_axis(axis, x.ndim)
    ax_w = sh.canonical_axis(axis_w, w.ndim)
    m = k = n = None
    if ax is not None:
        m, k = sh.dim_product(x.dims[:ax]), sh.dim_product(x.dims[ax:])
    if ax_w is not None:
        n = sh.dim_product(w.dims[:ax_w])
    return ax, m, k, n


def _fc_shape(
    x: TensorShape, w: TensorShape, b: TensorShape, *, axis: int, axis_w: int
) -> tuple[TensorShape]:
    """Caffe2's FCShapeInference: X's dimensions up to ``axis``, then N. Where the
    shapes are known, the checks the kernel makes (K of X and W, N biases) are made
    here too, with the kernel's errors, so a mismatch is found before anything runs."""
    ax, m, k, n = _shape_mnk(x, w, axis, axis_w)
    if ax is None or n is None:
        return (TensorShape(None, x.dtype),)
    if _ints(k, n) and w.known and b.known:  # (M may be a symbol: a batch size)
        _check_known(x, w, b, axis, m, n, k)
    return (TensorShape(tuple(x.dims[:ax]) + (n,), x.dtype),)


def _check_known(x: TensorShape, w: TensorShape, b: TensorShape, axis: int, m, n, k) -> None:
    ws, bs = (tuple(int(d) for d in t.dims or ()) for t in (w, b))
    if len(bs) != 1:
        enforce_that(False, f"b.dim() == 1. {len(bs)}", blob="b", expected="a 1-D bias",
                     found=f"{len(bs)}-D shape {dims(bs)}")
    xs = "[" + ", ".join(str(d) for d in x.dims or ()) + "]"
    text = (f"Dimension mismatch: X: {xs}, W: {dims(ws)}, b: {dims(bs)}, "
            f"axis: {axis}, M: {m}, N: {n}, K: {k}")
    if k * n != sh.numel(w):
        enforce_that(False, "K == W.numel() / N", text, blob="W",
                     expected=f"W of {n} x {k}", found=dims(ws))
    if n != bs[0]:
        enforce_that(False, "N == b.dim32(0)", text, blob="b", expected=f"{n} biases",
                     found=bs[0])


def _ints(*values) -> bool:
    return all(isinstance(v, int) for v in values)


def _fc_cost(
    x: TensorShape, w: TensorShape, b: TensorShape, *, axis: int, axis_w: int, outputs
) -> Cost:
    """Caffe2's CostInferenceForFC (four bytes an element: it took sizeof of the dtype
    enum): M*N*(2K+1) flops, K*(M+N)+N elements read, M*N written, K*N+N parameters."""
    _, m, k, n = _shape_mnk(x, w, axis, axis_w)
    if not _ints(m, k, n):
        return Cost()
    return Cost(
        flops=m * n * (2 * k + 1),
        bytes_read=(k * (m + n) + n) * 4,
        bytes_written=m * n * 4,
        params_bytes=(k * n + n) * 4,
    )


def _fc_gradient_shape(
    x: TensorShape,
    w: TensorShape,
    dy: TensorShape,
    *,
    axis: int,
    axis_w: int,
    num_outputs: int,
) -> tuple[TensorShape, ...]:
    """Caffe2's FCGradientShapeInference: dW like W, db (N,), dX like X."""
    _, _, _, n = _shape_mnk(x, w, axis, axis_w)
    db = TensorShape(None if n is None else (n,), w.dtype)
    out = (TensorShape(w.dims, w.dtype), db)
    return out + ((TensorShape(x.dims, x.dtype),) if num_outputs == 3 else ())


def _fc_gradient_cost(
    x: TensorShape, w: TensorShape, dy: TensorShape, *, axis: int, axis_w: int, outputs
) -> Cost:
    """Caffe2's CostInferenceForFCGradient: M*N*(2K+1) flops (+2MNK for dX), the
    outputs written at four bytes an element, nothing counted as read."""
    _, m, k, n = _shape_mnk(x, w, axis, axis_w)
    if not _ints(m, k, n):
        return Cost()
    flops, written = m * n * (2 * k + 1), sh.numel(outputs[0]) + sh.numel(outputs[1])
    if len(outputs) == 3:
        flops += 2 * m * n * k
        written += sh.numel(outputs[2])
    return Cost(flops=flops, bytes_written=written * 4, params_bytes=(k * n + n) * 4)


# db = dYᵀ·1 as Caffe2 computed it (a gemv with a vector of ones, its
# bias_multiplier_): several times faster than numpy's sum down the rows when N is
# small, since that sum calls its inner loop once per row. The ones are views of
# one read-only buffer per dtype, grown to the largest M seen.
_ones_buffers: dict = {}


def _column_sums(dy2: np.ndarray, dtype: np.dtype) -> np.ndarray:
    m = dy2.shape[0]
    ones = _ones_buffers.get(dtype)
    if ones is None or ones.size < m:
        ones = np.ones(max(m, 256), dtype)
        ones.flags.writeable = False
        _ones_buffers[dtype] = ones
    return ones[:m] @ dy2


def _f(values) -> np.ndarray:
    return np.array(values, np.float32)


@register_cpu_operator(
    "FC",
    inputs=["X", "W", "b"],
    outputs=["Y"],
    args=_ARGS,
    shape=_fc_shape,
    cost=_fc_cost,
    example=Example(
        {"X": _f([[1, 2, 3]]), "W": _f([[1, 0, 1], [0, 1, 0]]), "b": _f([0.5, -1])},
        {"Y": _f([[4.5, 1]])},
    ),
    doc="""Fully connected layer: Y = X·Wᵀ + b, with X flattened to (M x K) at ``axis``,
W (N x K) flattened at ``axis_w`` and b of length N. Y has shape X.shape[:axis] + (N,).
Float32 or float64; W and b must have X's type.

Example: X=[[1, 2, 3]], W=[[1, 0, 1], [0, 1, 0]], b=[0.5, -1] -> Y=[[4.5, 1]]""",
)
def fc(x: np.ndarray, w: np.ndarray, b: np.ndarray, *, axis: int, axis_w: int) -> tuple:
    """Y = X·Wᵀ + b on the flattened views."""
    # The common case (2-D X and W at the default axes, one float type, sizes that
    # agree) is recognised with a few attribute reads; anything else, including
    # every error, goes through the full checks below in Caffe2's order.
    if (axis == 1 and axis_w == 1 and type(x) is _NDARRAY and type(w) is _NDARRAY
            and type(b) is _NDARRAY):
        dtype = x.dtype
        if (dtype in FLOATS and w.dtype == dtype and b.dtype == dtype
                and x.ndim == 2 and w.ndim == 2 and b.ndim == 1
                and w.shape[1] == x.shape[1] and b.shape[0] == w.shape[0]):
            y = x @ w.T
            y += b
            return (y,)
    return _fc_checked(x, w, b, axis, axis_w)


def _fc_checked(x: np.ndarray, w: np.ndarray, b: np.ndarray, axis: int, axis_w: int) -> tuple:
    dtype = float_tensor(x, "X")
    float_tensor(w, "W", dtype)
    float_tensor(b, "b", dtype)
    if b.ndim != 1:
        enforce_that(False, f"b.dim() == 1. {b.ndim}", blob="b", expected="a 1-D bias",
                     found=f"{b.ndim}-D shape {dims(b.shape)}")
    ax, ax_w, m, n, k = _mnk(x, w, axis, axis_w)
    if k != size_from(w.shape, ax_w):
        enforce_that(False, "K == W.numel() / N", _mismatch(x, w, "b", b, axis, m, n, k),
                     blob="W", expected=f"W of {n} x {k}", found=dims(w.shape))
    if n != b.shape[0]:
        enforce_that(False, "N == b.dim32(0)", _mismatch(x, w, "b", b, axis, m, n, k),
                     blob="b", expected=f"{n} biases", found=b.shape[0])
    y = x.reshape(m, k) @ w.reshape(n, k).T
    y += b
    return (y.reshape(x.shape[:ax] + (n,)),)


@register_gradient("FC")
def fc_gradient_maker(g):
    """``FCGradient([X, W, dY]) -> [W_grad, b_grad, X_grad]``."""
    return [
        g.op_def("FCGradient", [g.I(0), g.I(1), g.GO(0)], [g.GI(1), g.GI(2), g.GI(0)])
    ]


@register_cpu_operator(
    "FCGradient",
    inputs=["X", "W", "dY"],
    outputs=["dW", "db", "dX"],
    num_outputs=(2, 3),
    args=_ARGS,
    shape=_fc_gradient_shape,
    cost=_fc_gradient_cost,
    example=Example(
        {"X": _f([[1, 2]]), "W": _f([[3, 4]]), "dY": _f([[2]])},
        {"dW": _f([[2, 4]]), "db": _f([2]), "dX": _f([[6, 8]])},
    ),
    doc="""Gradient of FC: dW = dYᵀ·X (W's shape), db = column sums of dY (N,), and, when
a third output is asked for, dX = dY·W (X's shape), all on the flattened views.

Example: X=[[1, 2]], W=[[3, 4]], dY=[[2]] -> dW=[[2, 4]], db=[2], dX=[[6, 8]]""",
)
def fc_gradient(
    x: np.ndarray,
    w: np.ndarray,
    dy: np.ndarray,
    *,
    axis: int,
    axis_w: int,
    num_outputs: int,
) -> tuple:
    """dW, db and (with three outputs) dX."""
    if (axis == 1 and axis_w == 1 and type(x) is _NDARRAY and type(w) is _NDARRAY
            and type(dy) is _NDARRAY):
        dtype = x.dtype
        if (dtype in FLOATS and w.dtype == dtype and dy.dtype == dtype
                and x.ndim == 2 and w.ndim == 2 and dy.ndim == 2
                and w.shape[1] == x.shape[1] and dy.shape[0] == x.shape[0]
                and dy.shape[1] == w.shape[0]):
            dw = dy.T @ x
            db = _column_sums(dy, dtype)
            if num_outputs == 2:
                return (dw, db)
            # A one-column dY makes dX an outer product, which BLAS's gemm is slow at
            # (k = 1); the element-wise product gives the same values.
            return (dw, db, dy * w if dy.shape[1] == 1 else dy @ w)
    dtype = float_tensor(x, "X")
    float_tensor(w, "W", dtype)
    float_tensor(dy, "dY", dtype)
    _, ax_w, m, n, k = _mnk(x, w, axis, axis_w)
    if k * n != w.size:
        enforce_that(False, "K * N == W.numel()", _mismatch(x, w, "dY", dy, axis, m, n, k),
                     blob="W", expected=f"W of {n} x {k}", found=dims(w.shape))
    if dy.size != m * n:
        enforce_that(False, "dY.numel() == M * N", _mismatch(x, w, "dY", dy, axis, m, n, k),
                     blob="dY", expected=f"{m} x {n} elements", found=dims(dy.shape))
    dy2, w2 = dy.reshape(m, n), w.reshape(n, k)
    dw = (dy2.T @ x.reshape(m, k)).reshape(w.shape)
    db = _column_sums(dy2, dtype)
    if num_outputs == 2:
        return (dw, db)
    return (dw, db, (dy2 @ w2).reshape(x.shape))


gradient_not_implemented_yet("FCGradient")
