from __future__ import annotations

import numpy as np
import pytest

from caffe2lite.core import CreateOperator
from caffe2lite.errors import ArgumentError, EnforceError, ShapeError
from caffe2lite.io.int8 import Int8Tensor
from caffe2lite.workspace import Workspace

from ._naive import check_raises_int8

X = Int8Tensor(np.arange(24, dtype=np.uint8).reshape(2, 3, 4), 0.5, 2)


def run(inputs, names, **args):
    ws = Workspace()
    for k, v in zip(names, inputs):
        ws.feed_blob(k, v)
    ws.run(
        CreateOperator("Int8Slice", names, ["Y"], Y_scale=0.5, Y_zero_point=2, **args)
    )
    return ws.fetch_blob("Y")


def naive(data, dim, start, end):
    size = data.shape[dim]
    start = size + 1 + start if start < 0 else start
    end = size + 1 + end if end < 0 else end
    keep = [i for i in range(size) if start <= i < end]
    return np.take(data, keep, axis=dim)


@pytest.mark.parametrize(
    "dim,start,end", [(0, 1, 2), (1, 0, -1), (2, 1, 3), (2, -3, -1), (1, 1, 1)]
)
def test_forms_agree_with_loop(dim, start, end):
    want = naive(X.data, dim, start, end)
    starts, ends = [0, 0, 0], [-1, -1, -1]
    starts[dim], ends[dim] = start, end
    a = run([X], ["X"], starts=starts, ends=ends)
    b = run([X, np.array(starts, np.int32), np.array(ends, np.int32)], ["X", "s", "e"])
    c = run([X], ["X"], dim=dim, start_idx=start, end_idx=end)
    for y in (a, b, c):
        np.testing.assert_array_equal(y.data, want)
        assert (y.scale, y.zero_point) == (0.5, 2)


def test_errors():
    op = CreateOperator(
        "Int8Slice",
        ["X"],
        ["Y"],
        starts=[0, 1],
        ends=[1, 2],
        Y_scale=0.5,
        Y_zero_point=2,
    )
    check_raises_int8(op, [X], ShapeError, "only possible to slice in 1 dimension")
    op = CreateOperator("Int8Slice", ["X"], ["Y"], Y_scale=0.5, Y_zero_point=2)
    check_raises_int8(op, [X], ArgumentError, 'HasArgument\\("starts"\\)')
    op = CreateOperator("Int8Slice", ["X"], ["Y"], starts=[0], ends=[1])
    check_raises_int8(op, [X], EnforceError, "Y_offset == X.zero_point")


def test_caffe2_case():
    x = Int8Tensor(
        np.random.default_rng(0).integers(0, 256, (1, 25, 25, 16)).astype(np.uint8),
        0.5,
        2,
    )
    y = run([x], ["X"], starts=[0, 3, 0, 0], ends=[-1, 5, -1, -1])
    assert y.data.shape == (1, 2, 25, 16)
    np.testing.assert_array_equal(y.data, x.data[:, 3:5])
