"""Kernels of the Lengths* / SparseLengths* segment operators.

Not an operator module: the ``lengths_*`` and ``sparse_lengths_*`` op files import it.
A segment reduction is ``OUTPUT[s] = sum_j W[j] * DATA[ROWS[j]]`` over the ``j`` of
segment ``s`` (``ROWS`` is the identity for the Lengths* ops, ``W`` is 1 without
weights). The kernel never materialises the whole gathered matrix: segments are
sorted by length and cut into groups of similar lengths holding about
``CHUNK_BYTES`` of rows; each group is gathered into one reused buffer, padded to its
longest segment, and summed at once (slice by slice when narrow, else by a batched
matmul). Consecutive segments of one length need no index arithmetic at all.

The SparseLengths* reductions fix their summation order instead (``sequential_sums``):
each segment's terms are added one after the other in index order, starting from
0, as Caffe2's EmbeddingLookup did and as the compiled kernels of
``ops/_embedding_native.py`` do in one pass; numpy reproduces it with
``add.accumulate`` over padded groups, so both give the same bits.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from caffe2lite.errors import EnforceError
from caffe2lite.schema.checks import check_dtype, check_ndim

from .. import _embedding_native as native
from ._segment_checks import (
    check_float_data,
    check_index_type,
    check_rows_in_range,
    check_segment_lengths,
    check_sum_of_lengths,
)

# Bytes of gathered rows held at once (the buffer of segment_reduce).
CHUNK_BYTES = 1 << 19
# Bytes of terms held at once by sequential_sums (larger groups: fewer Python steps).
SEQUENTIAL_CHUNK_BYTES = 1 << 21
# Up to this width a group is summed slice by slice; wider ones by a batched matmul,
# which has a per-segment overhead but streams long segments fastest.
SLICE_SUM_WIDTH = 4


def rows_view(data: np.ndarray) -> np.ndarray:
    """DATA as a C-contiguous (rows, block) matrix."""
    block = int(np.prod(data.shape[1:], dtype=np.int64))
    return np.ascontiguousarray(data).reshape(data.shape[0], block)


class _Groups:
    """Segments grouped by length for batched sums: ``order`` sorts the segments by
    length (stable), empty ones first; the groups (``iter``) are runs of that order
    whose padded block (group size x the longest length) stays within ``chunk``
    rows; ``order[long_from:]`` are the segments longer than ``chunk``, summed on
    their own."""

    def __init__(self, lengths: np.ndarray, chunk: int) -> None:
        self.chunk = chunk
        self.ends = np.cumsum(lengths, dtype=np.int64)
        self.starts = self.ends - lengths
        self.order = np.argsort(lengths, kind="stable")
        self.sorted_len = lengths[self.order]
        self.first = int(np.searchsorted(self.sorted_len, 1))
        self.long_from = int(np.searchsorted(self.sorted_len, chunk, side="right"))

    def __iter__(self) -> Iterator[tuple[int, int, int]]:
        """``(g0, g1, width)``: segments ``order[g0:g1]``, the longest ``width``."""
        sorted_len, chunk, g0 = self.sorted_len, self.chunk, self.first
        while g0 < self.long_from:
            g1 = min(g0 + chunk // int(sorted_len[g0]), self.long_from)
            width = int(sorted_len[g1 - 1])
            if (g1 - g0) * width > chunk:
                g1 = g0 + chunk // width
                width = int(sorted_len[g1 - 1])
            yield g0, g1, width
            g0 = g1


def segment_reduce(
    data2d: np.ndarray,
    lengths: np.ndarray,
    rows: np.ndarray | None = None,
    weights: np.ndarray | None = None,
    out_dtype: Any = None,
) -> np.ndarray:
    """``out[s] = sum_j weights[j] * data2d[rows[j]]`` over segment s (validated inputs).

    ``rows=None`` reads DATA rows in order; empty segments give 0. Summation runs in
    ``out_dtype`` (DATA's type by default; float16 DATA is widened group by group).
    """
    m, d = lengths.shape[0], data2d.shape[1]
    dtype = np.dtype(out_dtype or data2d.dtype)
    out = np.zeros((m, d), dtype)
    if d == 0 or m == 0 or not lengths.any():
        return out
    chunk = max(64, CHUNK_BYTES // (d * dtype.itemsize))
    groups = _Groups(lengths, chunk)
    starts, ends = groups.starts, groups.ends
    order, sorted_len = groups.order, groups.sorted_len
    span = np.arange(chunk, dtype=np.int64)
    ones = np.ones(chunk, dtype)
    widest = min(int(sorted_len[-1]), chunk)
    buf = _Buffer(min(chunk, (m - groups.first) * widest) * d, data2d, rows, dtype)
    for g0, g1, width in groups:
        segs = order[g0:g1]
        first, last = int(segs[0]), int(segs[-1])
        if sorted_len[g0] == width and last - first == g1 - g0 - 1:
            # Consecutive segments of one length: contiguous positions, no padding.
            a, b = int(starts[first]), int(ends[last])
            block = buf.rows(slice(a, b), b - a).reshape(g1 - g0, width, d)
            coeff = None if weights is None else weights[a:b].reshape(g1 - g0, width)
            out[first : last + 1] = _reduce_group(block, coeff, ones, dtype)
            continue
        pos = starts[segs][:, None] + span[:width]
        pad = None
        if sorted_len[g0] != width:
            # Padding slots re-read the segment's last row; they are zeroed below.
            seg_len = lengths[segs][:, None]
            pad = span[:width] >= seg_len
            pos = starts[segs][:, None] + np.minimum(span[:width], seg_len - 1)
        block = buf.rows(pos.reshape(-1), pos.size).reshape(g1 - g0, width, d)
        coeff = None if weights is None else weights[pos].astype(dtype, copy=False)
        if pad is not None:
            block[pad] = 0  # padding rows count 0 even when the row is inf or nan
            if coeff is not None:
                coeff[pad] = 0
        out[segs] = _reduce_group(block, coeff, ones, dtype)
    for s in order[groups.long_from:]:
        for a in range(int(starts[s]), int(ends[s]), chunk):
            b = min(a + chunk, int(ends[s]))
            part = buf.rows(slice(a, b), b - a)
            coeff = ones[: b - a] if weights is None else weights[a:b].astype(dtype)
            out[s] += coeff @ part
    return out


class _Buffer:
    """One reused buffer that gathered rows land in (widened to the sum's type)."""

    def __init__(self, size: int, data2d: np.ndarray, rows: Any, dtype: np.dtype):
        self.data2d, self.table_rows, self.dtype = data2d, rows, dtype
        self.raw = np.empty(size, data2d.dtype)
        self.wide = np.empty(size, dtype) if data2d.dtype != dtype else self.raw

    def rows(self, pos: np.ndarray | slice, n: int) -> np.ndarray:
        """``data2d[rows[pos]]`` as an (n, block) array (indices already checked)."""
        d = self.data2d.shape[1]
        if self.table_rows is None and isinstance(pos, slice):
            picked = self.data2d[pos]
            return picked if self.wide is self.raw else picked.astype(self.dtype)
        take = pos if self.table_rows is None else self.table_rows[pos]
        dst = self.raw[: n * d].reshape(n, d)
        np.take(self.data2d, take, axis=0, out=dst, mode="clip")
        if self.wide is self.raw:
            return dst
        wide = self.wide[: n * d].reshape(n, d)
        wide[...] = dst
        return wide


def _reduce_group(
    block: np.ndarray, coeff: np.ndarray | None, ones: np.ndarray, dtype: np.dtype
) -> np.ndarray:
    """``sum_k coeff[:, k] * block[:, k, :]`` for a (segments, width, block) group."""
    width = block.shape[1]
    if coeff is not None:
        coeff = coeff.astype(dtype, copy=False)
    if width > SLICE_SUM_WIDTH:
        c = ones[None, None, :width] if coeff is None else coeff[:, None, :]
        return np.matmul(c, block)[:, 0, :]
    if coeff is None:
        if width == 1:
            return block[:, 0, :]
        acc = block[:, 0, :] + block[:, 1, :]
        for k in range(2, width):
            acc += block[:, k, :]
        return acc
    acc = block[:, 0, :] * coeff[:, 0, None]
    term = np.empty_like(acc) if width > 1 else acc
    for k in range(1, width):
        np.multiply(block[:, k, :], coeff[:, k, None], out=term)
        acc += term
    return acc


def reciprocal_lengths(lengths: np.ndarray, dtype: Any) -> np.ndarray:
    """1 / length per segment in ``dtype`` (1 for empty segments, which stay 0)."""
    return (1.0 / np.maximum(lengths, 1).astype(np.float64)).astype(dtype)


def segment_max(data2d: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Element-wise max per segment of consecutive rows; an empty segment gives 0."""
    out = np.zeros((lengths.shape[0], data2d.shape[1]), data2d.dtype)
    nonempty = np.flatnonzero(lengths)
    if nonempty.size and data2d.shape[1]:
        starts = (np.cumsum(lengths, dtype=np.int64) - lengths)[nonempty]
        out[nonempty] = np.maximum.reduceat(data2d, starts, axis=0)
    return out


def expand_segment_grads(grad: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Row j of the result is SEGMENT_GRADS of the segment row j belongs to."""
    return np.repeat(grad, lengths, axis=0)


def sparse_lengths_reduce(
    data: np.ndarray,
    indices: np.ndarray,
    lengths: np.ndarray,
    weights: np.ndarray | None = None,
    mean: bool = False,
) -> np.ndarray:
    """SparseLengths{Sum,WeightedSum,Mean}: the compiled one-pass kernel when it takes
    the inputs, else the checks in Caffe2's order and the numpy kernel (the same
    values: ``sequential_sums``).

    float16 DATA is summed into a float32 OUTPUT, as Caffe2's fused op did.
    """
    fast = native.sparse_lengths
    if fast is not None:
        out = fast(data, indices, lengths, weights, mean)
        if out is not None:
            return out
    check_float_data(
        data, message="Unsupported type of tensor: {}", extra=(np.float16,)
    )
    check_index_type(indices)
    check_ndim(indices, "INDICES", 1, "INDICES must be a vector")
    check_segment_lengths(lengths)
    out_dtype = np.dtype(np.float32) if data.dtype == np.float16 else data.dtype
    if weights is not None:
        check_ndim(weights, "WEIGHTS", 1, "WEIGHT must be a vector")
        if weights.shape[0] != indices.shape[0]:
            raise EnforceError(
                "Weight should have the same length as indices.",
                blob="WEIGHTS",
                expected=f"length {indices.shape[0]}",
                found=f"length {weights.shape[0]}",
            )
        check_dtype(weights, "WEIGHTS", out_dtype)
    total = int(lengths.sum(dtype=np.int64))
    check_rows_in_range(indices, min(total, indices.shape[0]), data.shape[0])
    check_sum_of_lengths(lengths, indices)
    table = rows_view(data)

    def terms(pos: np.ndarray, rows: np.ndarray) -> None:
        if table.dtype == out_dtype:
            np.take(table, indices[pos], axis=0, out=rows, mode="clip")
        else:
            rows[...] = np.take(table, indices[pos], axis=0, mode="clip")
        if weights is not None:
            rows *= weights[pos][:, None]

    out = sequential_sums(lengths, terms, table.shape[1], out_dtype)
    if mean:
        scale_by_inverse_lengths(out, lengths)
    return out.reshape((lengths.shape[0],) + data.shape[1:])


def scale_by_inverse_lengths(out: np.ndarray, lengths: np.ndarray) -> None:
    """``out[s] *= 1 / LENGTHS[s]`` in place, the inverse computed in out's type
    (``1.0f / length`` for float32, as Caffe2's lookups did); empty segments stay."""
    one = out.dtype.type(1)
    out *= (one / np.maximum(lengths, 1).astype(out.dtype))[:, None]


def sequential_sums(
    lengths: np.ndarray,
    terms: Any,
    width: int,
    dtype: Any,
) -> np.ndarray:
    """``out[s] = (((0 + t_a) + t_a+1) + ...) + t_b-1`` over the positions a..b-1 of
    segment s (validated LENGTHS), each addition rounded in ``dtype``: the order of
    Caffe2's EmbeddingLookup and of the compiled kernels.

    ``terms(pos, rows)`` writes the terms t_j of the positions ``pos`` into ``rows``,
    a (len(pos), width) array of ``dtype`` (a view of one reused buffer). Segments are sorted by length and cut into groups of
    about ``CHUNK_BYTES`` of terms, padded with zero terms to their longest segment;
    ``add.accumulate`` along a group's segments adds in order (it starts from t_a
    rather than 0, which differs only in the sign of a zero sum: the final ``+ 0``
    settles it). Segments longer than a chunk go chunk by chunk, carrying the sum.
    """
    m = lengths.shape[0]
    dtype = np.dtype(dtype)
    out = np.zeros((m, width), dtype)
    if width == 0 or m == 0 or not lengths.any():
        return out
    with np.errstate(all="ignore"):  # inf - inf is nan here, silently, as in C
        _sequential_sums(out, lengths, terms, width, dtype)
    return out


def _sequential_sums(out, lengths, terms, width, dtype) -> None:
    """``sequential_sums`` into the zeroed ``out``."""
    chunk = max(64, SEQUENTIAL_CHUNK_BYTES // (width * dtype.itemsize))
    groups = _Groups(lengths, chunk)
    starts, ends = groups.starts, groups.ends
    order, sorted_len = groups.order, groups.sorted_len
    span = np.arange(chunk, dtype=np.int64)[:, None]
    buffer = np.empty(chunk * width, dtype)  # reused: fresh pages cost more than sums
    for g0, g1, longest in groups:
        segs = order[g0:g1]
        seg_len = lengths[segs]
        # Position k of every segment of the group is row k of the block, so that
        # adding position after position adds contiguous rows.
        pos = starts[segs] + np.minimum(span[:longest], seg_len - 1)
        block = buffer[: pos.size * width].reshape(longest, g1 - g0, width)
        terms(pos.reshape(-1), block.reshape(pos.size, width))
        if sorted_len[g0] != longest:
            block[span[:longest] >= seg_len] = 0  # padding adds 0, even to inf
        out[segs] = _in_order(block)
    for s in order[groups.long_from:]:  # segments longer than a chunk: few
        carry = out[s]
        for a in range(int(starts[s]), int(ends[s]), chunk):
            b = min(a + chunk, int(ends[s]))
            part = buffer[: (b - a) * width].reshape(b - a, width)
            terms(np.arange(a, b, dtype=np.int64), part)
            part[0] += carry
            carry = _in_order(part[:, None])[0]
        out[s] = carry
    out += 0  # -0.0 sums become 0.0, as when adding to a zeroed row


# Below this many sums side by side, add.accumulate (about 13 ns an element, one
# pass) beats a Python loop over the summed axis (about 1 us a step).
_ACCUMULATE_BELOW = 64


def _in_order(x: np.ndarray) -> np.ndarray:
    """Sums of ``x`` along its first axis, each ``((x[0] + x[1]) + x[2]) + ...``: a
    loop adding whole slices (every sum at once) when there are many sums side by
    side, else ``add.accumulate``. ``x`` is not empty along the axis."""
    count = x.shape[0]
    if x[0].size < _ACCUMULATE_BELOW or count == 1:
        return np.add.accumulate(x, axis=0)[-1]
    acc = x[0].copy()
    for k in range(1, count):  # positions in a segment, every segment at once
        acc += x[k]
    return acc


def sequential_dots(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise dot products of two (n, d) matrices, each ``a0 b0 + a1 b1 + ...``
    added in order with every product rounded first (the compiled tile_dot's order);
    0 for d == 0."""
    if a.shape[1] == 0:
        return np.zeros(a.shape[0], np.result_type(a, b))
    with np.errstate(all="ignore"):
        return _in_order(np.ascontiguousarray((a * b).T))


# -- shapes and costs (the ops' shape= and cost= functions) ---------------------------


def segments_shape(data: Any, lengths: Any) -> tuple:
    """One row per LENGTHS entry, DATA's trailing dims and type (Caffe2's
    AbstractLengthsDef / AbstractSparseLengthsDef inference)."""
    from caffe2lite.schema.shapes import TensorShape

    if data.dims is None or lengths.dims is None or not data.dims or not lengths.dims:
        return (TensorShape(None, data.dtype),)
    return (TensorShape((lengths.dims[0],) + tuple(data.dims[1:]), data.dtype),)


def expanded_shape(grads: Any, rows: Any = "sum(LENGTHS)") -> Any:
    """A gradient of ``rows`` rows (a symbol: sum(LENGTHS) is data) of SEGMENT_GRADS'
    trailing dims and type."""
    from caffe2lite.schema.shapes import TensorShape

    if grads.dims is None or not grads.dims:
        return TensorShape(None, grads.dtype)
    return TensorShape((rows,) + tuple(grads.dims[1:]), grads.dtype)


def sparse_lengths_cost(use_weight: bool):
    """Caffe2's CostInferenceForSparseLengths: per index, D flops (2D with weights)
    and a row of D values plus the index read; LENGTHS read; the whole table counted
    as parameters; nothing counted as written. Four bytes per value whatever the type
    (Caffe2 took sizeof of the dtype enum)."""
    from caffe2lite.schema.shapes import Cost, dim_product, numel

    def cost(*inputs: Any, outputs: Any = ()) -> Any:
        data, indices, lengths = (
            inputs[0],
            inputs[1 + use_weight],
            inputs[2 + use_weight],
        )
        if not (
            data.known
            and indices.known
            and lengths.known
            and data.dims
            and lengths.dims
        ):
            return Cost()
        n = data.dims[0]
        if n == 0:
            return Cost()
        d, k, m = int(dim_product(data.dims[1:])), numel(indices), lengths.dims[0]
        flops, read = k * d, k * (d * 4 + 4) + m * 4
        if use_weight:
            flops, read = flops + k * d, read + k * 4
        return Cost(flops=flops, bytes_read=read, params_bytes=n * d * 4)

    return cost
