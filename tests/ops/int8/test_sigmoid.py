from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite.core import CreateOperator
from caffe2lite.errors import EnforceError
from caffe2lite.io.int8 import Int8Tensor
from caffe2lite.workspace import Workspace

from ._naive import check_raises_int8, f32

OP = CreateOperator("Int8Sigmoid", ["X"], ["Y"], Y_scale=1 / 256)


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.integers(0, 255), max_size=16),
    st.sampled_from([0.01, 0.05, 0.3, 2.0]),
    st.integers(0, 255),
)
def test_matches_scalar_loop(values, scale, zp):
    ws = Workspace()
    ws.feed_blob("X", Int8Tensor(np.array(values, np.uint8), scale, zp))
    ws.run(OP)
    y = ws.fetch_blob("Y")
    want = []
    for v in values:
        x = f32(f32(scale) * f32(v - zp))
        s = 256.0 / (1.0 + math.exp(-x))
        want.append(round(min(max(s, 0.0), 255.0)))
    # float32 exp may round the last bit differently from the double reference
    assert np.abs(y.data.astype(int) - np.array(want, int)).max(initial=0) <= 1
    assert (y.scale, y.zero_point) == (np.float32(1 / 256), 0)


def test_exact_table_points():
    ws = Workspace()
    ws.feed_blob("X", Int8Tensor(np.array([[0, 128], [129, 255]], np.uint8), 0.1, 128))
    ws.run(OP)
    assert ws.fetch_blob("Y").data.tolist() == [[0, 128], [134, 255]]


def test_argument_checks():
    x = Int8Tensor(np.array([1], np.uint8), 0.1, 0)
    check_raises_int8(
        CreateOperator("Int8Sigmoid", ["X"], ["Y"]),
        [x],
        EnforceError,
        r"Y_scale == 1.0f / 256.0f",
    )
    check_raises_int8(
        CreateOperator("Int8Sigmoid", ["X"], ["Y"], Y_scale=1 / 256, Y_zero_point=3),
        [x],
        EnforceError,
        "Y_zero_point == 0",
    )
