from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite.core import CreateOperator
from caffe2lite.errors import Caffe2LiteError, EnforceError, ShapeError
from caffe2lite.io.int8 import Int8Tensor
from caffe2lite.workspace import Workspace

from ._naive import check_raises_int8, f32


def run(x, **args):
    ws = Workspace()
    ws.feed_blob("X", x)
    ws.run(
        CreateOperator(
            "Int8ResizeNearest",
            ["X"],
            ["Y"],
            Y_scale=x.scale,
            Y_zero_point=x.zero_point,
            **args,
        )
    )
    return ws.fetch_blob("Y")


@settings(max_examples=30, deadline=None)
@given(
    st.integers(1, 4),
    st.integers(1, 4),
    st.sampled_from([0.5, 1.0, 1.5, 2.0, 3.0]),
    st.sampled_from([0.5, 1.0, 2.0, 2.5]),
)
def test_matches_loop(h, w, ws_, hs):
    x = Int8Tensor(np.arange(2 * h * w * 2, dtype=np.uint8).reshape(2, h, w, 2), 0.5, 9)
    y = run(x, width_scale=ws_, height_scale=hs)
    oh, ow = int(f32(h * hs)), int(f32(w * ws_))
    assert y.data.shape == (2, oh, ow, 2)
    for n in range(2):
        for i in range(oh):
            for j in range(ow):
                r = min(int(f32(i / f32(hs))), h - 1)
                s = min(int(f32(j / f32(ws_))), w - 1)
                assert y.data[n, i, j].tolist() == x.data[n, r, s].tolist()


def test_errors():
    x = Int8Tensor(np.ones((1, 2, 2, 1), np.uint8), 0.5, 3)
    check_raises_int8(
        CreateOperator("Int8ResizeNearest", ["X"], ["Y"], Y_scale=0.5),
        [x],
        EnforceError,
        "Y_offset == X.zero_point",
    )
    check_raises_int8(
        CreateOperator("Int8ResizeNearest", ["X"], ["Y"], Y_scale=0.5, Y_zero_point=3),
        [Int8Tensor(np.ones((2, 2), np.uint8), 0.5, 3)],
        ShapeError,
        "4 == X.t.dim()",
    )
    with pytest.raises(Caffe2LiteError, match="width_scale_ > 0"):
        Workspace().create_net(_net(width_scale=0.0))


def _net(**args):
    from caffe2lite import core

    net = core.Net("n")
    net.Int8ResizeNearest(["X"], ["Y"], **args)
    return net.Proto()


def test_output_size_sets_integer_scales():
    x = Int8Tensor(np.arange(6, dtype=np.uint8).reshape(1, 2, 3, 1), 0.5, 9)
    y = run(x, output_size=[5, 7])  # scales 5 // 2 = 2 and 7 // 3 = 2
    assert y.data.shape == (1, 4, 6, 1)
    np.testing.assert_array_equal(
        y.data[0, :, :, 0],
        np.repeat(np.repeat(x.data[0, :, :, 0], 2, axis=0), 2, axis=1),
    )
