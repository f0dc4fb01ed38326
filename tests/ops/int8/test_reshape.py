from __future__ import annotations

import numpy as np
import pytest

from caffe2lite.core import CreateOperator
from caffe2lite.errors import ArgumentError, EnforceError, ShapeError
from caffe2lite.io.int8 import Int8Tensor
from caffe2lite.workspace import Workspace

from ._naive import check_raises_int8

X = Int8Tensor(np.arange(24, dtype=np.uint8).reshape(2, 3, 4), 0.25, 7)


def run(inputs, names, **args):
    ws = Workspace()
    for k, v in zip(names, inputs):
        ws.feed_blob(k, v)
    ws.run(
        CreateOperator(
            "Int8Reshape", names, ["Y", "old"], Y_scale=0.25, Y_zero_point=7, **args
        )
    )
    return ws.fetch_blob("Y"), ws.fetch_blob("old")


@pytest.mark.parametrize(
    "shape,want",
    [([4, 6], (4, 6)), ([0, -1], (2, 12)), ([-1], (24,)), ([2, 0, 2, 2], (2, 3, 2, 2))],
)
def test_shapes_like_reshape(shape, want):
    y, old = run([X], ["X"], shape=shape)
    assert y.data.shape == want and (y.scale, y.zero_point) == (0.25, 7)
    flat = [int(v) for v in y.data.reshape(-1)]
    assert flat == list(range(24))
    assert old.tolist() == [2, 3, 4] and old.dtype == np.int64


def test_shape_input_int32():
    y, old = run([X, np.array([6, 4], np.int32)], ["X", "s"])
    assert y.data.shape == (6, 4) and old.dtype == np.int32


def test_errors():
    op = CreateOperator(
        "Int8Reshape", ["X"], ["Y", "old"], shape=[5, -1], Y_scale=0.25, Y_zero_point=7
    )
    check_raises_int8(op, [X], ShapeError, "does not agree")
    op = CreateOperator(
        "Int8Reshape", ["X"], ["Y", "old"], Y_scale=0.25, Y_zero_point=7
    )
    check_raises_int8(op, [X], ArgumentError, "Argument `shape` is missing.")
    op = CreateOperator("Int8Reshape", ["X"], ["Y", "old"], shape=[24])
    check_raises_int8(op, [X], EnforceError, "Y_offset == X.zero_point")


def test_caffe2_case():
    x = Int8Tensor(np.zeros((1, 25, 25, 16), np.uint8), 0.3, 11)
    ws = Workspace()
    ws.feed_blob("X", x)
    ws.run(
        CreateOperator(
            "Int8Reshape",
            ["X"],
            ["Y", "old"],
            shape=[0, -1, 2000],
            Y_scale=0.3,
            Y_zero_point=11,
        )
    )
    y = ws.fetch_blob("Y")
    # Scales are compared as the float32 Caffe2 stored (numpy 1.x compares a float32
    # with a Python float in float64).
    assert y.data.shape == (1, 5, 2000) and (np.float32(y.scale), y.zero_point) == (
        np.float32(0.3),
        11,
    )
