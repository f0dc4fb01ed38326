from __future__ import annotations

import numpy as np
import pytest

from caffe2lite.core import CreateOperator
from caffe2lite.errors import EnforceError, ShapeError
from caffe2lite.io.int8 import Int8Tensor
from caffe2lite.workspace import Workspace

from ._naive import check_raises_int8

X = Int8Tensor(np.arange(24, dtype=np.uint8).reshape(2, 3, 4), 2.0, 1)


@pytest.mark.parametrize(
    "axis,want", [(0, (1, 24)), (1, (2, 12)), (2, (6, 4)), (3, (24, 1))]
)
def test_axes(axis, want):
    ws = Workspace()
    ws.feed_blob("X", X)
    ws.run(
        CreateOperator(
            "Int8Flatten", ["X"], ["Y"], axis=axis, Y_scale=2.0, Y_zero_point=1
        )
    )
    y = ws.fetch_blob("Y")
    rows, cols = want
    expected = [[r * cols + c for c in range(cols)] for r in range(rows)]
    assert y.data.tolist() == expected and (y.scale, y.zero_point) == (2.0, 1)


def test_errors():
    op = CreateOperator(
        "Int8Flatten", ["X"], ["Y"], axis=4, Y_scale=2.0, Y_zero_point=1
    )
    check_raises_int8(op, [X], ShapeError, "The rank of the tensor must be >= axis.")
    op = CreateOperator("Int8Flatten", ["X"], ["Y"], Y_scale=1.0, Y_zero_point=1)
    check_raises_int8(op, [X], EnforceError, "Y_scale == X.scale")


def test_caffe2_case():
    ws = Workspace()
    ws.feed_blob("X", Int8Tensor(np.zeros((1, 25, 25, 16), np.uint8), 0.3, 11))
    ws.run(
        CreateOperator(
            "Int8Flatten", ["X"], ["Y"], axis=2, Y_scale=0.3, Y_zero_point=11
        )
    )
    assert ws.fetch_blob("Y").data.shape == (25, 400)
