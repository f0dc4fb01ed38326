"""DotProductWithPadding (row-wise dot products of two tensors whose rows differ in
length: the shorter row padded with ``pad_value`` or replicated) and its gradient op
DotProductWithPaddingGradient."""

from __future__ import annotations

import numpy as np

from caffe2lite.errors import EnforceError
from caffe2lite.schema.example import Example
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.registry import (
    gradient_not_implemented_yet,
    register_cpu_operator,
    register_gradient,
)

from .._dense import dims, enforce_cmp, enforce_that, float_tensor
from .dot_product import _dot_shape

_ARGS = [Arg("pad_value", float, 0.0, doc="the value the shorter rows are padded with"),
         Arg("replicate", bool, False, doc="repeat the shorter row instead of padding")]


def _f(values) -> np.ndarray:
    return np.array(values, np.float32)


def _layout(x: np.ndarray, y: np.ndarray, replicate: bool) -> tuple[int, int, int]:
    """(N, DX, DY) as Caffe2 read them, after its checks: N rows (X's first dimension,
    1 for a scalar, 0 when X is empty) of DX and DY values."""
    dtype = float_tensor(x, "X")
    float_tensor(y, "Y", dtype)
    enforce_cmp(x.ndim == y.ndim, "X.dim() == Y.dim()", x.ndim, y.ndim, blob="Y")
    if x.ndim:
        enforce_cmp(x.shape[0] == y.shape[0], "X.dim32(0) == Y.dim32(0)", x.shape[0],
                    y.shape[0], blob="Y")
    if x.size == 0:
        return 0, 0, 0
    n = x.shape[0] if x.ndim else 1
    dx, dy = x.size // n, y.size // n
    if replicate and min(dx, dy) == 0:
        raise EnforceError("cannot replicate an empty row (Caffe2 divided by zero)",
                           blob="Y" if dy == 0 else "X", expected="rows of 1 or more values",
                           found=f"row lengths {dx} and {dy}")
    return n, dx, dy


@register_cpu_operator(
    "DotProductWithPadding",
    inputs=["X", "Y"],
    outputs=["Z"],
    args=_ARGS,
    shape=_dot_shape,
    example=Example({"X": _f([[1, 2, 3, 4], [1, 1, 1, 1]]), "Y": _f([[1, 2], [3, 4]])},
                    {"Z": _f([5 + 7 * 0.5, 7 + 2 * 0.5])}, {"pad_value": 0.5}),
    doc="""Row-wise dot product of X and Y (float32 as in Caffe2, or float64; same rank
and first dimension N) whose rows may differ in length. Without ``replicate`` the
shorter row is padded with ``pad_value``: Z[i] = <first D values of both rows> +
pad_value * (sum of the longer row's remaining values), D the shorter length. With
``replicate`` the shorter row is repeated along the longer one: Z[i] = sum over the
DL // DS whole chunks of the longer row of <chunk, shorter row> (a partial last chunk
is ignored, as in Caffe2). Z has shape (N,).

Example: X=[[1, 2, 3, 4], [1, 1, 1, 1]], Y=[[1, 2], [3, 4]] with pad_value=0.5 ->
Z=[8.5, 8]""",
)
def dot_product_with_padding(x: np.ndarray, y: np.ndarray, *, pad_value: float,
                             replicate: bool) -> tuple:
    """Caffe2's per-row padded or replicated dot product, vectorised over rows."""
    n, dx, dy = _layout(x, y, replicate)
    if n == 0:
        return (np.zeros(0, x.dtype),)
    xs, ys = x.reshape(n, dx), y.reshape(n, dy)
    if replicate:
        (lng, dl), (sht, ds) = sorted(((xs, dx), (ys, dy)), key=lambda p: -p[1])
        chunks = lng[:, : (dl // ds) * ds].reshape(n, dl // ds, ds)
        z = np.einsum("ikj,ij->i", chunks, sht)
    else:
        d = min(dx, dy)
        z = np.einsum("ij,ij->i", xs[:, :d], ys[:, :d])
        if dx != dy:
            rest = (xs if dx > dy else ys)[:, d:]
            z = z + rest.sum(axis=1) * x.dtype.type(np.float32(pad_value))
    return (np.asarray(z, x.dtype),)


@register_gradient("DotProductWithPadding")
def dot_product_with_padding_gradient_maker(g):
    """``DotProductWithPaddingGradient([X, Y, Z_grad]) -> [X_grad, Y_grad]`` with
    pad_value and replicate set explicitly (0 and false when the forward op had none),
    as Caffe2's maker did."""
    args = {a.name: a for a in g.def_.arg}
    pad_value = args["pad_value"].f if "pad_value" in args else 0.0
    replicate = bool(args["replicate"].i) if "replicate" in args else False
    return [g.op_def("DotProductWithPaddingGradient", [g.I(0), g.I(1), g.GO(0)],
                     [g.GI(0), g.GI(1)], pad_value=pad_value, replicate=replicate)]


@register_cpu_operator(
    "DotProductWithPaddingGradient",
    inputs=["X", "Y", "dZ"],
    outputs=["dX", "dY"],
    args=_ARGS,
    shape=lambda x, y, dz, **_: (x, y),
    example=Example({"X": _f([[1, 2, 3, 4]]), "Y": _f([[1, 2]]), "dZ": _f([2])},
                    {"dX": _f([[2, 4, 1, 1]]), "dY": _f([[2, 4]])}, {"pad_value": 0.5}),
    doc="""Gradient of DotProductWithPadding. Without ``replicate``: the first D values
of each row get dZ[i] times the other input's values, the longer row's remaining
values get dZ[i] * pad_value. With ``replicate`` (the longer row length must be a
multiple of the shorter, Caffe2's check): each chunk of the longer row gets dZ[i]
times the shorter row, and the shorter row gets dZ[i] times the sum of the chunks.

Example: X=[[1, 2, 3, 4]], Y=[[1, 2]], dZ=[2] with pad_value=0.5 ->
dX=[[2, 4, 1, 1]], dY=[[2, 4]]""",
)
def dot_product_with_padding_gradient(x: np.ndarray, y: np.ndarray, dz: np.ndarray, *,
                                      pad_value: float, replicate: bool) -> tuple:
    """Caffe2's per-row gradient, vectorised over rows."""
    n, dx, dy = _layout(x, y, replicate)
    float_tensor(dz, "dZ", x.dtype)
    if replicate and n and dx % dy and dy % dx:
        raise EnforceError("Check failed: !replicate_ || DX % DY == 0 || DY % DX == 0",
                           blob="Y", expected="one row length a multiple of the other",
                           found=f"row lengths {dx} and {dy}")
    enforce_that(dz.ndim == 1, "dDot.dim() == 1", blob="dZ", expected="a 1-D tensor",
                 found=dims(dz.shape))
    enforce_cmp(dz.shape[0] == n, "dDot.dim32(0) == N", n, dz.shape[0], blob="dZ")
    if n == 0:
        return (np.zeros(x.shape, x.dtype), np.zeros(y.shape, y.dtype))
    xs, ys, g = x.reshape(n, dx), y.reshape(n, dy), dz[:, None]
    if replicate:
        x_longer = dx > dy
        lng, sht = (xs, ys) if x_longer else (ys, xs)
        k, ds = lng.shape[1] // sht.shape[1], sht.shape[1]
        d_lng = np.tile(g * sht, (1, k))
        d_sht = (g[:, :, None] * lng.reshape(n, k, ds)).sum(axis=1)
        gx, gy = (d_lng, d_sht) if x_longer else (d_sht, d_lng)
    else:
        d = min(dx, dy)
        pad = g * x.dtype.type(np.float32(pad_value))
        gx = np.concatenate([g * ys[:, :d], np.broadcast_to(pad, (n, dx - d))], axis=1)
        gy = np.concatenate([g * xs[:, :d], np.broadcast_to(pad, (n, dy - d))], axis=1)
    return (np.asarray(gx, x.dtype).reshape(x.shape),
            np.asarray(gy, x.dtype).reshape(y.shape))


gradient_not_implemented_yet("DotProductWithPaddingGradient")
