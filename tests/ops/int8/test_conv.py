from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite.core import CreateOperator
from caffe2lite.errors import Caffe2LiteError, EnforceError, ShapeError
from caffe2lite.io.int8 import Int8Tensor
from caffe2lite.workspace import Workspace

from ._naive import check_raises_int8, qnnp_one, quantize_one


def run(op_type, x, w, b, **args):
    ws = Workspace()
    for n, v in zip(["X", "W", "b"], (x, w, b)):
        ws.feed_blob(n, v)
    ws.run(CreateOperator(op_type, ["X", "W", "b"], ["Y"], order="NHWC", **args))
    return ws.fetch_blob("Y")


def naive(x, w, b, k, stride, pad, group, y_scale, y_zp, relu):
    n, h, wd, c = x.data.shape
    m = w.data.shape[0]
    cg, mg = c // group, m // group
    oh = (h + 2 * pad - k) // stride + 1
    ow = (wd + 2 * pad - k) // stride + 1
    scale = float(
        np.float32(np.float32(x.scale) * np.float32(w.scale)) / np.float32(y_scale)
    )
    lo = quantize_one(0.0, y_scale, y_zp) if relu else 0
    y = np.zeros((n, oh, ow, m), np.uint8)
    for b_ in range(n):
        for i in range(oh):
            for j in range(ow):
                for oc in range(m):
                    g = oc // mg
                    acc = int(b.data[oc])
                    for di in range(k):
                        for dj in range(k):
                            r, s = i * stride + di - pad, j * stride + dj - pad
                            for ci in range(cg):
                                xv = 0
                                if 0 <= r < h and 0 <= s < wd:
                                    xv = (
                                        int(x.data[b_, r, s, g * cg + ci])
                                        - x.zero_point
                                    )
                                acc += xv * (int(w.data[oc, di, dj, ci]) - w.zero_point)
                    y[b_, i, j, oc] = qnnp_one(acc, scale, y_zp, lo)
    return y


@settings(max_examples=20, deadline=None)
@given(
    st.integers(0, 2**32 - 1),
    st.sampled_from([1, 2, 3]),
    st.sampled_from([1, 2]),
    st.sampled_from([0, 1]),
    st.sampled_from([1, 2]),
    st.booleans(),
)
def test_matches_naive(seed, k, stride, pad, group, relu):
    rng = np.random.default_rng(seed)
    c, m = 2 * group, 2 * group
    x = Int8Tensor(
        rng.integers(0, 256, (2, 4, 5, c)).astype(np.uint8),
        0.05,
        int(rng.integers(0, 256)),
    )
    w = Int8Tensor(
        rng.integers(0, 256, (m, k, k, c // group)).astype(np.uint8),
        0.02,
        int(rng.integers(0, 256)),
    )
    b = Int8Tensor(rng.integers(-300, 300, m).astype(np.int32), 0.001, 0)
    op_type = "Int8ConvRelu" if relu else "Int8Conv"
    y = run(
        op_type,
        x,
        w,
        b,
        kernel=k,
        stride=stride,
        pad=pad,
        group=group,
        Y_scale=0.3,
        Y_zero_point=100,
    )
    want = naive(x, w, b, k, stride, pad, group, 0.3, 100, relu)
    assert y.data.dtype == np.uint8 and y.data.shape == want.shape
    np.testing.assert_array_equal(y.data, want)


def _args():
    x = Int8Tensor(np.ones((1, 3, 3, 2), np.uint8), 1.0, 0)
    w = Int8Tensor(np.ones((2, 2, 2, 2), np.uint8), 0.1, 0)
    b = Int8Tensor(np.zeros(2, np.int32), 1.0, 0)
    return [x, w, b]


def test_nchw_is_refused_at_creation():
    ws = Workspace()
    for n, v in zip(["X", "W", "b"], _args()):
        ws.feed_blob(n, v)
    with pytest.raises(Caffe2LiteError, match="Int8Conv only supports NHWC order"):
        ws.run(CreateOperator("Int8ConvRelu", ["X", "W", "b"], ["Y"], kernel=2))


def test_errors():
    op = CreateOperator(
        "Int8Conv", ["X", "W", "b"], ["Y"], order="NHWC", kernel=2, group=2, Y_scale=1.0
    )
    a = _args()
    a[1] = Int8Tensor(np.ones((3, 2, 2, 1), np.uint8), 0.1, 0)
    check_raises_int8(
        op,
        a,
        EnforceError,
        "number of output channels must be divisible by groups count",
    )
    op1 = CreateOperator(
        "Int8Conv", ["X", "W", "b"], ["Y"], order="NHWC", kernel=2, Y_scale=0.01
    )
    check_raises_int8(
        op1, _args(), EnforceError, "failed to create QNNPACK convolution object"
    )
    a = _args()
    a[2] = Int8Tensor(np.zeros(3, np.int32), 1.0, 0)
    check_raises_int8(
        CreateOperator("Int8Conv", ["X", "W", "b"], ["Y"], order="NHWC", kernel=2),
        a,
        ShapeError,
        "bias must have 2 values",
    )
    two = CreateOperator("Int8Conv", ["X", "W"], ["Y"], order="NHWC", kernel=2)
    check_raises_int8(
        two, _args()[:2], EnforceError, r"Inputs\(\).size\(\) == 3. 2 vs 3"
    )


# -- Caffe2's int8_test.cc cases (TensorFlow Lite's test vectors) -------------------------


def _setq(values, scale, zp, shape):
    return Int8Tensor(
        np.array([round(zp + v / scale) for v in values], np.uint8).reshape(shape),
        scale,
        zp,
    )


def test_caffe2_conv_tflite_vectors():
    x = _setq([1, 1, 1, 1, 2, 2, 2, 2, 1, 2, 3, 4, 1, 2, 3, 4], 0.5, 127, (2, 2, 4, 1))
    w = _setq([1, 2, 3, 4, -1, 1, -1, 1, -1, -1, 1, 1], 0.5, 127, (3, 2, 2, 1))
    b = Int8Tensor(np.array([4, 8, 12], np.int32), 0.25, 0)  # [1, 2, 3] at scale 0.25
    y = run("Int8Conv", x, w, b, kernel=2, stride=2, Y_scale=1.0, Y_zero_point=127)
    assert y.data.ravel().tolist() == [
        145,
        129,
        132,
        145,
        129,
        132,
        144,
        131,
        130,
        164,
        131,
        130,
    ]


def test_caffe2_grouped_1x1_conv():
    xs = [1, 4, 3, 2, 9, 3, 8, 2, 6, 7, 8, 2, 3, 8, 1, 7, 4, 2, 1, 3, 8, 5, 3, 1]
    x = _setq(xs, 0.5, 127, (1, 3, 2, 4))
    w = _setq([1, 2, 3, 4, -1, -2, -3, -4], 0.5, 127, (4, 1, 1, 2))
    b = Int8Tensor(np.array([4, 8, 12, 16], np.int32), 0.25, 0)
    y = run("Int8Conv", x, w, b, kernel=1, group=2, Y_scale=1.0, Y_zero_point=127)
    # the float convolution: output channel m reads input channels 2 * (m // 2) + {0, 1}
    xf = np.array(xs, np.float64).reshape(3, 2, 4)
    wf = np.array([1, 2, 3, 4, -1, -2, -3, -4], np.float64).reshape(4, 2)
    want = np.zeros((3, 2, 4))
    for m in range(4):
        g = m // 2
        want[:, :, m] = (
            xf[:, :, 2 * g] * wf[m, 0] + xf[:, :, 2 * g + 1] * wf[m, 1] + m + 1
        )
    np.testing.assert_allclose(y.dequantize().reshape(3, 2, 4), want, atol=1e-5)


def test_caffe2_conv2_strides():
    xs = [3, 2, 1, -1, -2, -3, 4, 3, 2, -2, -3, -4, 5, 4, 3, -3, -4, -5]
    x = _setq(xs, 0.5, 127, (1, 3, 6, 1))
    w = _setq([1, 2, 3, 4], 0.5, 127, (1, 2, 2, 1))
    b = Int8Tensor(np.array([-4], np.int32), 0.25, 0)
    y = run(
        "Int8Conv",
        x,
        w,
        b,
        kernel=2,
        stride_w=3,
        stride_h=1,
        Y_scale=1.0,
        Y_zero_point=127,
    )
    assert y.data.ravel().tolist() == [157, 103, 167, 93]


def test_caffe2_depthwise_conv():
    xs = [1, 4, 3, 2, 9, 3, 8, 2, 6, 7, 8, 2]
    x = _setq(xs, 0.5, 127, (1, 3, 2, 2))
    ws_ = [1, 2, 3, 4, -9, 10, -11, 12]
    w = _setq(ws_, 0.5, 127, (2, 2, 2, 1))
    b = Int8Tensor(np.array([4, 8], np.int32), 0.25, 0)
    y = run("Int8Conv", x, w, b, kernel=2, group=2, Y_scale=1.0, Y_zero_point=127)
    xf = np.array(xs, np.float64).reshape(3, 2, 2)
    wf = np.array(ws_, np.float64).reshape(2, 2, 2)
    want = np.zeros((2, 1, 2))
    for i in range(2):
        for c in range(2):
            want[i, 0, c] = (xf[i : i + 2, 0:2, c] * wf[c]).sum() + c + 1
    np.testing.assert_allclose(y.dequantize().reshape(2, 1, 2), want, atol=1e-5)
