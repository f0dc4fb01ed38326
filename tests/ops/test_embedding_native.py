"""The compiled embedding reductions (ops/_caffe2lite_embedding.c) against the numpy
kernels: the same bits on random cases, the same sequential order as a Python loop,
the module's refusals (None) on everything it does not handle, and the same errors
through the ops."""

from __future__ import annotations

import numpy as np
import pytest
from c2l_test_support.kernels import (
    skip_unless_speedups_required,
    status_with_speedups_off,
)
from caffe2lite.ops import _embedding_native as native
from caffe2lite.ops.quantized import _rowwise
from caffe2lite.ops.segment import _segment_kernels
from caffe2lite.ops.segment.sparse_lengths_mean import tile_mean
from caffe2lite.ops.segment.sparse_lengths_sum import tile_sum
from caffe2lite.ops.segment.sparse_lengths_weighted_sum import (
    tile_weighted,
    with_main_input,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite.builder.operator import CreateOperator
from caffe2lite.errors import EnforceError
from caffe2lite.testing import check_raises

needs_native = pytest.mark.skipif(native.native is None, reason=native.status)
FUNCTIONS = ("sparse_lengths", "fused_lookup", "tile", "tile_dot")


def numpy_only(fn, *args, **kwargs):
    """``fn`` run with the numpy kernels only."""
    saved = {name: getattr(native, name) for name in FUNCTIONS}
    try:
        for name in FUNCTIONS:
            setattr(native, name, None)
        return fn(*args, **kwargs)
    finally:
        for name, value in saved.items():
            setattr(native, name, value)


def same_bits(a, b):
    return (
        a.shape == b.shape
        and a.dtype == b.dtype
        and np.array_equal(
            np.ascontiguousarray(a).view(np.uint8),
            np.ascontiguousarray(b).view(np.uint8),
        )
    )


def sequential(data, indices, lengths, weights=None, mean=False, dtype=np.float32):
    """The fixed order, as a loop: a zeroed row, each term added in index order."""
    rows = data.reshape(data.shape[0], int(np.prod(data.shape[1:], dtype=np.int64)))
    out = np.zeros((len(lengths), rows.shape[1]), dtype)
    j = 0
    for s, n in enumerate(lengths.tolist()):
        acc = np.zeros(rows.shape[1], dtype)
        for _ in range(n):
            term = rows[int(indices[j])].astype(dtype)
            if weights is not None:
                term = weights[j] * term
            with np.errstate(invalid="ignore"):
                acc = acc + term
            j += 1
        if mean and n:
            acc = acc * (dtype(1) / dtype(n))
        out[s] = acc
    return out.reshape((len(lengths),) + data.shape[1:])


def random_case(seed, dtype, index_type, weighted, max_len, block):
    rng = np.random.default_rng(seed)
    rows = int(rng.integers(1, 30))
    lengths = rng.integers(0, max_len + 1, int(rng.integers(0, 12))).astype(np.int32)
    n = int(lengths.sum())
    scale = 10.0 ** rng.integers(-3, 4, (rows,) + tuple(block))
    data = (rng.standard_normal((rows,) + tuple(block)) * scale).astype(dtype)
    indices = rng.integers(0, rows, n).astype(index_type)
    wtype = np.float64 if dtype == np.float64 else np.float32
    weights = rng.standard_normal(n).astype(wtype) if weighted else None
    return data, indices, lengths, weights


CASES = {
    "seed": st.integers(0, 2**16),
    "dtype": st.sampled_from([np.float32, np.float64, np.float16]),
    "index_type": st.sampled_from([np.int32, np.int64]),
    "weighted": st.booleans(),
    "mean": st.booleans(),
    "max_len": st.sampled_from([0, 1, 3, 17, 300]),
    "block": st.sampled_from([(), (1,), (5,), (16,), (21,), (2, 24), (64,), (0,)]),
}


@settings(max_examples=60, deadline=None)
@given(**CASES)
def test_float_lookup_compiled_equals_numpy_and_the_loop(
    seed, dtype, index_type, weighted, mean, max_len, block
):
    data, indices, lengths, weights = random_case(
        seed, dtype, index_type, weighted, max_len, block
    )
    out_type = np.float64 if dtype == np.float64 else np.float32
    want = sequential(data, indices, lengths, weights, mean, out_type)
    slow = numpy_only(
        _segment_kernels.sparse_lengths_reduce, data, indices, lengths, weights, mean
    )
    assert same_bits(slow, want)
    if native.native is not None:
        fast = native.sparse_lengths(data, indices, lengths, weights, mean)
        assert fast is not None and same_bits(fast, want)


def test_numpy_long_segments_carry_across_chunks(monkeypatch):
    # Tiny chunks: groups, padding and segments split across chunks all appear.
    monkeypatch.setattr(_segment_kernels, "SEQUENTIAL_CHUNK_BYTES", 1)
    for seed in range(6):
        data, indices, lengths, weights = random_case(
            seed, np.float32, np.int64, seed % 2 == 0, 300, (3,)
        )
        want = sequential(data, indices, lengths, weights, seed % 3 == 0)
        got = numpy_only(
            _segment_kernels.sparse_lengths_reduce,
            data,
            indices,
            lengths,
            weights,
            seed % 3 == 0,
        )
        assert same_bits(got, want)


def test_zero_signs_and_non_finite_values():
    data = np.array(
        [[-0.0, np.inf, np.nan, 1.0], [-0.0, -np.inf, 2.0, -1.0]], np.float32
    )
    cases = [
        (np.array([0], np.int64), np.array([1, 0], np.int32)),  # -0 alone sums to 0
        (np.array([0, 1], np.int32), np.array([2], np.int32)),  # inf - inf, 1 - 1
        (np.zeros(0, np.int64), np.array([0, 0, 0], np.int32)),
    ]
    for indices, lengths in cases:
        want = sequential(data, indices, lengths)
        slow = numpy_only(
            _segment_kernels.sparse_lengths_reduce, data, indices, lengths
        )
        assert same_bits(slow, want)
        if native.native is not None:
            assert same_bits(
                native.sparse_lengths(data, indices, lengths, None, 0), want
            )
    assert np.signbit(want).sum() == 0


@needs_native
def test_float16_widening_is_exact():
    bits = np.arange(0, 2**16, dtype=np.uint16)
    table = bits.view(np.float16).reshape(-1, 1)
    indices = np.arange(2**16, dtype=np.int64)
    out = native.sparse_lengths(table, indices, np.ones(2**16, np.int32), None, 0)
    want = table.astype(np.float32)
    finite = ~np.isnan(want[:, 0])
    assert same_bits(out[finite], (want[finite] + np.float32(0)))
    assert np.isnan(out[~finite]).all()


def quantized_case(seed, bits, index_type, weighted, max_len, cols=None):
    rng = np.random.default_rng(seed)
    rows = int(rng.integers(1, 20))
    cols = 4 * int(rng.integers(1, 10)) if cols is None else cols
    x = rng.standard_normal((rows, cols)) * 10.0 ** rng.integers(-3, 3, (rows, 1))
    x = x.astype(np.float32)
    table = (
        _rowwise.quantize_fused8(x)
        if bits == 8
        else _rowwise.quantize_fused_nbit(x, bits)
    )
    lengths = rng.integers(0, max_len + 1, int(rng.integers(0, 10))).astype(np.int32)
    n = int(lengths.sum())
    indices = rng.integers(0, rows, n).astype(index_type)
    weights = rng.standard_normal(n).astype(np.float32) if weighted else None
    return table, indices, lengths, weights


def dequantized_terms(table, bits, indices, weights):
    """Per index, the float32 term (s * code) + b of the fixed order, by a loop."""
    tail = 8 if bits == 8 else 4
    out = []
    for j, i in enumerate(indices.tolist()):
        row = table[i]
        sb = row[-tail:].tobytes()
        scale, bias = np.frombuffer(sb, "<f4" if bits == 8 else "<f2").astype(
            np.float32
        )
        if weights is not None:
            scale, bias = scale * weights[j], bias * weights[j]
        codes = []
        for byte in row[:-tail].tolist():
            for q in range(8 // bits):
                codes.append((byte >> (q * bits)) & ((1 << bits) - 1))
        out.append([np.float32(scale * np.float32(c)) + bias for c in codes])
    block = (table.shape[1] - tail) * (8 // bits)
    return np.array(out, np.float32).reshape(len(indices), block)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**16),
    bits=st.sampled_from([8, 4, 2]),
    index_type=st.sampled_from([np.int32, np.int64]),
    weighted=st.booleans(),
    mean=st.booleans(),
    max_len=st.sampled_from([0, 2, 9, 200]),
)
def test_fused_lookup_compiled_equals_numpy_and_the_loop(
    seed, bits, index_type, weighted, mean, max_len
):
    table, indices, lengths, weights = quantized_case(
        seed, bits, index_type, weighted, max_len
    )
    terms = dequantized_terms(table, bits, indices, weights)
    want = sequential(terms, np.arange(len(indices)), lengths, None, mean)
    slow = numpy_only(
        _rowwise.fused_lookup, table, indices, lengths, weights, bits=bits, mean=mean
    )
    assert same_bits(slow, want)
    if native.native is not None:
        fast = native.fused_lookup(table, indices, lengths, weights, mean, bits)
        assert fast is not None and same_bits(fast, want)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**16),
    dtype=st.sampled_from([np.float32, np.float64]),
    index_type=st.sampled_from([np.int32, np.int64]),
    max_len=st.sampled_from([0, 1, 4, 50]),
    block=st.sampled_from([(), (1,), (7,), (16,), (3, 5), (0,)]),
)
def test_gradient_tiles_compiled_equal_numpy(seed, dtype, index_type, max_len, block):
    rng = np.random.default_rng(seed)
    lengths = rng.integers(0, max_len + 1, int(rng.integers(0, 10))).astype(np.int32)
    n = int(lengths.sum())
    grads = rng.standard_normal((len(lengths),) + block).astype(dtype)
    weights = rng.standard_normal(n).astype(dtype)
    data = rng.standard_normal((9,) + block).astype(dtype)
    indices = rng.integers(0, 9, n).astype(index_type)
    for fn, args in (
        (tile_sum, (grads, lengths)),
        (tile_mean, (grads, lengths)),
        (lambda *a: (tile_weighted(*a),), (weights, grads, lengths)),
        (with_main_input, (weights, grads, lengths, data, indices, 2)),
        (with_main_input, (weights, grads, lengths, data, indices, 1)),
    ):
        slow = numpy_only(fn, *args)
        fast = fn(*args)
        assert len(slow) == len(fast)
        for a, b in zip(slow, fast):
            assert same_bits(a, b)
    # The weights' gradient is a sequential dot product of the segment gradient and
    # the looked-up row.
    _, wgrad = with_main_input(weights, grads, lengths, data, indices, 2)
    width = int(np.prod(block, dtype=np.int64))
    g = np.repeat(grads.reshape(len(lengths), width), lengths, axis=0)
    x = data.reshape(9, width)[indices]
    for j in range(n):
        acc = dtype(0) if g.shape[1] == 0 else g[j, 0] * x[j, 0]
        for k in range(1, g.shape[1]):
            acc = acc + g[j, k] * x[j, k]
        assert wgrad[j] == acc


@needs_native
def test_refusals_return_none():
    data = np.ones((4, 3), np.float32)
    idx = np.array([0, 3], np.int64)
    lens = np.array([2], np.int32)
    sl = native.sparse_lengths
    assert sl(data, idx, lens, None, 0) is not None
    refused = [
        (data.astype(np.int32), idx, lens, None),
        (data.astype(">f4"), idx, lens, None),  # not native byte order
        (np.ones((4, 6), np.float32)[:, ::2], idx, lens, None),  # not contiguous
        (data.tolist(), idx, lens, None),  # not an array
        (np.float32(1), idx, lens, None),  # 0-d
        (data, idx.astype(np.uint64), lens, None),
        (data, idx.reshape(2, 1), lens, None),
        (data, idx, lens.astype(np.int64), None),
        (data, idx, np.array([3], np.int32), None),  # sum(LENGTHS) != len(INDICES)
        (data, idx, np.array([-1, 3], np.int32), None),
        (data, np.array([0, 4]), lens, None),  # index out of range
        (data, np.array([-1, 0]), lens, None),
        (data, idx, lens, np.ones(2, np.float64)),  # weights of another type
        (data, idx, lens, np.ones(3, np.float32)),
        (data, idx, lens, np.ones((2, 1), np.float32)),
    ]
    for args in refused:
        assert sl(*args, 0) is None, args
    # Out of range with zero columns or past an empty row: still refused.
    assert sl(np.ones((4, 0), np.float32), idx * 2, lens, None, 0) is None
    table = np.zeros((3, 12), np.uint8)
    fl = native.fused_lookup
    assert fl(table, idx % 3, lens, None, 0, 8) is not None
    assert fl(table, idx, lens, None, 0, 8) is None  # index 3 of 3 rows
    assert fl(table[:, :8], idx % 3, lens, None, 0, 8) is None  # no code column
    assert fl(table, idx % 3, lens, None, 0, 3) is None
    assert fl(table.astype(np.int8), idx % 3, lens, None, 0, 8) is None
    grads = np.ones((1, 3), np.float32)
    assert native.tile(grads, lens, None, 0).shape == (2, 3)
    assert native.tile(grads, np.array([1, 1], np.int32), None, 0) is None
    assert native.tile(grads, np.array([-2], np.int32), None, 0) is None
    assert native.tile(grads.astype(np.float16), lens, None, 0) is None
    assert native.tile_dot(grads, lens, np.ones(2, np.float32), data, idx) is not None
    assert native.tile_dot(grads, lens, np.ones(2, np.float32), data, idx + 1) is None
    assert (
        native.tile_dot(grads, lens, np.ones(2, np.float32), data[:, :2], idx) is None
    )
    assert native.tile_dot(grads, lens, None, data, idx) is None


def test_errors_are_the_numpy_kernels_errors():
    # The compiled kernel refuses; the numpy checks raise Caffe2's messages.
    data = np.ones((4, 3), np.float32)
    check_raises(
        CreateOperator("SparseLengthsSum", ["D", "I", "L"], ["O"]),
        {"D": data, "I": np.array([0, 7]), "L": np.array([2], np.int32)},
        EnforceError,
        "Index 1 is out of bounds: 7, range 0 to 4",
    )
    check_raises(
        CreateOperator("SparseLengthsMean", ["D", "I", "L"], ["O"]),
        {"D": data, "I": np.array([0, 1]), "L": np.array([3], np.int32)},
        EnforceError,
        "the sum of lengths values should be the size of the indices tensor",
    )
    check_raises(
        CreateOperator("SparseLengthsSumFused8BitRowwise", ["D", "I", "L"], ["O"]),
        {
            "D": np.zeros((2, 10), np.uint8),
            "I": np.array([2]),
            "L": np.array([1], np.int32),
        },
        EnforceError,
        "Index 0 is out of bounds: 2, range 0 to 2",
    )


@needs_native
def test_large_calls_release_the_gil_and_agree():
    rng = np.random.default_rng(5)
    data = rng.standard_normal((5000, 16)).astype(np.float32)
    lengths = rng.integers(0, 40, 3000).astype(np.int32)
    indices = rng.integers(0, 5000, int(lengths.sum()))
    for weights in (None, rng.standard_normal(indices.size).astype(np.float32)):
        fast = native.sparse_lengths(data, indices, lengths, weights, 1)
        slow = numpy_only(
            _segment_kernels.sparse_lengths_reduce,
            data,
            indices,
            lengths,
            weights,
            True,
        )
        assert same_bits(fast, slow)


def test_speedups_off_in_the_environment():
    out = status_with_speedups_off(
        "caffe2lite.ops._embedding_native", ("native", "sparse_lengths")
    )
    assert out.startswith("True True numpy kernels (CAFFE2LITE_SPEEDUPS=0)")


def test_ci_requires_the_module():
    skip_unless_speedups_required()
    assert native.native is not None, native.status


@needs_native
@pytest.mark.parametrize("avx2", [False, True])
def test_portable_and_avx2_kernels_agree(avx2):
    previous = native.native.select_avx2(avx2)
    try:
        if avx2 and not native.native.select_avx2(True):
            pytest.skip("no AVX2 on this processor or build")
        for seed in range(40):
            block = [(16,), (17,), (32,), (47,), (4, 8), (64,), (2, 64)][seed % 7]
            data, indices, lengths, weights = random_case(
                seed,
                np.float32,
                [np.int32, np.int64][seed % 2],
                seed % 3 == 0,
                [1, 5, 40, 300][seed % 4],
                block,
            )
            mean = seed % 4 == 1
            fast = native.sparse_lengths(data, indices, lengths, weights, mean)
            slow = numpy_only(
                _segment_kernels.sparse_lengths_reduce,
                data,
                indices,
                lengths,
                weights,
                mean,
            )
            assert same_bits(fast, slow)
            bad = indices.copy()
            if bad.size:
                bad[-1] = data.shape[0]  # the last index of the last pair, checked
                assert native.sparse_lengths(data, bad, lengths, weights, mean) is None
        for seed in range(30):
            bits = [8, 4, 2][seed % 3]
            table, indices, lengths, weights = quantized_case(
                seed,
                bits,
                [np.int32, np.int64][seed % 2],
                seed % 4 == 0,
                40,
                [None, 64, 128, 48][seed % 4],
            )
            mean = seed % 5 == 1
            fast = native.fused_lookup(table, indices, lengths, weights, mean, bits)
            slow = numpy_only(
                _rowwise.fused_lookup,
                table,
                indices,
                lengths,
                weights,
                bits=bits,
                mean=mean,
            )
            assert same_bits(fast, slow)
            if indices.size:
                bad = indices.copy()
                bad[-1] = table.shape[0]
                assert (
                    native.fused_lookup(table, bad, lengths, weights, mean, bits)
                    is None
                )
    finally:
        native.native.select_avx2(previous)


@needs_native
def test_fused_special_scales_agree():
    # float16 scales and biases that are inf, signaling / quiet NaN or subnormal:
    # the compiled kernel widens them with F16C, numpy exactly; the products agree.
    specials = np.array([0x7C00, 0x7D01, 0x7E00, 0x0001, 0x8001, 0xFBFF], np.uint16)
    rng = np.random.default_rng(3)
    for bits in (4, 2):
        cols = 16 * bits // 8
        table = rng.integers(0, 256, (len(specials) ** 2, cols + 4)).astype(np.uint8)
        pairs = np.stack(np.meshgrid(specials, specials), -1).reshape(-1, 2)
        table[:, cols:] = pairs.view(np.uint8).reshape(-1, 4)
        indices = rng.integers(0, table.shape[0], 90)
        lengths = np.full(30, 3, np.int32)
        for weights in (None, rng.standard_normal(90).astype(np.float32)):
            fast = native.fused_lookup(table, indices, lengths, weights, 0, bits)
            slow = numpy_only(
                _rowwise.fused_lookup, table, indices, lengths, weights, bits=bits
            )
            # Every non-NaN value to the bit, NaN exactly where numpy has NaN: the
            # payload of a NaN widened from a float16 signaling NaN differs between
            # numpy 1.x and 2.x (and is not a value).
            nan = np.isnan(slow)
            assert np.array_equal(np.isnan(fast), nan)
            assert same_bits(np.where(nan, 0, fast), np.where(nan, 0, slow))
