"""Shapes, arguments and checks of Caffe2's binary element-wise ops (Add, Sub, Mul and
their gradient ops). Not an operator module: nothing is registered here.

Two broadcasting modes, chosen by the ``broadcast`` argument:

- numpy style (the default): shapes are aligned from the right; each pair of
  dimensions must be equal or one of them 1 (a 0 against a 1 gives 0).
- legacy (``broadcast=1``): C has A's shape; B is either a single element, or its
  shape (leading and trailing 1s dropped) is a contiguous run of A's dimensions
  starting at ``axis`` (by default the run ends with A's last dimension). ``axis_str``
  names the axis by a letter of ``order`` instead (``"C"`` in ``"NCHW"`` is 1).
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from caffe2lite.schema.checks import check_dtype
from caffe2lite.errors import EnforceError
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.shapes import Cost, TensorShape, broadcast_shapes, numel
from .._dense import NUMERIC, dims, dispatch, enforce_cmp, enforce_that, size_from

ARGS = [
    Arg("broadcast", bool, False, doc="1 turns on legacy broadcasting of B against A"),
    Arg(
        "axis", int, -1, doc="legacy broadcasting: A's dimension where B's shape starts"
    ),
    Arg("axis_str", str, "", doc="legacy broadcasting: the axis as a letter of order"),
    Arg("order", str, "NCHW", doc="the storage order axis_str refers to"),
]

_NDARRAY = np.ndarray
_NPOS = 2**64 - 1  # std::string::npos, as Caffe2 printed it


def legacy_axis(axis: int, axis_str: str, order: str) -> int:
    """The broadcast axis from ``axis`` or ``axis_str`` (-1 when neither is given)."""
    if axis != -1:
        enforce_cmp(
            not axis_str,
            "axis_str_.size() == 0",
            len(axis_str),
            0,
            "Args axis and axis_str cannot be used simultaneously.",
            error=EnforceError,
        )
        return axis
    if not axis_str:
        return -1
    enforce_cmp(
        len(axis_str) == 1,
        "axis_str_.size() == 1",
        len(axis_str),
        1,
        f"Unsupported axis string{axis_str}",
        error=EnforceError,
    )
    pos = order.find(axis_str)
    if pos < 0:
        raise EnforceError(
            f"semantic_axis_ != string::npos. {_NPOS} vs {_NPOS}. Unrecognizable axis "
            f"string {axis_str} from order string {order}",
            arg="axis_str",
            expected=f"a letter of {order!r}",
            found=repr(axis_str),
        )
    return pos


def legacy_sizes(a: Sequence[int], b: Sequence[int], axis: int) -> tuple[int, int, int]:
    """(pre, n, post): A read as (pre, n, post) and B as n values (Caffe2's
    ``ComputeLegacyBroadcastSizes``)."""
    enforce_cmp(
        len(a) >= len(b),
        "A.dim() >= B.dim()",
        len(a),
        len(b),
        "If you are doing broadcasting, input1 should have a smaller or equal "
        "number of dimensions.",
        blob="B",
    )
    if axis == -1:
        axis = len(a) - len(b)
    enforce_that(
        0 <= axis <= len(a) - len(b),
        "axis >= 0 && axis <= A.dim() - B.dim()",
        "Broadcast axis should be in the range of[0, A.ndim() - B.ndim()], but "
        f"axis = {axis}",
        expected=f"0 <= axis <= {len(a) - len(b)}",
        found=axis,
    )
    start = next((i for i, d in enumerate(b) if d != 1), len(b))
    end = next((i for i in range(len(b) - 1, start - 1, -1) if b[i] != 1), start - 1)
    for i in range(start, end + 1):
        enforce_cmp(
            a[i + axis] == b[i],
            "A.size(i + axis) == B.size(i)",
            a[i + axis],
            b[i],
            "Broadcast dimension mismatch.",
            blob="B",
        )
    pre = size_from(a[: axis + start], 0)
    n = size_from(b[start : end + 1], 0)
    post = size_from(a[axis + end + 1 :], 0)
    return pre, n, post


def broadcast_shape(a: Sequence[int], b: Sequence[int]) -> tuple[int, ...]:
    """numpy-style result shape, with Caffe2's message for incompatible dimensions."""
    out = []
    for k in range(1, max(len(a), len(b)) + 1):
        p = a[-k] if k <= len(a) else None
        q = b[-k] if k <= len(b) else None
        if p is None or q is None:
            out.append(q if p is None else p)
            continue
        if p != q and p != 1 and q != 1:
            enforce_that(
                False,
                "A_dim == B_dim || A_dim == 1 || B_dim == 1",
                f"A_dim: {p},B_dim: {q}",
                blob="B",
                expected=f"a shape that broadcasts with {dims(a)}",
                found=dims(b),
            )
        out.append(0 if p == 0 or q == 0 else max(p, q))
    return tuple(reversed(out))


def operands(
    a: np.ndarray, b: np.ndarray, broadcast: bool, axis: int, axis_str: str, order: str
) -> tuple[tuple, tuple, tuple]:
    """(A's working shape, B's working shape, C's shape): the shapes Caffe2 handed to
    its kernels, and the shape of the result."""
    if not broadcast:
        return a.shape, b.shape, broadcast_shape(a.shape, b.shape)
    ax = legacy_axis(axis, axis_str, order)
    if b.size == 1:
        return (a.size,), (1,), a.shape
    pre, n, post = legacy_sizes(a.shape, b.shape, ax)
    return (pre, n, post), (n, 1), a.shape


def check_types(a: np.ndarray, b: np.ndarray) -> np.dtype:
    """A is int32, int64, float32 or float64; B has A's type."""
    dtype = dispatch(a, "A", NUMERIC)
    check_dtype(b, "B", dtype)
    return dtype


def forward(
    ufunc: Callable,
    a: np.ndarray,
    b: np.ndarray,
    broadcast: bool,
    axis: int,
    axis_str: str,
    order: str,
) -> tuple[np.ndarray]:
    """C = ufunc(A, B) with Caffe2's broadcasting."""
    # Same shapes and one type (the common case) need none of the shape work.
    if not broadcast and type(a) is _NDARRAY and type(b) is _NDARRAY:
        dtype = a.dtype
        if dtype in NUMERIC and b.dtype == dtype and a.shape == b.shape:
            out = np.empty(a.shape, dtype=dtype)
            ufunc(a, b, out=out)
            return (out,)
    dtype = check_types(a, b)
    a_dims, b_dims, c_shape = operands(a, b, broadcast, axis, axis_str, order)
    # The working shapes broadcast to C's shape (numpy style) or are A's (legacy).
    out = np.empty(a_dims if broadcast else c_shape, dtype=dtype)
    ufunc(a.reshape(a_dims), b.reshape(b_dims), out=out)
    return (out.reshape(c_shape),)


def reduce_to(g: np.ndarray, shape: Sequence[int]) -> np.ndarray:
    """Sum ``g`` (of the broadcast shape) over the dimensions ``shape`` broadcast."""
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, d in enumerate(shape) if d == 1 and g.shape[lead + i] != 1
    )
    if axes:
        g = np.sum(g, axis=axes, dtype=g.dtype)
    return np.asarray(g).reshape(shape)


def backward(
    kind: str,
    dc: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    broadcast: bool,
    axis: int,
    axis_str: str,
    order: str,
) -> tuple[np.ndarray, np.ndarray]:
    """(dA, dB) for ``kind`` in ``"add"``, ``"sub"``, ``"mul"``: dC's contributions,
    summed over the dimensions each operand was broadcast along."""
    dtype = check_types(a, b)
    check_dtype(dc, "dC", dtype)
    if not broadcast and a.ndim and a.shape == b.shape == dc.shape:
        # No broadcasting: nothing to reduce (0-d operands take the general path,
        # which keeps them arrays rather than numpy scalars).
        if kind == "add":
            return dc, dc
        if kind == "sub":
            return dc, np.negative(dc)
        return np.multiply(dc, b), np.multiply(dc, a)
    a_dims, b_dims, c_shape = operands(a, b, broadcast, axis, axis_str, order)
    if dc.shape != tuple(c_shape):
        enforce_that(
            False,
            "dC.sizes() == C.sizes()",
            blob="dC",
            expected=f"the forward output's shape {dims(c_shape)}",
            found=dims(dc.shape),
        )
    g = dc.reshape(a_dims if broadcast else c_shape)
    if kind == "add":
        ga, gb = g, g
    elif kind == "sub":
        ga, gb = g, np.negative(g)
    else:
        ga, gb = np.multiply(g, b.reshape(b_dims)), np.multiply(g, a.reshape(a_dims))
    return (
        reduce_to(ga, a_dims).reshape(a.shape),
        reduce_to(gb, b_dims).reshape(b.shape),
    )


# -- shapes and costs ------------------------------------------------------------------


def binary_shape(
    a: TensorShape, b: TensorShape, *, broadcast: bool
) -> tuple[TensorShape]:
    """C's shape and type (Caffe2's ElementwiseOpShapeInference): A's shape in legacy
    mode, the numpy broadcast of A and B otherwise; A's type."""
    if broadcast:
        return (TensorShape(a.dims, a.dtype),)
    return (TensorShape(broadcast_shapes(a.dims, b.dims, "A and B"), a.dtype),)


def binary_gradient_shape(
    dc: TensorShape, a: TensorShape, b: TensorShape
) -> tuple[TensorShape, TensorShape]:
    """dA has A's shape, dB has B's, both of dC's type (A's when dC's is unknown)."""
    dtype = dc.dtype if dc.dtype is not None else a.dtype
    return (TensorShape(a.dims, dtype), TensorShape(b.dims, dtype))


def first_input_pointwise_cost(ops_per_element: int):
    """Caffe2's ``PointwiseCostInference<n>``: n flops per element of the *first*
    input, every input read and one first-input-sized output written, all at the
    first input's item size."""

    def cost(*inputs: TensorShape, outputs=()) -> Cost:
        x = inputs[0]
        item = x.dtype.itemsize if x.dtype is not None else 0
        n = numel(x)
        return Cost(
            flops=n * ops_per_element,
            bytes_read=sum(numel(s) for s in inputs) * item,
            bytes_written=n * item,
        )

    return cost
