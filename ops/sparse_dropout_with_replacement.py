"""SparseDropoutWithReplacement: drop whole segments of an id list, putting one
``replacement_value`` in place of each dropped segment (Caffe2
sparse_dropout_with_replacement_op).

The kernel is vectorised over segments. Consecutive dropped segments form a
*region*; the output is a sequence of blocks, block j being the kept elements before
region j followed by one slot per dropped segment of region j (the last block has no
region). Two ways fill the kept elements, whichever costs less for the data at hand:
a boolean compaction of X (one pass over X, it reuses the first elements of each
region for its slots) or a gather from an index built with one cumulative sum (work
proportional to the output only; it also places slots for empty dropped segments).
The slots are then overwritten with the replacement value.
"""

from __future__ import annotations

import numpy as np

from caffe2lite.checks import check_dtype, check_ndim, enforce
from caffe2lite.errors import EnforceError
from caffe2lite.registry import no_gradient, register_cpu_operator
from caffe2lite.schema import Arg

DROPOUT_ARGS = [
    Arg(
        "ratio",
        float,
        0.0,
        doc="probability of a drop, in [0, 1]",
        check=lambda r: 0.0 <= r <= 1.0,
        check_message="Ratio should be a valid probability",
        expected="0 <= ratio <= 1",
    ),
    Arg("replacement_value", int, 0, doc="the int64 value written in place of a drop"),
]

# Rough costs (ns) of the two fills, per element and per region, measured with numpy 2.
_COMPACT_PER_INPUT, _COMPACT_PER_KEPT, _COMPACT_PER_REGION = 0.4, 0.4, 40.0
_GATHER_PER_OUTPUT, _GATHER_PER_REGION = 1.2, 5.0


def check_id_list(x: np.ndarray, lengths: np.ndarray) -> None:
    """Caffe2's input checks for the two sparse dropout ops, in Caffe2's order (plus a
    check that no length is negative)."""
    check_ndim(x, "X", 1, "Input tensor should be 1-D")
    check_dtype(x, "X", np.int64)
    check_ndim(lengths, "Lengths", 1, "Lengths tensor should be 1-D")
    check_dtype(lengths, "Lengths", np.int32)
    total = int(lengths.sum(dtype=np.int64))
    enforce(
        total == x.shape[0],
        "Inconsistent input data. Number of elements should match total length.",
        blob="Lengths",
        expected=f"sum(Lengths) == X.size == {x.shape[0]}",
        found=total,
    )
    if lengths.shape[0] and lengths.min() < 0:
        bad = int(np.flatnonzero(lengths < 0)[0])
        raise EnforceError(
            "Segment lengths must be non-negative",
            blob="Lengths",
            expected="lengths >= 0",
            found=f"{int(lengths[bad])} at index {bad}",
        )


def _regions(
    keep: np.ndarray, lengths: np.ndarray, total: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(dropped segments, their elements) of each region, and the kept elements
    before each region and after the last. Needs a dropped and a kept segment."""
    n = keep.shape[0]
    offsets = np.zeros(n + 1, dtype=np.int32 if total < 2**31 else np.int64)
    np.cumsum(lengths, out=offsets[1:], dtype=offsets.dtype)
    edges = np.zeros(n + 2, dtype=np.bool_)
    np.logical_not(keep, out=edges[1:-1])
    flips = np.flatnonzero(edges[1:] != edges[:-1])
    first, stop = flips[0::2], flips[1::2]  # region j: dropped segments [first, stop)
    kept = np.empty(first.shape[0] + 1, dtype=np.int64)
    kept[0] = offsets[first[0]]
    kept[1:-1] = offsets[first[1:]] - offsets[stop[:-1]]
    kept[-1] = offsets[n] - offsets[stop[-1]]
    return stop - first, (offsets[stop] - offsets[first]).astype(np.int64), kept


def _slot_positions(ends: np.ndarray, per_region: np.ndarray) -> np.ndarray:
    """Output positions of the slots: region j's slots are the last ``per_region[j]``
    positions of block j, which ends (exclusive) at ``ends[j]``. A running sum of
    ones, with a jump at the first slot of each region."""
    first_slot = ends[:-1] - per_region
    positions = np.ones(int(per_region.sum()), dtype=np.intp)
    positions[0] = first_slot[0]
    starts = np.cumsum(per_region[:-1])
    positions[starts] = first_slot[1:] - ends[:-2] + 1
    np.cumsum(positions, out=positions)
    return positions


def _compact(
    x: np.ndarray, kept: np.ndarray, per_region: np.ndarray, region_elems: np.ndarray
) -> np.ndarray:
    """Blocks by one boolean selection over X: the kept run before region j plus the
    first ``per_region[j]`` elements of region j (their values become slots)."""
    counts = np.empty(2 * per_region.shape[0] + 1, dtype=np.intp)
    counts[0::2] = kept
    counts[0:-1:2] += per_region
    counts[1::2] = region_elems - per_region
    pattern = np.zeros(counts.shape[0], dtype=np.bool_)
    pattern[0::2] = True
    return x[np.repeat(pattern, counts)]


def _gather(
    x: np.ndarray, ends: np.ndarray, per_region: np.ndarray, region_elems: np.ndarray
) -> np.ndarray:
    """Blocks by a gather: the index of each output element is a running sum of ones,
    with a jump at each block start over the region just passed."""
    total = int(ends[-1])
    index = np.ones(total, dtype=np.intp)
    index[0] = 0
    starts = ends[:-1]
    inside = starts < total  # only a last block with no kept element starts at the end
    index[starts[inside]] = (region_elems - per_region + 1)[inside]
    np.cumsum(index, out=index)
    # Slot indices may run past X: "clip" keeps them in range (they are overwritten
    # later). Without "raise" numpy gathers straight into ``out``, reading index i
    # before writing element i, so the index buffer can receive the values.
    out = index if index.dtype == x.dtype else None
    return x.take(index, mode="clip", out=out)


def segment_dropout(
    x: np.ndarray, lengths: np.ndarray, keep: np.ndarray, replacement_value: int
) -> tuple[np.ndarray, np.ndarray]:
    """Y and OutputLengths for the segment decisions ``keep`` (bool, one per segment).

    >>> segment_dropout(np.array([1, 2, 3, 4, 5]), np.array([2, 3], dtype=np.int32),
    ...                 np.array([True, False]), -1)
    (array([ 1,  2, -1]), array([2, 1], dtype=int32))
    """
    n = keep.shape[0]
    if keep.all():
        return x, lengths
    out_lengths = np.ones(n, dtype=np.int32)
    if not keep.any():
        return np.full(n, replacement_value, dtype=np.int64), out_lengths
    per_region, region_elems, kept = _regions(keep, lengths, x.shape[0])
    block = kept.copy()
    block[:-1] += per_region
    ends = np.cumsum(block)
    regions, total, kept_elems = per_region.shape[0], int(ends[-1]), int(kept.sum())
    compact_cost = (
        _COMPACT_PER_INPUT * x.shape[0]
        + _COMPACT_PER_KEPT * kept_elems
        + _COMPACT_PER_REGION * regions
    )
    gather_cost = _GATHER_PER_OUTPUT * total + _GATHER_PER_REGION * regions
    if x.shape[0] == 0:
        y = np.empty(total, dtype=np.int64)
    elif compact_cost < gather_cost and bool((region_elems >= per_region).all()):
        y = _compact(x, kept, per_region, region_elems)
    else:
        y = _gather(x, ends, per_region, region_elems)
    y[_slot_positions(ends, per_region)] = replacement_value
    np.subtract(lengths, 1, out=out_lengths)
    out_lengths *= keep
    out_lengths += 1
    return y, out_lengths


@register_cpu_operator(
    "SparseDropoutWithReplacement",
    inputs=["X", "Lengths"],
    outputs=["Y", "OutputLengths"],
    num_outputs="same",
    args=DROPOUT_ARGS,
    doc="""`SparseDropoutWithReplacement` takes a 1-d int64 input tensor X and an int32
lengths tensor. Each lengths entry is the number of consecutive X values that make up
one example of the batch (a segment). With probability `ratio`, all of an example's
values are replaced by a single `replacement_value`, and its output length becomes 1
(also for an empty segment); a kept segment is copied unchanged. Y is int64 and
OutputLengths int32 with as many entries as Lengths.

One number is drawn per segment (empty segments included), in segment order, from the
operator's generator (seeded by `device_option.random_seed`): the segment is kept when
`rng.random() < 1 - ratio`. At ratio 0 or 1 the outcome is certain and nothing is
drawn. ratio must lie in [0, 1] ("Ratio should be a valid probability").

Example: ratio=0.5, replacement_value=-1, X=[1, 2, 3, 4, 5], Lengths=[2, 3] ->
Y=[1, 2, -1], OutputLengths=[2, 1] (one possible result: the first segment kept, the
second dropped)""",
)
def sparse_dropout_with_replacement(
    x: np.ndarray,
    lengths: np.ndarray,
    *,
    ratio: float,
    replacement_value: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Drop each segment of X with probability ``ratio``."""
    check_id_list(x, lengths)
    n = lengths.shape[0]
    if ratio == 0.0:
        return x, lengths
    if ratio == 1.0:
        return np.full(n, replacement_value, dtype=np.int64), np.ones(n, dtype=np.int32)
    keep = rng.random(n) < 1.0 - ratio
    return segment_dropout(x, lengths, keep, replacement_value)


no_gradient("SparseDropoutWithReplacement")
