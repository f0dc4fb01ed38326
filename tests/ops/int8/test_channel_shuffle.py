from __future__ import annotations

import numpy as np
import pytest

from caffe2lite.core import CreateOperator
from caffe2lite.errors import Caffe2LiteError, EnforceError
from caffe2lite.io.int8 import Int8Tensor
from caffe2lite.workspace import Workspace

from ._naive import check_raises_int8


@pytest.mark.parametrize("group,channels", [(1, 4), (2, 6), (3, 6), (4, 8)])
def test_matches_loop(group, channels):
    x = Int8Tensor(
        np.arange(2 * 3 * channels, dtype=np.uint8).reshape(1, 2, 3, channels), 0.5, 1
    )
    ws = Workspace()
    ws.feed_blob("X", x)
    ws.run(
        CreateOperator(
            "Int8ChannelShuffle",
            ["X"],
            ["Y"],
            group=group,
            order="NHWC",
            Y_scale=0.5,
            Y_zero_point=1,
        )
    )
    y = ws.fetch_blob("Y")
    k = channels // group
    for idx in np.ndindex(1, 2, 3):
        for g in range(group):
            for j in range(k):
                assert y.data[idx + (j * group + g,)] == x.data[idx + (g * k + j,)]


def test_errors():
    x = Int8Tensor(np.zeros((1, 1, 1, 5), np.uint8), 0.5, 1)
    op = CreateOperator(
        "Int8ChannelShuffle",
        ["X"],
        ["Y"],
        group=2,
        order="NHWC",
        Y_scale=0.5,
        Y_zero_point=1,
    )
    check_raises_int8(op, [x], EnforceError, "C % G == 0")
    with pytest.raises(
        Caffe2LiteError, match="Int8ChannelShuffleOp only supports NHWC order"
    ):
        ws = Workspace()
        ws.feed_blob("X", x)
        ws.run(
            CreateOperator(
                "Int8ChannelShuffle", ["X"], ["Y"], group=5, Y_scale=0.5, Y_zero_point=1
            )
        )
