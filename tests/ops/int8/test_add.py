from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite.core import CreateOperator
from caffe2lite.errors import EnforceError, ShapeError
from caffe2lite.io.int8 import Int8Tensor
from caffe2lite.workspace import Workspace

from ._naive import check_raises_int8, f32, qmul, quantize_one, rdbpot, srdhm

TYPES = ["Int8Add", "Int8AddRelu", "Int8Sum", "Int8SumRelu"]


def run(op_type, a, b, **args):
    ws = Workspace()
    ws.feed_blob("A", a)
    ws.feed_blob("B", b)
    ws.run(CreateOperator(op_type, ["A", "B"], ["C"], **args))
    return ws.fetch_blob("C")


def naive(a, b, y_scale, y_zp, relu):
    twice = 2 * max(f32(a.scale), f32(b.scale))
    ma, sa = qmul(f32(a.scale) / twice)
    mb, sb = qmul(f32(b.scale) / twice)
    my, sy = qmul(twice / ((1 << 20) * f32(y_scale)))
    lo = quantize_one(0.0, y_scale, y_zp) if relu else 0
    out = []
    for va, vb in zip(a.data.ravel().tolist(), b.data.ravel().tolist()):
        xa = rdbpot(srdhm((va - a.zero_point) * (1 << 20), ma), sa)
        xb = rdbpot(srdhm((vb - b.zero_point) * (1 << 20), mb), sb)
        y = rdbpot(srdhm(xa + xb, my), sy) + y_zp
        out.append(min(255, max(lo, y)))
    return out


@settings(max_examples=30, deadline=None)
@given(
    st.sampled_from(TYPES),
    st.integers(0, 2**32 - 1),
    st.sampled_from(
        [(0.5, 0.5, 1.0), (0.02, 0.3, 0.25), (1.0, 600.0, 575.0), (0.1, 0.01, 0.001)]
    ),
)
def test_matches_naive(op_type, seed, scales):
    rng = np.random.default_rng(seed)
    a = Int8Tensor(
        rng.integers(0, 256, (3, 4)).astype(np.uint8),
        scales[0],
        int(rng.integers(0, 256)),
    )
    b = Int8Tensor(
        rng.integers(0, 256, (3, 4)).astype(np.uint8),
        scales[1],
        int(rng.integers(0, 256)),
    )
    y = run(op_type, a, b, Y_scale=scales[2], Y_zero_point=120)
    assert y.data.shape == (3, 4) and (y.scale, y.zero_point) == (
        np.float32(scales[2]),
        120,
    )
    assert y.data.ravel().tolist() == naive(
        a, b, scales[2], 120, op_type.endswith("Relu")
    )


def test_close_to_the_real_sum():
    a = Int8Tensor(np.arange(0, 250, 10, dtype=np.uint8), 0.1, 30)
    b = Int8Tensor(np.arange(250, 0, -10, dtype=np.uint8), 0.2, 100)
    y = run("Int8Add", a, b, Y_scale=0.5, Y_zero_point=60)
    real = a.dequantize() + b.dequantize()
    assert np.abs(y.dequantize() - np.clip(real, -30, 97.5)).max() <= 0.5


def test_in_place_and_empty():
    ws = Workspace()
    ws.feed_blob("A", Int8Tensor(np.array([1, 2], np.uint8), 1.0, 0))
    ws.feed_blob("B", Int8Tensor(np.array([3, 4], np.uint8), 1.0, 0))
    ws.run(CreateOperator("Int8Sum", ["A", "B"], ["A"], Y_scale=1.0))
    assert ws.fetch_blob("A").data.tolist() == [4, 6]
    e = Int8Tensor(np.zeros((0, 2), np.uint8), 1.0, 0)
    assert run("Int8Add", e, e).data.shape == (0, 2)


@pytest.mark.parametrize("op_type", TYPES)
def test_errors(op_type):
    a = Int8Tensor(np.array([1, 2], np.uint8), 1.0, 0)
    op = CreateOperator(op_type, ["A", "B"], ["C"])
    check_raises_int8(
        op,
        [a, Int8Tensor(np.array([1, 2, 3], np.uint8), 1.0, 0)],
        ShapeError,
        "no broadcast support",
    )
    # the output scale must keep the fixed-point multiplier below 1
    tiny = CreateOperator(op_type, ["A", "B"], ["C"], Y_scale=1e-11)
    check_raises_int8(tiny, [a, a], EnforceError, "double_multiplier < 1")


def test_int8_sum_needs_two_inputs():
    a = Int8Tensor(np.array([1, 2], np.uint8), 1.0, 0)
    check_raises_int8(
        CreateOperator("Int8Sum", ["A"], ["C"]),
        [a],
        EnforceError,
        r"Inputs\(\).size\(\) == 2. 1 vs 2",
    )
