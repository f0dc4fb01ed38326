from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite.core import CreateOperator
from caffe2lite.errors import Caffe2LiteError, EnforceError, ShapeError
from caffe2lite.io.int8 import Int8Tensor
from caffe2lite.workspace import Workspace

from ._naive import check_raises_int8, qnnp_one


def run(x, w, b, **args):
    ws = Workspace()
    for k, v in zip(["X", "W", "b"], (x, w, b)):
        ws.feed_blob(k, v)
    ws.run(
        CreateOperator(
            "Int8ConvTranspose", ["X", "W", "b"], ["Y"], order="NHWC", **args
        )
    )
    return ws.fetch_blob("Y")


def naive(x, w, b, k, stride, pad, adj, y_scale, y_zp):
    n, h, wd, ic = x.data.shape
    oc = w.data.shape[3]
    oh = (h - 1) * stride + k + adj - 2 * pad
    ow = (wd - 1) * stride + k + adj - 2 * pad
    acc = np.zeros((n, oh, ow, oc), dtype=object)
    acc[...] = 0
    for b_ in range(n):
        for iy in range(h):
            for ix in range(wd):
                for ky in range(k):
                    for kx in range(k):
                        oy, ox = iy * stride + ky - pad, ix * stride + kx - pad
                        if not (0 <= oy < oh and 0 <= ox < ow):
                            continue
                        for c in range(ic):
                            xv = int(x.data[b_, iy, ix, c]) - x.zero_point
                            for m in range(oc):
                                acc[b_, oy, ox, m] += xv * (
                                    int(w.data[c, ky, kx, m]) - w.zero_point
                                )
    scale = float(
        np.float32(np.float32(x.scale) * np.float32(w.scale)) / np.float32(y_scale)
    )
    out = np.zeros((n, oh, ow, oc), np.uint8)
    for idx in np.ndindex(*out.shape):
        out[idx] = qnnp_one(acc[idx] + int(b.data[idx[3]]), scale, y_zp)
    return out


@settings(max_examples=15, deadline=None)
@given(
    st.integers(0, 2**32 - 1),
    st.sampled_from([1, 2, 3]),
    st.sampled_from([1, 2]),
    st.sampled_from([0, 1]),
    st.sampled_from([0, 1]),
)
def test_matches_naive(seed, k, stride, pad, adj):
    if adj > stride - 1 or pad >= k:
        adj, pad = 0, 0
    rng = np.random.default_rng(seed)
    x = Int8Tensor(
        rng.integers(0, 256, (2, 3, 2, 2)).astype(np.uint8),
        0.05,
        int(rng.integers(0, 256)),
    )
    w = Int8Tensor(
        rng.integers(0, 256, (2, k, k, 3)).astype(np.uint8),
        0.02,
        int(rng.integers(0, 256)),
    )
    b = Int8Tensor(rng.integers(-300, 300, 3).astype(np.int32), 0.001, 0)
    y = run(
        x,
        w,
        b,
        kernel=k,
        stride=stride,
        pad=pad,
        adj=adj,
        Y_scale=0.3,
        Y_zero_point=100,
    )
    np.testing.assert_array_equal(y.data, naive(x, w, b, k, stride, pad, adj, 0.3, 100))


def test_caffe2_case_against_float():
    xs = [3, 2, 1, -1, -2, -3, 4, 3, 2, -2, -3, -4, 5, 4, 3, -3, -4, -5]
    x = Int8Tensor(
        np.array([127 + 2 * v for v in xs], np.uint8).reshape(1, 3, 6, 1), 0.5, 127
    )
    w = Int8Tensor(
        np.array([127 + 2 * v for v in (1, 2, 3, 4)], np.uint8).reshape(1, 2, 2, 1),
        0.5,
        127,
    )
    b = Int8Tensor(np.array([-4], np.int32), 0.25, 0)
    y = run(x, w, b, kernel=2, stride_w=1, stride_h=2, Y_scale=1.0, Y_zero_point=127)
    xf = np.array(xs, np.float64).reshape(3, 6)
    want = np.full((6, 7), -1.0)
    for iy in range(3):
        for ix in range(6):
            want[2 * iy : 2 * iy + 2, ix : ix + 2] += xf[iy, ix] * np.array(
                [[1, 2], [3, 4]]
            )
    np.testing.assert_allclose(y.dequantize().reshape(6, 7), want, atol=1e-5)


def test_errors():
    x = Int8Tensor(np.ones((1, 2, 2, 2), np.uint8), 1.0, 0)
    w = Int8Tensor(np.ones((3, 2, 2, 1), np.uint8), 0.1, 0)
    b = Int8Tensor(np.zeros(1, np.int32), 1.0, 0)
    op = CreateOperator(
        "Int8ConvTranspose", ["X", "W", "b"], ["Y"], order="NHWC", kernel=2
    )
    check_raises_int8(op, [x, w, b], EnforceError, r"IC == W.t.size\(0\) \(2 vs. 3\)")
    w2 = Int8Tensor(np.ones((2, 2, 2, 1), np.uint8), 4.0, 0)
    check_raises_int8(
        op, [x, w2, b], EnforceError, "failed to create QNNPACK convolution"
    )
    w3 = Int8Tensor(np.ones((2, 2, 2, 1), np.uint8), 0.1, 0)
    check_raises_int8(
        op,
        [x, w3, Int8Tensor(np.zeros(2, np.int32), 1.0, 0)],
        ShapeError,
        "bias must have 1 values",
    )
    with pytest.raises(
        Caffe2LiteError, match="Int8ConvTransposeOp only supports NHWC order"
    ):
        ws = Workspace()
        for k, v in zip(["X", "W", "b"], (x, w3, b)):
            ws.feed_blob(k, v)
        ws.run(CreateOperator("Int8ConvTranspose", ["X", "W", "b"], ["Y"], kernel=2))
