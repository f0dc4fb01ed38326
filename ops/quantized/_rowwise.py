"""Rowwise quantisation: the fused 8-, 4- and 2-bit formats and their lookups.

Not an operator module: the ``float_to_*``, ``*_to_float`` and ``sparse_lengths_*``
files of this folder import it.

Fused 8-bit row: ``| C uint8 codes | float32 scale | float32 bias |`` (little-endian),
value = code * scale + bias. Fused N-bit row (N = 4 or 2): ``| ceil(C * N / 8) bytes
of codes, least significant bits first | float16 scale | float16 bias |``. The
separate-scale format (FloatToRowwiseQuantized8Bits) keeps the codes as a uint8
tensor and the (scale, bias) pairs as a float32 (rows, 2) matrix.

A lookup reduces ``OUTPUT[s] = sum_j w_j * (scale_j * code_j + bias_j)`` over the
indices j of segment s, in Caffe2's order: the term ``(s_j * code_j) + b_j`` (with
``s_j = w_j * scale_j`` and ``b_j = w_j * bias_j``, float32) of each index is added
to the segment's row in index order. The compiled kernel (``ops/_embedding_native.py``)
does it in one pass; the numpy kernel builds the terms of a group of indices at a
time and adds them in the same order (``sequential_sums``), so both give the same
bits. (SparseLengths*8BitsRowwise, with its separate scale/bias input, keeps
``lookup_8bit``: the codes reduced with per-index coefficients, then the biases.)
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from caffe2lite.errors import EnforceError, ShapeError
from caffe2lite.schema.checks import check_dtype, check_lengths, check_ndim

from .. import _embedding_native as native
from ..segment._segment_checks import check_index_type
from ..segment._segment_kernels import (
    scale_by_inverse_lengths,
    segment_reduce,
    sequential_sums,
)

F32 = np.dtype("<f4")
F16 = np.dtype("<f2")


# -- the fused 8-bit format ---------------------------------------------------------


def rows_of(x: np.ndarray, blob: str) -> tuple[np.ndarray, tuple[int, ...]]:
    """``x`` as a (rows, last dim) matrix: every dimension but the last is a row."""
    if x.ndim < 1:
        raise ShapeError(
            "input.dim() > 0. 0 vs 0. Input's dimension must be at least 1",
            blob=blob,
            expected="rank >= 1",
            found="a 0-D tensor",
        )
    rows = int(np.prod(x.shape[:-1], dtype=np.int64))
    return np.ascontiguousarray(x).reshape(rows, x.shape[-1]), x.shape[:-1]


def _row_min_max(x2: np.ndarray, blob: str) -> tuple[np.ndarray, np.ndarray]:
    if x2.shape[1] == 0 and x2.shape[0] > 0:
        # Caffe2 read the minimum of an empty row from past its end.
        raise ShapeError(
            "rows to quantize must have at least one column",
            blob=blob,
            expected="last dimension >= 1",
            found="last dimension 0",
        )
    if x2.shape[0] == 0:
        empty = np.zeros(0, np.float32)
        return empty, empty
    return x2.min(axis=1), x2.max(axis=1)


def quantize_fused8(x: np.ndarray) -> np.ndarray:
    """FloatToFused8BitRowwiseQuantized on a float32 array (rows on the last axis)."""
    x2, lead = rows_of(x, "input")
    lo, hi = _row_min_max(x2, "input")
    span = hi - lo
    scale = span / np.float32(255.0)
    inverse = np.float32(255.0) / (span + np.float32(1e-8))
    codes = np.rint((x2 - lo[:, None]) * inverse[:, None])
    cols = x2.shape[1]
    out = np.empty((x2.shape[0], cols + 8), np.uint8)
    np.clip(codes, 0, 255, out=codes)
    out[:, :cols] = codes
    out[:, cols : cols + 4] = scale.astype(F32).view(np.uint8).reshape(-1, 4)
    out[:, cols + 4 :] = lo.astype(F32).view(np.uint8).reshape(-1, 4)
    return out.reshape(lead + (cols + 8,))


def split_fused(rows: np.ndarray, tail: int, sb_dtype: np.dtype):
    """(codes bytes, scale, bias) of fused rows whose last ``tail`` bytes hold the
    scale and the bias (float32 when tail is 8, float16 when 4) as float32."""
    cols = rows.shape[1] - tail
    sb = np.ascontiguousarray(rows[:, cols:]).view(sb_dtype).astype(np.float32)
    return rows[:, :cols], sb[:, 0], sb[:, 1]


def check_fused_input(x: np.ndarray, tail: int) -> tuple[np.ndarray, tuple[int, ...]]:
    """A fused tensor to dequantise: uint8, rank >= 1, at least ``tail`` columns."""
    check_dtype(x, "scale_bias_quantized_input", np.uint8)
    x2, lead = rows_of(x, "scale_bias_quantized_input")
    if x2.shape[1] < tail:
        raise ShapeError(
            f"fused rows need at least {tail} bytes for the scale and the bias",
            blob="scale_bias_quantized_input",
            expected=f"last dimension >= {tail}",
            found=f"last dimension {x2.shape[1]}",
        )
    return x2, lead


def dequantize_fused8(x: np.ndarray) -> np.ndarray:
    """Fused8BitRowwiseQuantizedToFloat: code * scale + bias, in float32."""
    x2, lead = check_fused_input(x, 8)
    codes, scale, bias = split_fused(x2, 8, F32)
    out = codes * scale[:, None]
    out += bias[:, None]
    return out.reshape(lead + (codes.shape[1],))


# -- the fused N-bit formats ---------------------------------------------------------


def per_byte(bits: int) -> int:
    return 8 // bits


GREEDY_BINS = 200  # Caffe2's param_search_greedy(X, N, 200, 0.16, ...)
GREEDY_RATIO = np.float32(0.16)


def _range_loss(x2: np.ndarray, lo: np.ndarray, hi: np.ndarray, bits: int) -> np.ndarray:
    """Caffe2's compress_uniform_simplified_: the L2 error of quantising each row of
    ``x2`` over [lo, hi], in float32, summed as its AVX loop did (8 lanes over the
    first C // 8 * 8 columns, the lanes added in order, then the other columns)."""
    top = np.float32((1 << bits) - 1)
    xmin = lo.astype(np.float16).astype(np.float32)
    with np.errstate(all="ignore"):
        span = hi - xmin
        scale = np.where(span == 0, np.float32(1),
                         (span / top).astype(np.float16).astype(np.float32))
        inverse = np.float32(1) / scale
        q = np.clip(np.rint((x2 - xmin[:, None]) * inverse[:, None]), np.float32(0), top)
        err = x2 - (q * scale[:, None] + xmin[:, None])
        sq = err * err
        cols = x2.shape[1]
        whole = cols // 8 * 8
        lanes = np.zeros((x2.shape[0], 8), np.float32)
        for start in range(0, whole, 8):
            lanes += sq[:, start:start + 8]
        norm = np.zeros(x2.shape[0], np.float32)
        for j in range(8 if whole else 0):
            norm += lanes[:, j]
        for i in range(whole, cols):
            norm += sq[:, i]
        return np.sqrt(norm)


def greedy_range(x2: np.ndarray, lo: np.ndarray, hi: np.ndarray,
                 bits: int) -> tuple[np.ndarray, np.ndarray]:
    """The GREEDY engine's range per row (Caffe2's param_search_greedy): from [min,
    max], step by (max - min) / 200 either end, whichever step loses less, while more
    than int(200 * (1 - 0.16)) steps remain; keep the best local optimum that beats
    every earlier one, starting from [min, max]. float32 throughout; all rows at once."""
    cur_min, cur_max = lo.astype(np.float32), hi.astype(np.float32)
    with np.errstate(all="ignore"):
        step = (cur_max - cur_min) / np.float32(GREEDY_BINS)
        min_bins = int(np.float32(GREEDY_BINS) * (np.float32(1) - GREEDY_RATIO))
        thr = np.float32(min_bins) * step
        cur_loss = _range_loss(x2, cur_min, cur_max, bits)
        best_loss, best_lo, best_hi = cur_loss.copy(), cur_min.copy(), cur_max.copy()
        active = np.flatnonzero(cur_min + thr < cur_max)
        while active.size:
            x, a, b, d = x2[active], cur_min[active], cur_max[active], step[active]
            loss1 = _range_loss(x, a + d, b, bits)  # move the left end
            loss2 = _range_loss(x, a, b - d, bits)  # move the right end
            c = cur_loss[active]
            better = (c < loss1) & (c < loss2) & (c < best_loss[active])
            at = active[better]
            best_loss[at], best_lo[at], best_hi[at] = c[better], a[better], b[better]
            left = loss1 < loss2
            cur_min[active[left]] = (a + d)[left]
            cur_max[active[~left]] = (b - d)[~left]
            cur_loss[active] = np.where(left, loss1, loss2)
            active = active[cur_min[active] + thr[active] < cur_max[active]]
    return best_lo, best_hi


def nbit_codes(x2: np.ndarray, bits: int,
               greedy: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The N-bit rowwise quantisation of a float32 (rows, C) matrix, before packing:
    (uint8 codes (rows, C), float16 scales, float32 biases (float16 values)).

    bias = float16(row min); scale = float16((row max - bias) / (2^N - 1)), 1 when
    that is 0 or its inverse infinite; code = clip(rint((x - bias) / scale)). With
    ``greedy`` the row's range is :func:`greedy_range`'s instead of [min, max]."""
    lo, hi = _row_min_max(x2, "input")
    if greedy and x2.size:
        lo, hi = greedy_range(x2, lo, hi, bits)
    top = (1 << bits) - 1
    lo = lo.astype(np.float16).astype(np.float32)  # the bias is stored as float16
    span = hi - lo
    with np.errstate(divide="ignore", over="ignore"):
        scale = np.where(span == 0, np.float32(1), span / np.float32(top))
        scale = scale.astype(np.float16)
        scale[scale == 0] = 1
        inverse = np.float32(1) / scale.astype(np.float32)
    bad = np.isinf(inverse)
    scale[bad] = 1
    inverse[bad] = 1
    codes = np.rint((x2 - lo[:, None]) * inverse[:, None])
    np.clip(codes, 0, top, out=codes)
    return codes.astype(np.uint8), scale, lo


def quantize_fake_nbit(x: np.ndarray, bits: int, greedy: bool = False) -> np.ndarray:
    """FloatToFused{4,2}BitFakeRowwiseQuantized on a float32 array: the N-bit codes
    and float16-valued scale/bias, stored in the fused 8-bit layout (one code per
    byte, then the scale and the bias as float32)."""
    x2, lead = rows_of(x, "input")
    codes, scale, lo = nbit_codes(x2, bits, greedy)
    cols = x2.shape[1]
    out = np.empty((x2.shape[0], cols + 8), np.uint8)
    out[:, :cols] = codes
    out[:, cols : cols + 4] = scale.astype(F32).view(np.uint8).reshape(-1, 4)
    out[:, cols + 4 :] = lo.astype(F32).view(np.uint8).reshape(-1, 4)
    return out.reshape(lead + (cols + 8,))


def quantize_fused_nbit(x: np.ndarray, bits: int, greedy: bool = False) -> np.ndarray:
    """FloatToFused{4,2}BitRowwiseQuantized on a float32 array."""
    k = per_byte(bits)
    x2, lead = rows_of(x, "input")
    cols = x2.shape[1]
    if cols % k:
        raise ShapeError(
            f"input.dim(input.dim() - 1) % NUM_ELEM_PER_BYTE == 0. {cols % k} vs 0. "
            f"FloatToFused{bits}BitRowwiseQuantizedOp only works for the number of "
            f"columns a multiple of {k}",
            blob="input",
            expected=f"last dimension a multiple of {k}",
            found=cols,
        )
    codes, scale, lo = nbit_codes(x2, bits, greedy)
    codes = codes.reshape(x2.shape[0], cols // k, k)
    packed = codes[:, :, 0].copy()
    for j in range(1, k):  # k <= 4 shifts, not a loop over data
        packed |= codes[:, :, j] << np.uint8(j * bits)
    nbytes = cols // k
    out = np.empty((x2.shape[0], nbytes + 4), np.uint8)
    out[:, :nbytes] = packed
    out[:, nbytes : nbytes + 2] = scale.astype(F16).view(np.uint8).reshape(-1, 2)
    out[:, nbytes + 2 :] = lo.astype(F16).view(np.uint8).reshape(-1, 2)
    return out.reshape(lead + (nbytes + 4,))


def dequantize_fused_nbit(x: np.ndarray, bits: int) -> np.ndarray:
    """Fused{4,2}BitRowwiseQuantizedToFloat: scale * code + bias, in float32."""
    x2, lead = check_fused_input(x, 4)
    packed, scale, bias = split_fused(x2, 4, F16)
    out = unpack_natural(packed, bits) * scale[:, None]
    out += bias[:, None]
    return out.reshape(lead + (out.shape[1],))


# -- lookups -------------------------------------------------------------------------


def check_lookup_inputs(
    data: np.ndarray,
    indices: np.ndarray,
    lengths: np.ndarray,
    weights: np.ndarray | None,
    tail: int,
) -> None:
    """The fused lookups' checks, in Caffe2's order, with its messages."""
    check_index_type(indices)
    check_ndim(indices, "INDICES", 1, "INDICES must be a vector")
    check_ndim(lengths, "LENGTHS", 1, "LENGTHS must be a vector")
    if weights is not None:
        check_lookup_weights(weights, indices)
    if not isinstance(data, np.ndarray):
        check_dtype(data, "DATA", np.uint8)  # "expected a tensor"
    check_ndim(data, "DATA", 2, "DATA must be a matrix of fused rows")
    if data.shape[1] <= tail:
        raise ShapeError(
            f"data.size(1) > {tail}. {data.shape[1]} vs {tail}. DATA must have more "
            f"than {tail} columns",
            blob="DATA",
            expected=f"more than {tail} columns",
            found=data.shape[1],
        )
    check_dtype(data, "DATA", np.uint8)
    check_lengths(lengths)
    check_lookup_bounds(indices, lengths, data.shape[0])


def check_lookup_weights(weights: np.ndarray, indices: np.ndarray) -> None:
    """WEIGHTS: a float32 vector with one weight per index (Caffe2's messages)."""
    check_ndim(weights, "WEIGHTS", 1, "WEIGHTS must be a vector")
    if weights.shape[0] != indices.shape[0]:
        raise EnforceError(
            f"weights_input.numel() == indices.numel(). {weights.shape[0]} vs "
            f"{indices.shape[0]}. WEIGHTS should have the same length as INDICES.",
            blob="WEIGHTS",
            expected=f"length {indices.shape[0]}",
            found=f"length {weights.shape[0]}",
        )
    check_dtype(weights, "WEIGHTS", np.float32)


def check_lookup_bounds(indices: np.ndarray, lengths: np.ndarray, rows: int) -> None:
    """Every index used lies in [0, rows), and sum(LENGTHS) == len(INDICES)."""
    n = indices.shape[0]
    total = int(lengths.sum(dtype=np.int64))
    head = indices[: min(total, n)]
    if head.size and (int(head.min()) < 0 or int(head.max()) >= rows):
        pos = int(np.flatnonzero((head < 0) | (head >= rows))[0])
        raise EnforceError(
            f"Index {pos} is out of bounds: {int(head[pos])}, range 0 to {rows}",
            blob="INDICES",
            expected=f"0 <= index < {rows}",
            found=int(head[pos]),
        )
    if total > n:
        raise EnforceError(
            f"current < index_size. {n} vs {n}",
            blob="LENGTHS",
            expected=f"sum(LENGTHS) == {n}",
            found=total,
        )
    if total != n:
        raise EnforceError(
            f"current == index_size. {total} vs {n}. Your input seems to be "
            "incorrect: the sum of lengths values should be the size of the indices "
            "tensor, but it appears not.",
            blob="LENGTHS",
            expected=f"sum(LENGTHS) == {n}",
            found=total,
        )


def _bias_sums(bias: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Per-segment sums of a per-index term (float64, one per segment)."""
    out = np.zeros(lengths.shape[0], np.float64)
    nonempty = lengths > 0
    if bias.size:
        starts = (np.cumsum(lengths, dtype=np.int64) - lengths)[nonempty]
        out[nonempty] = np.add.reduceat(bias, starts)
    return out


def _finish(out: np.ndarray, offsets: np.ndarray, lengths: np.ndarray, mean: bool):
    out += offsets.astype(np.float32)[:, None]
    if mean:
        nonempty = lengths > 0
        out[nonempty] *= np.float32(1) / lengths[nonempty].astype(np.float32)[:, None]
    return out


def lookup_8bit(
    table: np.ndarray,
    block: int,
    scale: np.ndarray,
    bias: np.ndarray,
    indices: np.ndarray,
    lengths: np.ndarray,
    weights: np.ndarray | None,
    mean: bool,
) -> np.ndarray:
    """``OUTPUT[s] = sum_j w_j (scale_j code_j + bias_j)`` for 8-bit codes: the codes
    are the first ``block`` columns of the uint8 ``table``; ``scale`` and ``bias`` are
    already gathered per index. The sum of ``w_j scale_j code_j`` is the float
    segment reduction over the uint8 rows with per-index coefficients; ``w_j
    bias_j`` is summed per segment."""
    if weights is not None:
        scale = scale * weights
        bias = bias * weights
    # The whole rows are gathered (a strided view of the codes would make the
    # gather copy the table) and the scale/bias columns' sums dropped.
    out = segment_reduce(
        table, lengths, rows=indices, weights=scale, out_dtype=np.float32
    )[:, :block]
    out = np.ascontiguousarray(out)
    return _finish(out, _bias_sums(bias.astype(np.float64), lengths), lengths, mean)


# Byte value -> its four 2-bit codes as the four little-endian bytes of a uint32.
_SPREAD2 = np.sum(
    [((np.arange(256) >> (2 * j)) & 3) << (8 * j) for j in range(4)], axis=0
).astype("<u4")


def unpack_natural(packed: np.ndarray, bits: int) -> np.ndarray:
    """(rows, B) packed bytes -> (rows, B * 8 // bits) uint8 codes in column order.

    4-bit: each byte is widened to a little-endian uint16 and its high code moved
    into the upper byte with whole-buffer shifts and masks; 2-bit: each byte looks
    up its four codes as one uint32 (a 256-entry table). Either way the codes land
    in order without a per-row loop or a final permutation."""
    rows, nbytes = packed.shape
    if bits == 4:
        wide = packed.astype("<u2").reshape(-1)  # a contiguous copy, even of a view
        high = wide & np.uint16(0xF0)
        high <<= np.uint16(4)
        wide &= np.uint16(0x0F)
        wide |= high
    else:
        wide = np.take(_SPREAD2, packed)
    return wide.view(np.uint8).reshape(rows, nbytes * (8 // bits))


def _fused_scale_bias(
    table: np.ndarray, cols: int, dtype: np.dtype, indices: np.ndarray
) -> np.ndarray:
    """The (scale, bias) pairs stored after ``cols`` code bytes of the rows
    ``indices`` of a fused table, as float32: a strided (rows, 2) view of the
    table's tails, of which only the rows ``indices`` are read."""
    if table.shape[0] == 0:
        return np.zeros((0, 2), np.float32)
    pairs = np.ndarray(
        (table.shape[0], 2),
        dtype,
        buffer=table,
        offset=cols,
        strides=(table.shape[1], dtype.itemsize),
    )
    return np.take(pairs, indices, axis=0).astype(np.float32)


def fused_lookup(
    data: np.ndarray,
    indices: np.ndarray,
    lengths: np.ndarray,
    weights: np.ndarray | None,
    *,
    bits: int,
    mean: bool = False,
) -> np.ndarray:
    """SparseLengths{Sum,WeightedSum,Mean}Fused{8,4,2}BitRowwise: the compiled
    one-pass kernel when it takes the inputs, else the checks and the numpy kernel
    (the same values)."""
    fast = native.fused_lookup
    if fast is not None:
        out = fast(data, indices, lengths, weights, mean, bits)
        if out is not None:
            return out
    tail = 8 if bits == 8 else 4
    check_lookup_inputs(data, indices, lengths, weights, tail)
    table = np.ascontiguousarray(data)
    nbytes = table.shape[1] - tail
    sb = _fused_scale_bias(table, nbytes, F32 if bits == 8 else F16, indices)
    scale, bias = sb[:, 0], sb[:, 1]
    if weights is not None:
        with np.errstate(all="ignore"):  # inf * 0 is nan here, silently, as in C
            scale = scale * weights
            bias = bias * weights

    def terms(pos: np.ndarray, out: np.ndarray) -> None:
        rows = np.take(table, indices[pos], axis=0, mode="clip")[:, :nbytes]
        codes = rows if bits == 8 else unpack_natural(rows, bits)
        np.multiply(codes, scale[pos][:, None], out=out)  # codes widen exactly
        out += bias[pos][:, None]

    out = sequential_sums(lengths, terms, nbytes * per_byte(bits), np.float32)
    if mean:
        scale_by_inverse_lengths(out, lengths)
    return out


# -- shape functions -----------------------------------------------------------------


def last_dim_shape(fn: Callable[[int], int], text: str, dtype) -> Callable:
    """A shape function: the input's shape with the last dimension mapped by ``fn``
    (``text`` formats it when symbolic, e.g. ``"{}+8"``), and element type ``dtype``."""
    from caffe2lite.schema.shapes import TensorShape

    def shape(x: TensorShape) -> tuple[TensorShape, ...]:
        if x.dims is None or not x.dims:
            return (TensorShape(None, dtype),)
        last = x.dims[-1]
        new = text.format(last) if isinstance(last, str) else fn(last)
        return (TensorShape(tuple(x.dims[:-1]) + (new,), dtype),)

    return shape


def lookup_shape(block: Callable[[int], int], text: str, n_inputs: int) -> Callable:
    """A shape function for a lookup: (len(LENGTHS), block(DATA columns)) float32."""
    from caffe2lite.schema.shapes import TensorShape

    def shape(*inputs: TensorShape) -> tuple[TensorShape, ...]:
        data, lengths = inputs[0], inputs[n_inputs - 1]
        rows = lengths.dims[0] if lengths.dims else "len(LENGTHS)"
        if data.dims is None or len(data.dims) < 2:
            return (TensorShape((rows, "block"), np.float32),)
        cols = data.dims[1]
        width = text.format(cols) if isinstance(cols, str) else block(cols)
        return (TensorShape((rows, width), np.float32),)

    return shape
