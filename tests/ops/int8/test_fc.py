from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite.core import CreateOperator
from caffe2lite.errors import DTypeError, EnforceError
from caffe2lite.io.int8 import Int8Tensor
from caffe2lite.workspace import Workspace

from ._naive import check_raises_int8, qnnp_one

OP = CreateOperator("Int8FC", ["X", "W", "b"], ["Y"], Y_scale=2.0, Y_zero_point=3)


def run(x, w, b, **args):
    ws = Workspace()
    for n, v in zip("XWb", (x, w, b)):
        ws.feed_blob(n, v)
    ws.run(CreateOperator("Int8FC", ["X", "W", "b"], ["Y"], **args))
    return ws.fetch_blob("Y")


def naive(x, w, b, y_scale, y_zp):
    m, n = x.data.shape[0], w.data.shape[0]
    xf = x.data.reshape(m, -1)
    scale = np.float32(np.float32(x.scale) * np.float32(w.scale)) / np.float32(y_scale)
    out = []
    for i in range(m):
        row = []
        for j in range(n):
            acc = int(b.data[j])
            for k in range(xf.shape[1]):
                acc += (int(xf[i, k]) - x.zero_point) * (
                    int(w.data[j, k]) - w.zero_point
                )
            row.append(qnnp_one(acc, float(scale), y_zp))
        out.append(row)
    return out


@settings(max_examples=25, deadline=None)
@given(
    st.integers(1, 3),
    st.integers(1, 6),
    st.integers(1, 4),
    st.integers(0, 2**32 - 1),
    st.sampled_from([(0.5, 0.02, 1.0), (1.0, 1.0, 300.0), (0.1, 0.3, 0.07)]),
)
def test_matches_naive(m, k, n, seed, scales):
    rng = np.random.default_rng(seed)
    x = Int8Tensor(
        rng.integers(0, 256, (m, k)).astype(np.uint8),
        scales[0],
        int(rng.integers(0, 256)),
    )
    w = Int8Tensor(
        rng.integers(0, 256, (n, k)).astype(np.uint8),
        scales[1],
        int(rng.integers(0, 256)),
    )
    b = Int8Tensor(rng.integers(-5000, 5000, n).astype(np.int32), 1.0, 0)
    y = run(x, w, b, Y_scale=scales[2], Y_zero_point=7)
    assert y.data.dtype == np.uint8 and (y.scale, y.zero_point) == (
        np.float32(scales[2]),
        7,
    )
    assert y.data.tolist() == naive(x, w, b, scales[2], 7)


def test_x_is_flattened_after_the_first_dim_ignoring_axis():
    x = Int8Tensor(np.arange(12, dtype=np.uint8).reshape(2, 2, 3), 1.0, 0)
    w = Int8Tensor(np.ones((2, 6), np.uint8), 0.5, 0)
    b = Int8Tensor(np.zeros(2, np.int32), 1.0, 0)
    with pytest.warns(UserWarning, match="argument 'axis' is not declared by Int8FC"):
        y = run(x, w, b, Y_scale=1.0, axis=2)
    assert y.data.shape == (2, 2)


def test_rounding_is_qnnpacks_double_rounding():
    # 5 * 0.25 = 1.25, but QNNPACK rounds 5 * 0.5 = 2.5 to 3 first, then 3 / 2 to 2
    x = Int8Tensor(np.array([[5]], np.uint8), 0.5, 0)
    w = Int8Tensor(np.array([[1]], np.uint8), 1.0, 0)
    b = Int8Tensor(np.zeros(1, np.int32), 1.0, 0)
    assert run(x, w, b, Y_scale=2.0).data.tolist() == [[2]]


def _inputs(k_w=3, n_b=2, w_scale=0.5):
    return [
        Int8Tensor(np.ones((2, 3), np.uint8), 1.0, 0),
        Int8Tensor(np.ones((2, k_w), np.uint8), w_scale, 0),
        Int8Tensor(np.zeros(n_b, np.int32), 1.0, 0),
    ]


def test_errors():
    check_raises_int8(
        OP, _inputs(k_w=4), EnforceError, r"K == W.t.size\(1\) \(3 vs. 4\)"
    )
    check_raises_int8(
        OP, _inputs(n_b=3), EnforceError, r"N == B.t.numel\(\) \(2 vs. 3\)"
    )
    check_raises_int8(
        OP,
        _inputs(w_scale=4.0),
        EnforceError,
        "failed to create QNNPACK fully connected operator",
    )
    bad = _inputs()
    bad[0] = np.ones((2, 3), np.float32)
    check_raises_int8(
        OP,
        bad,
        DTypeError,
        "Blob contains caffe2::Tensor while caller expects caffe2::int8::Int8TensorCPU",
    )
    bad = _inputs()
    bad[2] = Int8Tensor(np.zeros(2, np.uint8), 1.0, 0)
    check_raises_int8(OP, bad, DTypeError, "caller expects elements to be int32")


@pytest.mark.parametrize("m", [0])
def test_empty_batch(m):
    x = Int8Tensor(np.zeros((m, 3), np.uint8), 1.0, 0)
    y = run(x, *_inputs()[1:], Y_scale=1.0)
    assert y.data.shape == (0, 2)


def test_caffe2_fc_vectors():
    def setq(values, shape):
        return Int8Tensor(
            np.array([round(127 + v / 0.5) for v in values], np.uint8).reshape(shape),
            0.5,
            127,
        )

    x = setq(
        [1, 2, 3, 4, 5, 6, 7, 8, -9, -10, 1, 2, 3, 4, 5, 6, 7, -8, 9, -10], (2, 10)
    )
    w = setq(list(range(1, 11)) * 3, (3, 10))
    b = Int8Tensor(np.array([4, 8, 12], np.int32), 0.25, 0)
    y = run(x, w, b, Y_scale=1.0, Y_zero_point=127)
    assert y.data.ravel().tolist() == [151, 152, 153, 185, 186, 187]
