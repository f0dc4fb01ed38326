"""GatherRangesToDense: one dense output per feature from ranges of a 1-D tensor
(Caffe2 gather_ranges_to_dense_op)."""

from __future__ import annotations

import numpy as np

from caffe2lite.errors import ArgumentError, DTypeError, EnforceError, ShapeError
from caffe2lite.schema.example import Example
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.registry import no_gradient, register_cpu_operator
from caffe2lite.schema.shapes import TensorShape

from ..segment._segment_checks import check_index_type

_ARGS = [
    Arg("lengths", "ints", [], doc="the expected length of each feature's range"),
    Arg(
        "min_observation",
        int,
        10000,
        doc="examples seen before the ratios below are enforced",
    ),
    Arg(
        "max_mismatched_ratio",
        float,
        0.01,
        doc="largest tolerated share of ranges whose length is wrong",
    ),
    Arg("max_empty_ratio", float, 1.0, doc="largest tolerated share of empty ranges"),
]


def _check_args(lengths, min_observation, outputs):
    if not lengths:
        raise ArgumentError(
            "lengths_.size() > 0. 0 vs 0. There has to be at least one length",
            arg="lengths",
        )
    bad = [n for n in lengths if n <= 0]
    if bad:
        raise ArgumentError(
            f"length > 0. {bad[0]} vs 0. Each length should be positive",
            arg="lengths",
            expected="> 0",
            found=bad[0],
        )
    if min_observation <= 0:
        raise ArgumentError(
            f"minObservation_ > 0. {min_observation} vs 0. The number "
            "of observations is at least 1",
            arg="min_observation",
            expected="> 0",
            found=min_observation,
        )


def _fmt(x: float) -> str:
    return f"{x:.6g}"  # C++ stream default precision


def _shape(data, ranges, key=None, *, lengths, num_outputs, **unused):
    batch = ranges.dims[0] if ranges.dims else "len(RANGES)"
    return tuple(TensorShape((batch, n), data.dtype) for n in lengths[:num_outputs])


@register_cpu_operator(
    "GatherRangesToDense",
    inputs=["DATA", "RANGES", "KEY"],
    outputs=["OUTPUT"],
    num_inputs=(2, 3),
    num_outputs=(1, None),
    args=_ARGS,
    shape=_shape,
    example=Example(
        {
            "DATA": np.array([1, 2, 3, 4, 5, 6, 7, 8], np.float32),
            "RANGES": np.array([[[2, 4], [0, 2]], [[0, 0], [6, 2]]], np.int32),
        },
        {
            "OUTPUT_0": np.array([[3, 4, 5, 6], [0, 0, 0, 0]], np.float32),
            "OUTPUT_1": np.array([[1, 2], [7, 8]], np.float32),
        },
        args={"lengths": [4, 2]},
    ),
    doc="""Turn ranges of a 1-D DATA into one dense matrix per feature. RANGES
(int32 or int64, shape (batch, features, 2)) holds a (start, length) pair for each
example and feature; output j has shape (batch, lengths[j]) and DATA's type. A range
of the expected length is copied (sorted by KEY when the int64 KEY input, one key
per DATA entry, is given); an empty range or one of another length gives a row of
zeros. Over the op's life it counts empty and mismatched ranges per feature and
fails once, with at least min_observation examples counted (or that many assumed),
their share exceeds max_empty_ratio or max_mismatched_ratio (1 disables a check).
There must be as many outputs as `lengths`, all positive; a range past DATA's end
is an error (Caffe2 read past it).

Example: DATA=[1, 2, 3, 4, 5, 6, 7, 8], RANGES=[[[2, 4], [0, 2]], [[0, 0], [6, 2]]],
lengths=[4, 2] -> OUTPUT_0=[[3, 4, 5, 6], [0, 0, 0, 0]], OUTPUT_1=[[1, 2], [7, 8]]""",
)
def gather_ranges_to_dense(
    data,
    ranges,
    *key,
    lengths,
    min_observation,
    max_mismatched_ratio,
    max_empty_ratio,
    num_outputs,
    state,
):
    """Dense per-feature rows from the ranges of DATA."""
    _check_args(lengths, min_observation, num_outputs)
    check_index_type(ranges, "RANGES")
    if data.ndim != 1:
        raise ShapeError(
            f"data.dim() == 1. {data.ndim} vs 1. Data has to be 1-D",
            blob="DATA",
            expected="1-D",
            found=f"shape {data.shape}",
        )
    if ranges.ndim != 3:
        raise ShapeError(
            f"ranges.dim() == 3. {ranges.ndim} vs 3. Ranges has to be 3-D",
            blob="RANGES",
            expected="3-D",
            found=f"shape {ranges.shape}",
        )
    keys = key[0] if key else None
    if keys is not None:
        if keys.ndim != 1:
            raise ShapeError(
                f"key.dim() == 1. {keys.ndim} vs 1. Key has to be 1-D",
                blob="KEY",
                expected="1-D",
                found=f"shape {keys.shape}",
            )
        if keys.dtype != np.int64:
            raise DTypeError(
                "Key has to be type int64_t",
                blob="KEY",
                expected="int64",
                found=str(keys.dtype),
            )
    features = ranges.shape[1]
    for want, msg in (
        (len(lengths), "Number of ranges should match number of lengths"),
        (num_outputs, "Number of ranges should match number of outputs"),
    ):
        if features != want:
            raise ShapeError(
                f"ranges.size(1) == {want}. {features} vs {want}. {msg}",
                blob="RANGES",
                expected=want,
                found=features,
            )
    if ranges.shape[2] != 2:
        raise ShapeError(
            f"ranges.size(2) == 2. {ranges.shape[2]} vs 2. Ranges last "
            "dimension should be of size 2",
            blob="RANGES",
            expected=2,
            found=ranges.shape[2],
        )
    batch = ranges.shape[0]
    starts = ranges[:, :, 0].astype(np.int64)
    sizes = ranges[:, :, 1].astype(np.int64)
    want = np.array(lengths, np.int64)[None, :]
    empty = sizes == 0
    matched = ~empty & (sizes == want)
    mismatched = ~empty & ~matched
    bad = matched & ((starts < 0) | (starts + sizes > data.shape[0]))
    if bad.any():
        b, j = (int(v[0]) for v in np.nonzero(bad))
        raise EnforceError(
            "range out of DATA's bounds",
            blob="RANGES",
            expected=f"0 <= start and start + length <= {data.shape[0]}",
            found=f"({int(starts[b, j])}, {int(sizes[b, j])}) at [{b}, {j}]",
        )
    if keys is not None and keys.shape[0] < data.shape[0]:
        raise EnforceError(
            "KEY must have one key per DATA entry",
            blob="KEY",
            expected=f"{data.shape[0]} keys",
            found=keys.shape[0],
        )
    total = state.get("total", 0) + batch
    empties = state.get("empty", np.zeros(features, np.int64)) + empty.sum(axis=0)
    mism = state.get("mismatched", np.zeros(features, np.int64)) + mismatched.sum(
        axis=0
    )
    seen = state.get("mismatched_lengths", [set() for _ in range(features)])
    seen = [s | set(sizes[mismatched[:, j], j].tolist()) for j, s in enumerate(seen)]
    state.update(total=total, empty=empties, mismatched=mism, mismatched_lengths=seen)
    outs = []
    for j in range(features):  # one output per feature, not per row
        rows = np.flatnonzero(matched[:, j])
        n = lengths[j]
        pos = starts[rows, j][:, None] + np.arange(n)[None, :]
        if keys is not None and rows.size:
            order = np.argsort(keys[pos], axis=1, kind="stable")
            pos = np.take_along_axis(pos, order, axis=1)
        out = np.zeros((batch, n), data.dtype)
        out[rows] = data[pos]
        outs.append(out)
    floor = max(total, min_observation)
    for j in range(features):
        if max_mismatched_ratio < 1.0 and floor * max_mismatched_ratio < mism[j]:
            raise EnforceError(
                f"Ratio of range length mismatch for feature at index {j} is "
                f"{_fmt(mism[j] / total)} ({int(mism[j])}/{total}) which exceeds "
                f"{_fmt(max_mismatched_ratio)}. The incorrect lengths include: "
                f"{sorted(seen[j])}",
                blob="RANGES",
            )
        if max_empty_ratio < 1.0 and floor * max_empty_ratio < empties[j]:
            raise EnforceError(
                f"Ratio of empty ranges for feature at index {j} is "
                f"{_fmt(empties[j] / total)} ({int(empties[j])}/{total}) which exceeds "
                f"{_fmt(max_empty_ratio)}",
                blob="RANGES",
            )
    return tuple(outs)


no_gradient("GatherRangesToDense")
