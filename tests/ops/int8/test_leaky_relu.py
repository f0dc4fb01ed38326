from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite.core import CreateOperator
from caffe2lite.errors import Caffe2LiteError, EnforceError
from caffe2lite.io.int8 import Int8Tensor
from caffe2lite.workspace import Workspace

from ._naive import check_raises_int8, f32, qmul, rdbpot, srdhm


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.integers(0, 255), max_size=12),
    st.integers(0, 255),
    st.sampled_from([0.01, 0.1, 0.25, 0.5, 0.9]),
)
def test_matches_loop(values, zp, alpha):
    ws = Workspace()
    ws.feed_blob("X", Int8Tensor(np.array(values, np.uint8), 0.3, zp))
    ws.run(
        CreateOperator(
            "Int8LeakyRelu", ["X"], ["X"], alpha=alpha, Y_scale=0.3, Y_zero_point=zp
        )
    )
    m, s = qmul(f32(alpha))
    want = [v if v >= zp else rdbpot(srdhm(v - zp, m), s) + zp for v in values]
    y = ws.fetch_blob("X")
    assert y.data.tolist() == want
    # close to the real leaky relu
    real = [zp + (v - zp) * alpha if v < zp else v for v in values]
    assert np.abs(np.array(want) - np.array(real)).max(initial=0) <= 1


def test_errors():
    x = Int8Tensor(np.array([1], np.uint8), 0.3, 2)
    check_raises_int8(
        CreateOperator("Int8LeakyRelu", ["X"], ["Y"], Y_scale=0.3),
        [x],
        EnforceError,
        "Y_offset == X.zero_point",
    )
    with pytest.raises(Caffe2LiteError, match=r"alpha must lie in \(0, 1\)"):
        ws = Workspace()
        ws.feed_blob("X", x)
        ws.run(CreateOperator("Int8LeakyRelu", ["X"], ["Y"], alpha=1.5))
