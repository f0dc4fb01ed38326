from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite.core import CreateOperator
from caffe2lite.errors import Caffe2LiteError, EnforceError, ShapeError
from caffe2lite.io.int8 import Int8Tensor
from caffe2lite.workspace import Workspace

from ._naive import check_raises_int8, quantize_one

TYPES = ["Int8MaxPool", "Int8MaxPoolRelu", "Int8AveragePool", "Int8AveragePoolRelu"]


def run(op_type, x, **args):
    ws = Workspace()
    ws.feed_blob("X", x)
    ws.run(
        CreateOperator(
            op_type,
            ["X"],
            ["Y"],
            order="NHWC",
            Y_scale=x.scale,
            Y_zero_point=x.zero_point,
            **args,
        )
    )
    return ws.fetch_blob("Y")


def naive(x, op_type, k, stride, pad):
    n, h, w, c = x.data.shape
    oh = (h + 2 * pad - k) // stride + 1
    ow = (w + 2 * pad - k) // stride + 1
    lo = quantize_one(0.0, x.scale, x.zero_point) if op_type.endswith("Relu") else 0
    y = np.zeros((n, oh, ow, c), np.uint8)
    for b in range(n):
        for i in range(oh):
            for j in range(ow):
                for ch in range(c):
                    vals = [
                        int(x.data[b, r, s, ch])
                        for r in range(i * stride - pad, i * stride - pad + k)
                        for s in range(j * stride - pad, j * stride - pad + k)
                        if 0 <= r < h and 0 <= s < w
                    ]
                    if "Max" in op_type:
                        v = max([0] + vals)
                    else:
                        v = (
                            (sum(vals) % 65536 + len(vals) // 2) // len(vals)
                            if vals
                            else 0
                        )
                    y[b, i, j, ch] = min(255, max(lo, v))
    return y


@settings(max_examples=30, deadline=None)
@given(
    st.sampled_from(TYPES),
    st.integers(0, 2**32 - 1),
    st.sampled_from([1, 2, 3]),
    st.sampled_from([1, 2]),
    st.sampled_from([0, 1]),
)
def test_matches_naive(op_type, seed, k, stride, pad):
    if pad >= k:
        pad = 0
    rng = np.random.default_rng(seed)
    x = Int8Tensor(
        rng.integers(0, 256, (2, 4, 5, 3)).astype(np.uint8),
        0.1,
        int(rng.integers(0, 256)),
    )
    y = run(op_type, x, kernel=k, stride=stride, pad=pad)
    assert (y.scale, y.zero_point) == (x.scale, x.zero_point)
    np.testing.assert_array_equal(y.data, naive(x, op_type, k, stride, pad))


def test_global_pooling():
    x = Int8Tensor(np.arange(12, dtype=np.uint8).reshape(1, 2, 2, 3), 1.0, 0)
    assert run("Int8AveragePool", x, global_pooling=True).data.ravel().tolist() == [
        5,
        6,
        7,
    ]
    assert run("Int8MaxPool", x, global_pooling=True).data.ravel().tolist() == [
        9,
        10,
        11,
    ]


def test_uint16_accumulator_wraps():
    x = Int8Tensor(np.full((1, 17, 17, 1), 255, np.uint8), 1.0, 0)
    y = run("Int8AveragePool", x, kernel=17)
    assert y.data.ravel().tolist() == [((255 * 289) % 65536 + 144) // 289]


@pytest.mark.parametrize("op_type", TYPES)
def test_errors(op_type):
    x = Int8Tensor(np.ones((1, 2, 2, 1), np.uint8), 0.5, 3)
    op = CreateOperator(
        op_type, ["X"], ["Y"], order="NHWC", kernel=2, Y_scale=0.5, Y_zero_point=4
    )
    check_raises_int8(op, [x], EnforceError, r"Y_offset == X.zero_point \(4 vs. 3\)")
    op = CreateOperator(op_type, ["X"], ["Y"], order="NHWC", kernel=2, Y_zero_point=3)
    check_raises_int8(op, [x], EnforceError, "Y_scale == X.scale")
    op = CreateOperator(op_type, ["X"], ["Y"], kernel=2, Y_scale=0.5, Y_zero_point=3)
    check_raises_int8(op, [x], Caffe2LiteError, r"Int8 only supports NCHW order\.")
    op = CreateOperator(
        op_type, ["X"], ["Y"], order="NHWC", kernel=2, Y_scale=0.5, Y_zero_point=3
    )
    check_raises_int8(
        op,
        [Int8Tensor(np.ones((2, 2, 1), np.uint8), 0.5, 3)],
        ShapeError,
        r"X.t.dim\(\) == 4",
    )
