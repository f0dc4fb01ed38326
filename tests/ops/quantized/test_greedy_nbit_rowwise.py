"""The GREEDY engine of the N-bit rowwise quantisers against a literal, one value at
a time port of Caffe2's param_search_greedy and compress_uniform_simplified_ (its
AVX loop's 8 float32 lanes), on Caffe2's test sizes; the fake and the packed ops
de-quantise to the same values, as Caffe2's tests check."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite.builder.operator import CreateOperator
from caffe2lite.errors import DTypeError
from caffe2lite.ops.quantized._rowwise import greedy_range
from caffe2lite.testing import check_raises
from caffe2lite.workspace import Workspace

f32 = np.float32


def loss_port(x, xmin, xmax, bits):
    xmin = f32(np.float16(xmin))
    span, top = f32(xmax - xmin), f32((1 << bits) - 1)
    scale = f32(1) if span == 0 else f32(np.float16(f32(span / top)))
    inverse = f32(f32(1) / scale)

    def square(v):
        q = max(f32(0), min(f32(np.rint(f32((v - xmin) * inverse))), top))
        e = f32(v - f32(f32(q * scale) + xmin))
        return f32(e * e)

    whole = len(x) // 8 * 8
    lanes, norm = [f32(0)] * 8, f32(0)
    for i in range(whole):
        lanes[i % 8] = f32(square(x[i]) + lanes[i % 8])
    for j in range(8 if whole else 0):
        norm = f32(norm + lanes[j])
    for i in range(whole, len(x)):
        norm = f32(norm + square(x[i]))
    return f32(np.sqrt(norm))


def search_port(x, bits):
    xmin, xmax = f32(x.min()), f32(x.max())
    step = f32(f32(xmax - xmin) / f32(200))
    min_bins = int(f32(200) * f32(f32(1) - f32(0.16)))
    best = cur_loss = loss_port(x, xmin, xmax, bits)
    cur_min, cur_max = xmin, xmax
    thr = f32(f32(min_bins) * step)
    while f32(cur_min + thr) < cur_max:
        loss1 = loss_port(x, f32(cur_min + step), cur_max, bits)
        loss2 = loss_port(x, cur_min, f32(cur_max - step), bits)
        if cur_loss < loss1 and cur_loss < loss2 and cur_loss < best:
            best, xmin, xmax = cur_loss, cur_min, cur_max
        if loss1 < loss2:
            cur_min, cur_loss = f32(cur_min + step), loss1
        else:
            cur_max, cur_loss = f32(cur_max - step), loss2
    return xmin, xmax


def packed_port(x, bits):
    """FloatToFused{bits}BitRowwiseQuantized of one row over the searched range."""
    xmin, xmax = search_port(x, bits)
    bias = f32(np.float16(xmin))
    top = f32((1 << bits) - 1)
    span = f32(xmax - bias)
    scale = f32(np.float16(f32(span / top))) if span != 0 else f32(1)
    inverse = f32(f32(1) / scale)
    codes = [int(max(f32(0), min(f32(np.rint(f32((v - bias) * inverse))), top))) for v in x]
    per = 8 // bits
    packed = [sum(codes[b * per + j] << (j * bits) for j in range(per))
              for b in range(len(codes) // per)]
    return packed + list(np.array([scale, bias], np.float16).view(np.uint8))


def run(op_type, x, engine="GREEDY"):
    ws = Workspace()
    ws.feed_blob("X", x)
    ws.run_operator_once(CreateOperator(op_type, ["X"], ["Y"], engine=engine))
    return ws.fetch_blob("Y")


@settings(max_examples=20, deadline=None)
@given(rows=st.integers(1, 20), cols=st.sampled_from([8, 12, 16, 32, 64, 96, 128]),
       bits=st.sampled_from([2, 4]), scale=st.sampled_from([1e-3, 1.0, 50.0]),
       seed=st.integers(0, 2**32 - 1))
def test_packed_rows_equal_caffe2s_search(rows, cols, bits, scale, seed):
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal((rows, cols)) * scale).astype(np.float32)
    x[:, 0] *= 20  # an outlier per row gives the search something to cut
    got = run(f"FloatToFused{bits}BitRowwiseQuantized", x)
    want = np.array([packed_port(row, bits) for row in x], np.uint8)
    np.testing.assert_array_equal(got, want)
    lo, hi = greedy_range(x, x.min(1), x.max(1), bits)
    assert [(a, b) for a, b in zip(lo, hi)] == [search_port(row, bits) for row in x]


@pytest.mark.parametrize("bits", [2, 4])
def test_fake_and_half_variants_agree_with_the_packed_op(bits):
    rng = np.random.default_rng(bits)
    x = rng.standard_normal((6, 16)).astype(np.float32)
    x[:, 3] = 9
    packed = run(f"FloatToFused{bits}BitRowwiseQuantized", x)
    fake = run(f"FloatToFused{bits}BitFakeRowwiseQuantized", x)
    as_packed = run(f"Fused{bits}BitRowwiseQuantizedToFloat", packed, engine="")
    as_fake = run("Fused8BitRowwiseQuantizedToFloat", fake, engine="")
    np.testing.assert_array_equal(as_fake, as_packed)
    half = x.astype(np.float16)
    np.testing.assert_array_equal(run(f"HalfToFused{bits}BitRowwiseQuantized", half),
                                  run(f"FloatToFused{bits}BitRowwiseQuantized",
                                      half.astype(np.float32)))
    np.testing.assert_array_equal(run(f"HalfToFused{bits}BitFakeRowwiseQuantized", half),
                                  run(f"FloatToFused{bits}BitFakeRowwiseQuantized",
                                      half.astype(np.float32)))
    # the search found narrower ranges than [min, max] here: the engines differ
    assert not np.array_equal(packed, run(f"FloatToFused{bits}BitRowwiseQuantized", x, ""))


def test_constant_rows_and_types():
    x = np.full((2, 8), 3.0, np.float32)  # one value: nothing to search
    np.testing.assert_array_equal(run("FloatToFused4BitRowwiseQuantized", x),
                                  run("FloatToFused4BitRowwiseQuantized", x, ""))
    check_raises(CreateOperator("FloatToFused4BitRowwiseQuantized", ["X"], ["Y"],
                                engine="GREEDY"), [x.astype(np.float64)], DTypeError,
                 "expects elements to be float")
