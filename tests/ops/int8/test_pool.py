from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite.core import CreateOperator
from caffe2lite.errors import Caffe2LiteError, EnforceError, ShapeError
from caffe2lite.io.int8 import Int8Tensor
from caffe2lite.workspace import Workspace

from ._naive import check_raises_int8, f32, quantize_one

TYPES = ["Int8MaxPool", "Int8MaxPoolRelu", "Int8AveragePool", "Int8AveragePoolRelu"]


def run(op_type, x, y_scale=None, y_zp=None, **args):
    ws = Workspace()
    ws.feed_blob("X", x)
    ws.run(
        CreateOperator(
            op_type,
            ["X"],
            ["Y"],
            order="NHWC",
            Y_scale=x.scale if y_scale is None else y_scale,
            Y_zero_point=x.zero_point if y_zp is None else y_zp,
            **args,
        )
    )
    return ws.fetch_blob("Y")


def avg_quantize(acc, scale):
    """The average-pooling requantisation from the float's fields, one value."""
    import math

    mantissa, exponent = math.frexp(f32(scale))  # scale = mantissa * 2**exponent
    multiplier = int(mantissa * (1 << 24))  # 24 significant bits
    shift = 24 - exponent
    # round acc * multiplier / 2**shift to nearest, ties away from zero (on magnitudes)
    num = abs(acc) * multiplier
    q = (num + (1 << (shift - 1))) >> shift
    return q if acc >= 0 else -q


def naive(x, op_type, k, stride, pad, y_scale, y_zp):
    n, h, w, c = x.data.shape
    oh = (h + 2 * pad - k) // stride + 1
    ow = (w + 2 * pad - k) // stride + 1
    relu = op_type.endswith("Relu")
    y = np.zeros((n, oh, ow, c), np.uint8)
    for b in range(n):
        for i in range(oh):
            for j in range(ow):
                for ch in range(c):
                    if "Max" in op_type:
                        vals = [
                            int(
                                x.data[
                                    b, min(max(r, 0), h - 1), min(max(s, 0), w - 1), ch
                                ]
                            )
                            for r in range(i * stride - pad, i * stride - pad + k)
                            for s in range(j * stride - pad, j * stride - pad + k)
                        ]
                        lo = quantize_one(0.0, x.scale, x.zero_point) if relu else 0
                        y[b, i, j, ch] = max(lo, max(vals))
                        continue
                    acc = 0
                    for r in range(i * stride - pad, i * stride - pad + k):
                        for s in range(j * stride - pad, j * stride - pad + k):
                            if 0 <= r < h and 0 <= s < w:
                                acc += int(x.data[b, r, s, ch]) - x.zero_point
                    scale = f32(f32(x.scale) / f32(f32(y_scale) * f32(k * k)))
                    v = avg_quantize(acc, scale) + y_zp
                    lo = quantize_one(0.0, y_scale, y_zp) if relu else 0
                    y[b, i, j, ch] = min(255, max(lo, v))
    return y


@settings(max_examples=30, deadline=None)
@given(
    st.sampled_from(TYPES),
    st.integers(0, 2**32 - 1),
    st.sampled_from([1, 2, 3]),
    st.sampled_from([1, 2]),
    st.sampled_from([0, 1]),
    st.sampled_from([0.1, 0.3]),
    st.integers(0, 255),
)
def test_matches_naive(op_type, seed, k, stride, pad, y_scale, y_zp):
    if pad >= k:
        pad = 0
    rng = np.random.default_rng(seed)
    x = Int8Tensor(
        rng.integers(0, 256, (2, 4, 5, 3)).astype(np.uint8),
        0.1,
        int(rng.integers(0, 256)),
    )
    if "Max" in op_type:
        y_scale, y_zp = x.scale, x.zero_point
    y = run(op_type, x, y_scale, y_zp, kernel=k, stride=stride, pad=pad)
    assert (np.float32(y.scale), y.zero_point) == (np.float32(y_scale), y_zp)
    np.testing.assert_array_equal(
        y.data, naive(x, op_type, k, stride, pad, y_scale, y_zp)
    )


def test_global_pooling_and_real_values():
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
    # Caffe2's int8_test: within a quantum of the float average (no padding)
    rng = np.random.default_rng(0)
    q = Int8Tensor(rng.integers(0, 256, (1, 25, 25, 16)).astype(np.uint8), 0.05, 100)
    y = run("Int8AveragePool", q, kernel=2)
    real = q.dequantize()
    want = (
        real[:, :-1, :-1] + real[:, 1:, :-1] + real[:, :-1, 1:] + real[:, 1:, 1:]
    ) / 4
    assert np.abs(y.dequantize() - want).max() <= 0.05 / 2 + 1e-6


def test_max_pool_all_padding_window_reads_the_border():
    x = Int8Tensor(np.array([[[[7]], [[3]]]], np.uint8), 1.0, 0)  # (1, 2, 1, 1)
    y = run(
        "Int8MaxPool", x, kernel_h=1, kernel_w=1, pad_t=0, pad_l=2, pad_b=0, pad_r=0
    )
    assert y.data.shape == (1, 2, 3, 1) and y.data[0, :, 0, 0].tolist() == [7, 3]


@pytest.mark.parametrize("op_type", TYPES)
def test_errors(op_type):
    x = Int8Tensor(np.ones((1, 2, 2, 1), np.uint8), 0.5, 3)
    op = CreateOperator(op_type, ["X"], ["Y"], kernel=2, Y_scale=0.5, Y_zero_point=3)
    check_raises_int8(op, [x], Caffe2LiteError, r"Int8 only supports NHWC order\.")
    op = CreateOperator(
        op_type, ["X"], ["Y"], order="NHWC", kernel=2, Y_scale=0.5, Y_zero_point=3
    )
    check_raises_int8(
        op,
        [Int8Tensor(np.ones((2, 2, 1), np.uint8), 0.5, 3)],
        ShapeError,
        r"X.t.dim\(\) == 4",
    )
    if "Max" in op_type:
        op = CreateOperator(
            op_type, ["X"], ["Y"], order="NHWC", kernel=2, Y_scale=0.5, Y_zero_point=4
        )
        check_raises_int8(
            op, [x], EnforceError, r"Y_offset == X.zero_point \(4 vs. 3\)"
        )
    else:
        op = CreateOperator(
            op_type, ["X"], ["Y"], order="NHWC", kernel=2, Y_scale=500.0
        )
        check_raises_int8(
            op, [x], EnforceError, "failed to create QNNPACK Average Pooling operator"
        )
