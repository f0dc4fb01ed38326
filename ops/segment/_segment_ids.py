"""Reductions over segment ids: {Sorted,Unsorted}Segment{Sum,Mean}, their Sparse*
forms (a Gather fused in front) and their gradients (Caffe2 segment_reduction_op's
AbstractSortedSegmentOp / AbstractUnsortedSegmentOp).

Not an operator module: the ``*sorted_segment_*`` op files import it. SEGMENT_IDS
(int32) maps each row (or each looked-up row) to its segment. The rows are put in
segment order (a stable sort, so each segment keeps its rows' order) and summed
with the Lengths* reduction, so a segment is summed in the order Caffe2 visited it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from caffe2lite.errors import ArgumentError, EnforceError, ShapeError
from caffe2lite.schema.checks import check_dtype, check_ndim
from caffe2lite.schema.example import Example
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.registry import (
    gradient_not_implemented_yet,
    register_cpu_operator,
    register_gradient,
)
from caffe2lite.schema.shapes import TensorShape

from ._segment_checks import check_float_data, check_index_type
from ._segment_kernels import rows_view, segment_reduce

GAPS = "Indices must be sorted and not have gaps"


def check_ids(
    data: np.ndarray, indices: np.ndarray | None, segment_ids: np.ndarray
) -> None:
    """The checks made before any reduction, in Caffe2's order."""
    if indices is not None:
        check_index_type(indices)
    check_ndim(segment_ids, "SEGMENT_IDS", 1, "SEGMENT_IDS must be a vector")
    n = segment_ids.shape[0]
    check_float_data(data)
    if indices is not None:
        check_ndim(indices, "INDICES", 1, "INDICES must be a vector")
        if indices.shape[0] != n:
            raise ShapeError(
                f"N == indices.size(0). {n} vs {indices.shape[0]}. SEGMENT_IDS must "
                "have the same length as INDICES",
                blob="INDICES",
                expected=f"length {n}",
                found=indices.shape[0],
            )
    elif data.shape[0] != n:
        raise ShapeError(
            f"N == M. {n} vs {data.shape[0]}. DATA must have the same first dimension "
            "as SEGMENT_IDS",
            blob="DATA",
            expected=f"first dimension {n}",
            found=data.shape[0],
        )
    check_dtype(segment_ids, "SEGMENT_IDS", np.int32)


def _first(mask: np.ndarray) -> int:
    """The first True position of ``mask`` (its length when there is none)."""
    hits = np.flatnonzero(mask)
    return int(hits[0]) if hits.size else mask.shape[0]


def _bad_index(indices: np.ndarray | None, rows: int) -> int:
    if indices is None or indices.size == 0:
        return 0 if indices is None else indices.shape[0]
    return _first((indices < 0) | (indices >= rows))


def _index_error(indices: np.ndarray, pos: int, rows: int) -> EnforceError:
    return EnforceError(
        f"Index out of bounds: {int(indices[pos])}, range 0 to {rows}",
        blob="INDICES",
        expected=f"0 <= index < {rows}",
        found=int(indices[pos]),
    )


def sorted_lengths(
    segment_ids: np.ndarray, indices: np.ndarray | None, rows: int
) -> np.ndarray:
    """Segment lengths of sorted gap-free ids, with Caffe2's checks in its order
    (an index is checked as its segment is reduced; a gap when the next segment
    starts)."""
    ids = segment_ids.astype(np.int64)
    n = ids.shape[0]
    if n == 0:
        return np.zeros(0, np.int32)
    if ids[0] != 0:
        raise EnforceError(
            f"0 == s_ids[0]. 0 vs {int(ids[0])}. {GAPS}",
            blob="SEGMENT_IDS",
            expected="ids starting at 0",
            found=int(ids[0]),
        )
    step = np.diff(ids)
    gap = _first((step != 0) & (step != 1))
    gap_pos = gap + 1  # checked when the segment starting there is reached
    bad = _bad_index(indices, rows)
    if indices is not None and bad < n and bad < gap_pos:
        raise _index_error(indices, bad, rows)
    if gap_pos < n:
        raise EnforceError(
            f"s_ids[start] + 1 == s_ids[i]. {int(ids[gap]) + 1} vs {int(ids[gap_pos])}. "
            f"{GAPS}",
            blob="SEGMENT_IDS",
            expected=f"{int(ids[gap])} or {int(ids[gap]) + 1} at position {gap_pos}",
            found=int(ids[gap_pos]),
        )
    return np.bincount(ids, minlength=int(ids[-1]) + 1).astype(np.int32)


def unsorted_order(
    segment_ids: np.ndarray, indices: np.ndarray | None, rows: int, num_segments: int
) -> tuple[int, np.ndarray, np.ndarray]:
    """(K, lengths, positions in segment order) for unsorted ids, with Caffe2's
    checks: at each position the segment id, then the index."""
    ids = segment_ids.astype(np.int64)
    n = ids.shape[0]
    if num_segments != -1:
        if num_segments < 0:
            raise ArgumentError(
                "num_segments must be -1 (from the ids) or a count >= 0",
                arg="num_segments",
                expected=">= 0 or -1",
                found=num_segments,
            )
        k = num_segments
    else:
        k = int(ids.max()) + 1 if n else 0
        k = max(k, 0)
    bad_id = _first((ids < 0) | (ids >= k)) if n else 0
    bad = _bad_index(indices, rows)
    if bad_id < n and (indices is None or bad_id <= bad):
        raise EnforceError(
            f"Segment id out of range: {int(ids[bad_id])}, range 0 to {k}",
            blob="SEGMENT_IDS",
            expected=f"0 <= id < {k}",
            found=int(ids[bad_id]),
        )
    if indices is not None and bad < n:
        raise _index_error(indices, bad, rows)
    order = np.argsort(ids, kind="stable")
    lengths = np.bincount(ids, minlength=k).astype(np.int32)
    return k, lengths, order


def reduce_segments(
    data: np.ndarray,
    indices: np.ndarray | None,
    segment_ids: np.ndarray,
    *,
    sorted_ids: bool,
    mean: bool,
    num_segments: int = -1,
) -> np.ndarray:
    """The forward ops: (K,) + DATA.shape[1:] segment sums or means."""
    check_ids(data, indices, segment_ids)
    rows = data.shape[0]
    if sorted_ids:
        lengths = sorted_lengths(segment_ids, indices, rows)
        picked = None if indices is None else indices
    else:
        _, lengths, order = unsorted_order(segment_ids, indices, rows, num_segments)
        picked = order if indices is None else indices[order]
    out = segment_reduce(rows_view(data), lengths, rows=picked)
    if mean:
        nonempty = lengths > 0
        out[nonempty] /= lengths[nonempty].astype(out.dtype)[:, None]
    return out.reshape((lengths.shape[0],) + data.shape[1:])


def segment_gradient(
    grads: np.ndarray, segment_ids: np.ndarray, *, sorted_ids: bool, mean: bool
) -> np.ndarray:
    """The gradient ops: row i of the result is SEGMENT_GRADS[SEGMENT_IDS[i]]
    (divided by the segment's length for Mean)."""
    check_ndim(segment_ids, "SEGMENT_IDS", 1, "SEGMENT_IDS must be a vector")
    check_float_data(
        grads,
        "SEGMENT_GRADS",
        message="Tensor type mismatch, caller expects elements to be float while "
        "tensor contains {}",
        rank_message="SEGMENT_GRADS must have at least one dimension",
    )
    check_dtype(segment_ids, "SEGMENT_IDS", np.int32)
    ids = segment_ids.astype(np.int64)
    k, n = grads.shape[0], ids.shape[0]
    if sorted_ids and n:
        if ids[0] != 0:
            raise EnforceError(
                f"0 == s_ids[0]. 0 vs {int(ids[0])}. {GAPS}",
                blob="SEGMENT_IDS",
                expected="ids starting at 0",
                found=int(ids[0]),
            )
        if ids[-1] != k - 1:
            raise EnforceError(
                f"K - 1 == s_ids[N - 1]. {k - 1} vs {int(ids[-1])}. {GAPS}",
                blob="SEGMENT_IDS",
                expected=f"last id {k - 1}",
                found=int(ids[-1]),
            )
        step = np.diff(ids)
        gap = _first((step != 0) & (step != 1))
        if gap + 1 < n:
            raise EnforceError(
                f"s_ids[start] + 1 == s_ids[i]. {int(ids[gap]) + 1} vs "
                f"{int(ids[gap + 1])}. {GAPS}",
                blob="SEGMENT_IDS",
                expected="sorted ids without gaps",
                found=int(ids[gap + 1]),
            )
    elif n:
        bad = _first((ids < 0) | (ids >= k))
        if bad < n:
            # Caffe2 checked this for Mean and read out of bounds for Sum.
            raise EnforceError(
                f"Segment id out of range: {int(ids[bad])}, range 0 to {k}",
                blob="SEGMENT_IDS",
                expected=f"0 <= id < {k}",
                found=int(ids[bad]),
            )
    out = np.take(grads, ids, axis=0)
    if mean and n:
        counts = np.bincount(ids, minlength=k)[ids]
        out = out / counts.astype(grads.dtype).reshape((n,) + (1,) * (grads.ndim - 1))
    return out


# -- shape functions ---------------------------------------------------------------


def forward_shape(sparse: bool, sorted_ids: bool):
    def shape(*inputs: TensorShape, **kwargs: Any) -> tuple[TensorShape, ...]:
        data, num_segments = inputs[0], kwargs.get("num_segments", -1)
        if not sorted_ids and num_segments != -1:
            k: Any = num_segments
        else:
            k = "max(SEGMENT_IDS)+1"
        if data.dims is None:
            return (TensorShape(None, data.dtype),)
        return (TensorShape((k,) + tuple(data.dims[1:]), data.dtype),)

    return shape


def gradient_shape(grads: TensorShape, ids: TensorShape) -> tuple[TensorShape, ...]:
    n = ids.dims[0] if ids.dims else "len(SEGMENT_IDS)"
    if grads.dims is None:
        return (TensorShape(None, grads.dtype),)
    return (TensorShape((n,) + tuple(grads.dims[1:]), grads.dtype),)


# -- registration ------------------------------------------------------------------

_DATA = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], np.float32)


def register_segment_op(
    reducer: str,
    *,
    sparse: bool,
    sorted_ids: bool,
    doc: str,
    example_ids: list[int],
    output: list,
    gradient_output: list,
    kernel: Any,
    gradient_kernel: Any,
) -> None:
    """Register ``[Sparse]{Sorted,Unsorted}Segment{reducer}`` with ``kernel``, its
    gradient maker (emitting ``{Sorted,Unsorted}Segment{reducer}Gradient``) and, with
    ``gradient_kernel``, the op's own-named gradient op (Caffe2 registered one under
    each forward op's name; the Sparse* ones are never emitted)."""
    kind = "Sorted" if sorted_ids else "Unsorted"
    op_type = ("Sparse" if sparse else "") + f"{kind}Segment{reducer}"
    mean = reducer == "Mean"
    inputs = ["DATA"] + (["INDICES"] if sparse else []) + ["SEGMENT_IDS"]
    ids = np.array(example_ids, np.int32)
    values = {
        "DATA": _DATA,
        "INDICES": np.array([2, 0, 2], np.int64),
        "SEGMENT_IDS": ids,
    }
    args = (
        []
        if sorted_ids
        else [
            Arg(
                "num_segments",
                int,
                -1,
                doc="the number of output segments (default: max(SEGMENT_IDS) + 1)",
            )
        ]
    )
    register_cpu_operator(
        op_type,
        inputs=inputs,
        outputs=["OUTPUT"],
        args=args,
        shape=forward_shape(sparse, sorted_ids),
        example=Example(
            {k: values[k] for k in inputs}, {"OUTPUT": np.array(output, np.float32)}
        ),
        doc=doc,
    )(kernel)

    grad_type = f"{kind}Segment{reducer}Gradient"

    @register_gradient(op_type)
    def maker(g):
        seg = g.I(2 if sparse else 1)
        if sparse:
            ops = [g.op_def(grad_type, [g.GO(0), seg], [g.GI_V(0)])]
            g.SetSparse(0, g.I(1), g.GI_V(0))
            return ops
        return [g.op_def(grad_type, [g.GO(0), seg], [g.GI(0)])]

    own_grad = op_type + "Gradient"
    grads = np.array([[1.0, 2.0], [3.0, 4.0]], np.float32)
    register_cpu_operator(
        own_grad,
        inputs=["SEGMENT_GRADS", "SEGMENT_IDS"],
        outputs=["DATA_GRAD"],
        shape=gradient_shape,
        example=Example(
            {"SEGMENT_GRADS": grads, "SEGMENT_IDS": ids},
            {"DATA_GRAD": np.array(gradient_output, np.float32)},
        ),
        doc=_gradient_doc(
            op_type,
            grad_type,
            own_grad,
            sorted_ids,
            mean,
            grads.tolist(),
            example_ids,
            gradient_output,
        ),
    )(gradient_kernel)
    gradient_not_implemented_yet(own_grad)


def _gradient_doc(op_type, grad_type, own_grad, sorted_ids, mean, grads, ids, out):
    how = "divided by the segment's length" if mean else "copied"
    if own_grad == grad_type:
        what = f"Gradient of {op_type} (and of Sparse{op_type}, as sparse values)"
    else:
        what = (
            f"The gradient op registered under {op_type}'s name; {op_type}'s "
            f"maker emits {grad_type}, which computes the same"
        )
    rule = (
        "SEGMENT_IDS must be sorted, start at 0 and end at len(SEGMENT_GRADS) - 1 "
        "without gaps."
        if sorted_ids
        else "Every id must lie in [0, len(SEGMENT_GRADS))."
    )
    return f"""{what}: row i of DATA_GRAD is the output gradient of segment
SEGMENT_IDS[i], {how}. {rule}

Example: SEGMENT_GRADS={grads}, SEGMENT_IDS={ids} -> DATA_GRAD={out}"""
