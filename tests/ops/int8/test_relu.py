from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite.core import CreateOperator
from caffe2lite.errors import EnforceError
from caffe2lite.io.int8 import Int8Tensor
from caffe2lite.workspace import Workspace

from ._naive import check_raises_int8


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(0, 255), max_size=12), st.integers(0, 255))
def test_matches_loop(values, zp):
    ws = Workspace()
    ws.feed_blob("X", Int8Tensor(np.array(values, np.uint8), 0.25, zp))
    ws.run(CreateOperator("Int8Relu", ["X"], ["X"], Y_scale=0.25, Y_zero_point=zp))
    y = ws.fetch_blob("X")
    assert y.data.tolist() == [max(zp, v) for v in values]
    assert (y.scale, y.zero_point) == (0.25, zp)


def test_argument_checks():
    x = Int8Tensor(np.array([1, 2], np.uint8), 0.5, 1)
    check_raises_int8(
        CreateOperator("Int8Relu", ["X"], ["Y"], Y_scale=0.5),
        [x],
        EnforceError,
        r"Y_offset == X.zero_point \(0 vs. 1\)",
    )
    check_raises_int8(
        CreateOperator("Int8Relu", ["X"], ["Y"], Y_zero_point=1),
        [x],
        EnforceError,
        "Y_scale == X.scale",
    )
