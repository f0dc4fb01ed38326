"""SparseDropoutWithReplacement: drop whole segments of an id list, putting one
``replacement_value`` in place of each dropped segment (Caffe2
sparse_dropout_with_replacement_op).

The output is a sequence of *runs*, each a stretch of consecutive kept segments
copied from X, separated by the slots of the dropped segments. numpy has no call
that copies many variable-length runs at once (``x[mask]`` tests every element and
costs about 2.7 copies of X), so the kernel copies fixed-size blocks instead, with
O(1) numpy calls whatever the number of runs:

1. one gather of W-element blocks tiling the output (X seen as overlapping windows
   of W elements, one numpy ``void`` item each), block j taken from the run in which
   it starts; a block that runs past the end of its run holds wrong elements there;
2. one gather-scatter of a W-element window at the start of every run, in output
   order, which corrects the head of each run (a window that runs past a short run
   is itself corrected by the next run's window);
3. element copies for the few runs whose source lies in the last W elements of X,
   and finally the slots.

Every output element is written about once, plus one window per run, and only Y
is allocated at full size. Inputs shorter than a few windows take a plain
element-wise gather.

When the optional compiled module is built (``_speedups``), the op runs its
kernels instead: the same draws and the same arrays, with the lengths checked, the
decisions drawn and each run copied with one ``memcpy`` in C.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from caffe2lite.schema.checks import check_dtype, check_ndim, enforce
from caffe2lite.errors import EnforceError
from caffe2lite.schema.registry import no_gradient, register_cpu_operator
from caffe2lite.schema.example import Example
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.shapes import TensorShape

from .. import _speedups
from ._dropout_draws import keep_mask

if TYPE_CHECKING:
    from caffe2lite.runtime.net import OutputBlobs

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

_INT64, _INT32 = np.dtype(np.int64), np.dtype(np.int32)


def check_id_list_types(x: np.ndarray, lengths: np.ndarray) -> None:
    """The first half of ``check_id_list``: ranks and dtypes."""
    if (
        type(x) is np.ndarray
        and type(lengths) is np.ndarray
        and x.ndim == 1
        and lengths.ndim == 1
        and x.dtype is _INT64
        and lengths.dtype is _INT32
    ):
        return  # the common case at once (numpy's native dtypes are singletons)
    check_ndim(x, "X", 1, "Input tensor should be 1-D")
    check_dtype(x, "X", np.int64)
    check_ndim(lengths, "Lengths", 1, "Lengths tensor should be 1-D")
    check_dtype(lengths, "Lengths", np.int32)


def check_id_list(x: np.ndarray, lengths: np.ndarray) -> None:
    """Caffe2's input checks for the two sparse dropout ops, in Caffe2's order (plus a
    check that no length is negative)."""
    check_id_list_types(x, lengths)
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


# Window length (elements) of the block copy, and the input size below which the
# element-wise gather is used.
_WINDOW_BITS = 5
_WINDOW = 1 << _WINDOW_BITS
_SMALL = 1 << 15


def _windows(a: np.ndarray, width: int) -> np.ndarray:
    """The overlapping ``width``-element windows of the int64 vector ``a``, one
    ``void`` item each (a view: item i is ``a[i : i + width]``)."""
    item = np.dtype((np.void, 8 * width))
    return np.ndarray((a.shape[0] - width + 1,), item, a, 0, (8,))


def _runs(
    lengths: np.ndarray, keep: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """Output start, source start and length of every non-empty run of kept
    segments, the output position of every slot, and the output size.

    Run r covers the kept segments [first[r], stop[r]); before it come
    ``before_elems`` kept elements and ``first[r] - before_segs`` slots, one per
    dropped segment. A dropped segment i after run r (or before run 0) has its slot
    at ``i + before_elems - before_segs`` of the next run."""
    n = keep.shape[0]
    src = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lengths, out=src[1:])
    # 0, then where the flags flip (run r starts at first[r], stops at stop[r]), then n.
    padded = np.zeros(n + 2, dtype=np.int8)
    padded[1:-1] = keep
    points = np.concatenate(([0], np.flatnonzero(padded[1:] != padded[:-1]), [n]))
    first, stop = points[1:-1:2], points[2:-1:2]
    run_src = src[first]
    run_len = src[stop] - run_src
    # Kept elements and kept segments before each run, and after the last.
    before_elems = np.zeros(first.shape[0] + 1, dtype=np.int64)
    np.cumsum(run_len, out=before_elems[1:])
    before_segs = np.zeros(first.shape[0] + 1, dtype=np.int64)
    np.cumsum(stop - first, out=before_segs[1:])
    run_dst = before_elems[:-1] + first - before_segs[:-1]
    # The dropped segments between run r - 1 and run r (before run 0 for r = 0,
    # after the last run for r = len(first)) share one offset.
    region = points[1::2] - points[0::2]
    slots = np.flatnonzero(~keep)
    slots += np.repeat(before_elems - before_segs, region)
    full = run_len > 0
    total = int(before_elems[-1]) + slots.shape[0]
    return run_dst[full], run_src[full], run_len[full], slots, total


def _gather(
    x: np.ndarray,
    lengths: np.ndarray,
    keep: np.ndarray,
    out_lengths: np.ndarray,
    total: int,
) -> np.ndarray:
    """Y's kept elements by an element-wise selection (slots hold garbage)."""
    out = np.empty(total, dtype=np.int64)
    out[np.repeat(keep, out_lengths)] = x[np.repeat(keep, lengths)]
    return out


def _block_copy(
    x: np.ndarray,
    run_dst: np.ndarray,
    run_src: np.ndarray,
    run_len: np.ndarray,
    total: int,
) -> np.ndarray:
    """A buffer of at least ``total`` elements whose run elements are correct
    (slots hold garbage); see the module doc."""
    if not run_dst.shape[0]:  # every kept segment is empty: only slots
        return np.empty(total, dtype=np.int64)
    width, last = _WINDOW, x.shape[0] - _WINDOW
    blocks = (total >> _WINDOW_BITS) + 2  # a spare block: windows reach past total
    # Block j starts at j * width in the run holding that position (run 0 for the
    # blocks before it): its source is that position plus the run's shift.
    first_block = run_dst + (width - 1)
    first_block >>= _WINDOW_BITS
    counts = np.empty_like(first_block)
    np.subtract(first_block[1:], first_block[:-1], out=counts[:-1])
    counts[-1] = blocks - first_block[-1]
    counts[0] += first_block[0]
    block_src = np.repeat(run_src - run_dst, counts)
    block_src += np.arange(0, blocks * width, width)
    np.clip(block_src, 0, last, out=block_src)
    x_windows = _windows(x, width)
    out = x_windows[block_src].view(np.int64)
    inside = run_src <= last
    _windows(out, width)[run_dst[inside]] = x_windows[run_src[inside]]
    # Runs reaching into X's last window, where blocks and windows were clipped: at
    # most the last width + 1 runs, as every run holds an element.
    tail = slice(-(width + 1), None)
    reach = run_src[tail] + run_len[tail] > last
    for dst, src, length in zip(
        run_dst[tail][reach].tolist(),
        run_src[tail][reach].tolist(),
        run_len[tail][reach].tolist(),
    ):
        skip = max(last - src, 0)
        out[dst + skip : dst + length] = x[src + skip : src + length]
    return out


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
    out_lengths = np.multiply(lengths, keep)  # a dropped segment's length is 1:
    out_lengths |= ~keep  # 0 | 1 (branch-free, unlike np.where on random flags)
    if not keep.any():
        return np.full(n, replacement_value, dtype=np.int64), out_lengths
    if x.shape[0] < max(_SMALL, _WINDOW):
        ends = np.cumsum(out_lengths, dtype=np.int64)
        total = int(ends[-1])
        y = _gather(x, lengths, keep, out_lengths, total)
        slots = ends[~keep] - 1
    else:
        run_dst, run_src, run_len, slots, total = _runs(lengths, keep)
        x = np.ascontiguousarray(x)
        y = _block_copy(x, run_dst, run_src, run_len, total)
    y[slots] = replacement_value
    return y[:total], out_lengths


def dropout_shape(
    x: TensorShape, lengths: TensorShape
) -> tuple[TensorShape, TensorShape]:
    """Y: int64 of sum(OutputLengths) values (the draws decide: a symbol);
    OutputLengths: int32 like Lengths."""
    return (
        TensorShape(("sum(OutputLengths)",), np.int64),
        TensorShape(lengths.dims, np.int32),
    )


DROPOUT_EXAMPLE_INPUTS = {
    "X": np.array([1, 2, 3, 4, 5], np.int64),
    "Lengths": np.array([2, 3], np.int32),
}
DROPOUT_EXAMPLE_ARGS = {"ratio": 0.5, "replacement_value": -1}


@register_cpu_operator(
    "SparseDropoutWithReplacement",
    inputs=["X", "Lengths"],
    outputs=["Y", "OutputLengths"],
    shape=dropout_shape,
    example=Example(
        DROPOUT_EXAMPLE_INPUTS,
        {
            "Y": np.array([1, 2, -1], np.int64),
            "OutputLengths": np.array([2, 1], np.int32),
        },
        DROPOUT_EXAMPLE_ARGS,
        exact=False,
    ),
    num_outputs="same",
    args=DROPOUT_ARGS,
    doc="""`SparseDropoutWithReplacement` takes a 1-d int64 input tensor X and an int32
lengths tensor. Each lengths entry is the number of consecutive X values that make up
one example of the batch (a segment). With probability `ratio`, all of an example's
values are replaced by a single `replacement_value`, and its output length becomes 1
(also for an empty segment); a kept segment is copied unchanged. Y is int64 and
OutputLengths int32 with as many entries as Lengths.

One decision is drawn per segment, for all segments (empty segments included), in
segment order, from the operator's generator (seeded by
`device_option.random_seed`), one random byte each: with s = 256 * (1 - ratio),
decision i reads byte i of the generator's raw 64-bit words (least significant byte
first) and keeps when the byte is below floor(s), drops when it is above; a byte
equal to floor(s) is settled after all the bytes, in order, by one `rng.random()`,
kept when below s - floor(s) (when s is whole, it drops). The keep probability is
exactly 1 - ratio. At ratio 0 or 1 the outcome is certain and nothing is drawn.
ratio must lie in [0, 1] ("Ratio should be a valid probability").

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
    outputs: OutputBlobs | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Drop each segment of X with probability ``ratio``."""
    if _speedups.native is not None and 0.0 < ratio < 1.0:
        check_id_list_types(x, lengths)
        result = _speedups.segment_dropout(
            x, lengths, rng, ratio, replacement_value, outputs
        )
        if result is None:  # the lengths are wrong: raise Caffe2's error
            check_id_list(x, lengths)
        return result
    check_id_list(x, lengths)
    n = lengths.shape[0]
    if ratio == 0.0:
        return x, lengths
    if ratio == 1.0:
        return np.full(n, replacement_value, dtype=np.int64), np.ones(n, dtype=np.int32)
    keep = keep_mask(rng, n, ratio)
    return segment_dropout(x, lengths, keep, replacement_value)


no_gradient("SparseDropoutWithReplacement")
