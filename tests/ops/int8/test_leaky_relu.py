from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite.core import CreateOperator
from caffe2lite.errors import Caffe2LiteError, EnforceError
from caffe2lite.io.int8 import Int8Tensor
from caffe2lite.workspace import Workspace

from ._naive import check_raises_int8, f32


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.integers(0, 255), max_size=12),
    st.integers(0, 255),
    st.integers(0, 255),
    st.sampled_from([0.01, 0.1, 0.25, 0.5, 0.9]),
    st.sampled_from([0.3, 0.1, 1.0]),
)
def test_matches_loop(values, zp, y_zp, alpha, y_scale):
    ws = Workspace()
    ws.feed_blob("X", Int8Tensor(np.array(values, np.uint8), 0.3, zp))
    ws.run(
        CreateOperator(
            "Int8LeakyRelu",
            ["X"],
            ["X"],
            alpha=alpha,
            Y_scale=y_scale,
            Y_zero_point=y_zp,
        )
    )
    y = ws.fetch_blob("X")
    ratio = f32(f32(0.3) / f32(y_scale))
    want = []
    for v in values:
        x = f32(ratio * f32(v - zp))
        t = f32(x * f32(alpha)) if x < 0 else x
        t = min(max(t, -y_zp), 255 - y_zp)
        want.append(round(t) + y_zp)
    assert y.data.tolist() == want
    assert (y.scale, y.zero_point) == (np.float32(y_scale), y_zp)
    # close to the real leaky relu
    real = [
        ((v - zp) * 0.3 * (alpha if v < zp else 1)) / y_scale + y_zp for v in values
    ]
    assert np.abs(np.array(want) - np.clip(real, 0, 255)).max(initial=0) <= 0.5 + 1e-3


def test_errors():
    x = Int8Tensor(np.array([1], np.uint8), 0.3, 2)
    check_raises_int8(
        CreateOperator("Int8LeakyRelu", ["X"], ["Y"], Y_scale=1000.0),
        [x],
        EnforceError,
        "failed to create QNNPACK Leaky ReLU operator",
    )
    with pytest.raises(Caffe2LiteError, match=r"alpha must lie in \(0, 1\)"):
        ws = Workspace()
        ws.feed_blob("X", x)
        ws.run(CreateOperator("Int8LeakyRelu", ["X"], ["Y"], alpha=1.5))
