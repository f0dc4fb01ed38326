from __future__ import annotations

import numpy as np
import pytest

from caffe2lite.core import CreateOperator
from caffe2lite.errors import EnforceError
from caffe2lite.io.int8 import Int8Tensor
from caffe2lite.workspace import Workspace

from ._naive import check_raises_int8

X = Int8Tensor(np.arange(24, dtype=np.uint8).reshape(2, 3, 4), 0.5, 9)


@pytest.mark.parametrize("axes", [[], [0, 2, 1], [2, 0, 1], [1, 0, 2]])
def test_matches_loop(axes):
    ws = Workspace()
    ws.feed_blob("X", X)
    ws.run(
        CreateOperator(
            "Int8Transpose", ["X"], ["Y"], axes=axes, Y_scale=0.5, Y_zero_point=9
        )
    )
    y = ws.fetch_blob("Y")
    perm = axes or [2, 1, 0]
    assert y.data.shape == tuple(X.data.shape[a] for a in perm)
    for idx in np.ndindex(*X.data.shape):
        assert y.data[tuple(idx[a] for a in perm)] == X.data[idx]
    assert (y.scale, y.zero_point) == (0.5, 9)


def test_errors():
    check_raises_int8(
        CreateOperator("Int8Transpose", ["X"], ["Y"], Y_scale=0.5),
        [X],
        EnforceError,
        "Y_zero_point == X.zero_point. 0 vs 9",
    )
    check_raises_int8(
        CreateOperator("Int8Transpose", ["X"], ["Y"], Y_zero_point=9),
        [X],
        EnforceError,
        "Y_scale == X.scale",
    )
