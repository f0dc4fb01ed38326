from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite.core import CreateOperator
from caffe2lite.errors import EnforceError, ShapeError
from caffe2lite.io.int8 import Int8Tensor
from caffe2lite.workspace import Workspace

from ._naive import check_raises_int8, f32

OP = CreateOperator("Int8Softmax", ["input"], ["output"], Y_scale=1 / 256)


def run(x):
    ws = Workspace()
    ws.feed_blob("input", x)
    ws.run(OP)
    return ws.fetch_blob("output")


def naive(x):
    rows = x.data.reshape(x.data.shape[0], -1).tolist()
    c = len(rows[0])
    qscale = min((2**32 - 1) / c, 8388607.0)
    table = [round(qscale * math.exp((i - 255) * f32(x.scale))) for i in range(256)]
    out = []
    for row in rows:
        m = max(row)
        e = [table[v + 255 - m] for v in row]
        s = sum(e)
        out.append([min(255, (v * 256 + s // 2) // s) for v in e])
    return out


@settings(max_examples=30, deadline=None)
@given(
    st.integers(1, 3),
    st.integers(1, 9),
    st.integers(0, 2**32 - 1),
    st.sampled_from([0.01, 0.1, 0.5, 2.0]),
)
def test_matches_naive(n, c, seed, scale):
    rng = np.random.default_rng(seed)
    x = Int8Tensor(
        rng.integers(0, 256, (n, c)).astype(np.uint8), scale, int(rng.integers(0, 256))
    )
    y = run(x)
    assert (y.scale, y.zero_point) == (np.float32(1 / 256), 0)
    assert y.data.tolist() == naive(x)


def test_close_to_float_softmax_and_rank_kept():
    x = Int8Tensor(np.arange(24, dtype=np.uint8).reshape(2, 3, 4) * 10, 0.02, 7)
    y = run(x)
    assert y.data.shape == (2, 3, 4)
    real = x.dequantize().reshape(2, -1)
    soft = np.exp(real - real.max(1, keepdims=True))
    soft /= soft.sum(1, keepdims=True)
    assert np.abs(y.data.reshape(2, -1) / 256 - soft).max() <= 1 / 256


def test_errors():
    x = Int8Tensor(np.array([[1, 2]], np.uint8), 0.1, 0)
    check_raises_int8(
        CreateOperator("Int8Softmax", ["input"], ["output"]),
        [x],
        EnforceError,
        r"Y_scale == 1.0f / 256.0f",
    )
    check_raises_int8(
        CreateOperator(
            "Int8Softmax", ["input"], ["output"], Y_scale=1 / 256, Y_zero_point=1
        ),
        [x],
        EnforceError,
        "Y_zero_point == 0",
    )
    check_raises_int8(
        OP,
        [Int8Tensor(np.zeros((0, 2), np.uint8), 0.1, 0)],
        ShapeError,
        "at least one row",
    )
