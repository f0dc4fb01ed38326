"""SortedSegmentRange{Sum,LogSumExp,LogMeanExp,Mean,Max} and their gradient ops
(Caffe2 segment_reduction_op's AbstractSortedSegmentRangeOp with the range reducers).

One table row per reducer: the forward reduction over the contiguous rows of each
segment and the gradient of a row from its segment's output gradient, the forward
input and the forward output. SEGMENT_IDS (int32) must be sorted, start at 0 and have
no gaps, so every segment is non-empty and OUTPUT has SEGMENT_IDS[-1] + 1 rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from caffe2lite.errors import EnforceError, ShapeError
from caffe2lite.schema.checks import check_dtype, check_ndim
from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import (
    gradient_not_implemented_yet,
    register_cpu_operator,
    register_gradient,
)
from caffe2lite.schema.shapes import TensorShape

from .._dense import dims
from ._segment_checks import check_float_data
from ._segment_ids import GAPS, sorted_lengths


def _lowest_max(x2d: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Caffe2's running ``std::max`` from the type's lowest value: NaN never wins (a
    segment of NaNs gives the lowest value)."""
    m = np.fmax.reduceat(x2d, starts, axis=0)
    return np.fmax(m, np.finfo(x2d.dtype).min)


def _sum(x2d, starts, counts):
    return np.add.reduceat(x2d, starts, axis=0)


def _mean(x2d, starts, counts):
    # Caffe2 added x / blocks one row at a time.
    share = x2d / np.repeat(counts, counts).astype(x2d.dtype)[:, None]
    return np.add.reduceat(share, starts, axis=0)


def _max(x2d, starts, counts):
    return _lowest_max(x2d, starts)


def _log_exp(mean: bool):
    def reduce(x2d, starts, counts):
        m = _lowest_max(x2d, starts)
        with np.errstate(invalid="ignore", over="ignore"):
            s = np.add.reduceat(
                np.exp(x2d - np.repeat(m, counts, axis=0)), starts, axis=0
            )
        if mean:
            s = s / counts.astype(x2d.dtype)[:, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(s) + m

    return reduce


# Gradients: (dY of the row's segment, X, Y of the row's segment, the segment's row count
# per row) -> dX.


def _sum_grad(g, x, y, n):
    return g


def _mean_grad(g, x, y, n):
    return (g * (1.0 / n)[:, None]).astype(g.dtype)


def _log_exp_grad(mean: bool):
    def grad(g, x, y, n):
        with np.errstate(over="ignore", invalid="ignore"):
            out = g * np.exp(x - y)
        return out / n.astype(g.dtype)[:, None] if mean else out

    return grad


def _max_grad(g, x, y, n):
    return np.where(x == y, g, np.zeros((), g.dtype))


_DATA = np.array([[1.0, 4.0], [3.0, 2.0], [5.0, 6.0]], np.float32)
_IDS = np.array([0, 0, 1], np.int32)

# name, forward, gradient, what the reducer does
REDUCERS: list[tuple[str, Any, Any, str]] = [
    ("Sum", _sum, _sum_grad, "Summation operation applied to each segment."),
    (
        "LogSumExp",
        _log_exp(False),
        _log_exp_grad(False),
        (
            "LogSumExp computes the element-wise log of the sum of exponentials of input "
            "slices (computed as max + log(sum(exp(x - max))))."
        ),
    ),
    (
        "LogMeanExp",
        _log_exp(True),
        _log_exp_grad(True),
        (
            "LogMeanExp computes the element-wise log of the mean of exponentials of input "
            "slices (computed as max + log(mean(exp(x - max))))."
        ),
    ),
    (
        "Mean",
        _mean,
        _mean_grad,
        (
            "Mean computation is done element-wise: each element of the output slice is "
            "the average of the respective elements of the segment's slices."
        ),
    ),
    (
        "Max",
        _max,
        _max_grad,
        (
            "Max computation is done element-wise: each element of the output slice is the "
            "maximum of the respective elements of the segment's slices (NaN never wins, "
            "as in Caffe2's running max). The gradient goes to every element equal to the "
            "max."
        ),
    ),
]


def _ids_and_counts(
    segment_ids: np.ndarray, rows: int
) -> tuple[np.ndarray, np.ndarray]:
    counts = sorted_lengths(segment_ids, None, rows).astype(np.int64)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.int64)
    return starts, counts


def _check_forward(data, segment_ids) -> None:
    check_ndim(segment_ids, "SEGMENT_IDS", 1, "SEGMENT_IDS must be a vector")
    check_float_data(data)
    n = segment_ids.shape[0]
    if data.shape[0] != n:
        raise ShapeError(
            f"N == dataInput.size(0). {n} vs {data.shape[0]}. SEGMENT_IDS must have "
            "the same length as outer dimension of DATA",
            blob="DATA",
            expected=f"first dimension {n}",
            found=data.shape[0],
        )
    check_dtype(segment_ids, "SEGMENT_IDS", np.int32)


def range_forward(reduce, data: np.ndarray, segment_ids: np.ndarray) -> np.ndarray:
    _check_forward(data, segment_ids)
    n = data.shape[0]
    if n == 0:
        return np.zeros(data.shape, data.dtype)
    starts, counts = _ids_and_counts(segment_ids, n)
    x2d = np.ascontiguousarray(data).reshape(n, -1)
    out = reduce(x2d, starts, counts).astype(data.dtype, copy=False)
    return out.reshape((counts.shape[0],) + data.shape[1:])


def range_gradient(grad, data_in, data_out, segment_grads, segment_ids) -> np.ndarray:
    check_ndim(segment_ids, "SEGMENT_IDS", 1, "SEGMENT_IDS must be a vector")
    check_float_data(
        segment_grads,
        "SEGMENT_GRADS",
        rank_message="SEGMENT_GRADS must have at least one dimension",
    )
    dtype = segment_grads.dtype
    check_dtype(data_in, "DATA_IN", dtype)
    check_dtype(data_out, "DATA_OUT", dtype)
    check_dtype(segment_ids, "SEGMENT_IDS", np.int32)
    n, k = segment_ids.shape[0], segment_grads.shape[0]
    want_in = (n,) + segment_grads.shape[1:]
    if data_in.shape != want_in:
        raise ShapeError(
            f"DATA_IN must have shape {dims(want_in)} (len(SEGMENT_IDS) rows "
            "of SEGMENT_GRADS' slices)",
            blob="DATA_IN",
            expected=dims(want_in),
            found=dims(data_in.shape),
        )
    if data_out.shape != segment_grads.shape:
        raise ShapeError(
            f"DATA_OUT must have SEGMENT_GRADS' shape {dims(segment_grads.shape)}",
            blob="DATA_OUT",
            expected=dims(segment_grads.shape),
            found=dims(data_out.shape),
        )
    if n == 0:
        return np.zeros(want_in, dtype)
    if segment_ids[-1] != k - 1 and segment_ids[0] == 0:
        raise EnforceError(
            f"K - 1 == s_ids[N - 1]. {k - 1} vs {int(segment_ids[-1])}. {GAPS}",
            blob="SEGMENT_IDS",
            expected=f"last id {k - 1}",
            found=int(segment_ids[-1]),
        )
    _, counts = _ids_and_counts(segment_ids, n)
    per_row = np.repeat(counts, counts)
    g = segment_grads.reshape(k, -1)[segment_ids]
    y = data_out.reshape(k, -1)[segment_ids]
    x = data_in.reshape(n, -1)
    return grad(g, x, y, per_row).astype(dtype, copy=False).reshape(want_in)


def _forward_shape(data: TensorShape, ids: TensorShape):
    if data.dims is None:
        return (TensorShape(None, data.dtype),)
    return (TensorShape(("SEGMENT_IDS[-1]+1",) + tuple(data.dims[1:]), data.dtype),)


def _gradient_shape(
    data_in: TensorShape, data_out: TensorShape, grads: TensorShape, ids: TensorShape
):
    if grads.dims is None:
        return (TensorShape(None, grads.dtype),)
    n = ids.dims[0] if ids.dims else "len(SEGMENT_IDS)"
    return (TensorShape((n,) + tuple(grads.dims[1:]), grads.dtype),)


def _register(name: str, reduce: Any, grad: Any, what: str) -> None:
    op_type = f"SortedSegmentRange{name}"
    grad_type = op_type + "Gradient"
    out, dx = (np.array(v, np.float32) for v in _EXAMPLES[name])
    register_cpu_operator(
        op_type,
        inputs=["DATA", "SEGMENT_IDS"],
        outputs=["OUTPUT"],
        shape=_forward_shape,
        example=Example({"DATA": _DATA, "SEGMENT_IDS": _IDS}, {"OUTPUT": out}),
        doc=f"""Applies '{name}' to each segment of DATA along its first dimension. {what}

SEGMENT_IDS (int32, one per row of DATA) maps each row to its segment; the segments
must be contiguous and non-empty: SEGMENT_IDS sorted, starting at 0, without gaps
("{GAPS}" otherwise). OUTPUT has SEGMENT_IDS[-1] + 1 rows (0 when SEGMENT_IDS is
empty) and DATA's other dimensions and type (float32; float64 too).

Its gradient is {grad_type}([DATA, OUTPUT, dOUTPUT, SEGMENT_IDS]) -> dDATA.

Example: DATA={_DATA.tolist()}, SEGMENT_IDS={_IDS.tolist()} -> OUTPUT={out.astype(float).round(6).tolist()}""",
    )(lambda data, segment_ids: (range_forward(reduce, data, segment_ids),))

    @register_gradient(op_type)
    def maker(g):
        # No gradient on SEGMENT_IDS.
        return [g.op_def(grad_type, [g.I(0), g.O(0), g.GO(0), g.I(1)], [g.GI(0)])]

    dy = np.array([[1.0, 2.0], [3.0, 4.0]], np.float32)
    register_cpu_operator(
        grad_type,
        inputs=["DATA_IN", "DATA_OUT", "SEGMENT_GRADS", "SEGMENT_IDS"],
        outputs=["DATA_GRAD"],
        shape=_gradient_shape,
        example=Example(
            {
                "DATA_IN": _DATA,
                "DATA_OUT": out,
                "SEGMENT_GRADS": dy,
                "SEGMENT_IDS": _IDS,
            },
            {"DATA_GRAD": dx},
        ),
        doc=f"""Gradient of {op_type}: row i of DATA_GRAD is the gradient of DATA's row i,
from its segment's output gradient SEGMENT_GRADS[SEGMENT_IDS[i]], the forward input
DATA_IN and the forward output DATA_OUT. SEGMENT_IDS must be sorted, start at 0 and
end at len(SEGMENT_GRADS) - 1 without gaps.

Example: DATA_IN={_DATA.tolist()}, DATA_OUT={out.astype(float).round(6).tolist()}, SEGMENT_GRADS={dy.tolist()},
SEGMENT_IDS={_IDS.tolist()} -> DATA_GRAD={dx.astype(float).round(6).tolist()}""",
    )(
        lambda data_in, data_out, segment_grads, segment_ids: (
            range_gradient(grad, data_in, data_out, segment_grads, segment_ids),
        )
    )
    gradient_not_implemented_yet(grad_type)


# The worked examples, stated apart from the kernels: DATA=_DATA, SEGMENT_IDS=[0, 0, 1],
# SEGMENT_GRADS=[[1, 2], [3, 4]]; (OUTPUT, DATA_GRAD) per reducer.
_LSE = np.log(np.exp([1.0, 4.0]) + np.exp([3.0, 2.0]))  # segment 0's log-sum-exp
_SOFT = np.exp(np.array([[1.0, 4.0], [3.0, 2.0]]) - _LSE)  # its softmax weights
_EXAMPLES = {
    "Sum": ([[4, 6], [5, 6]], [[1, 2], [1, 2], [3, 4]]),
    "LogSumExp": ([_LSE, [5, 6]], [*(_SOFT * [1, 2]), [3, 4]]),
    "LogMeanExp": ([_LSE - np.log(2), [5, 6]], [*(_SOFT * [1, 2]), [3, 4]]),
    "Mean": ([[2, 3], [5, 6]], [[0.5, 1], [0.5, 1], [3, 4]]),
    "Max": ([[3, 4], [5, 6]], [[0, 2], [1, 0], [3, 4]]),
}

for _row in REDUCERS:
    _register(*_row)
