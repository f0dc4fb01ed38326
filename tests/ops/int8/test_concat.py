from __future__ import annotations

import numpy as np
import pytest

from caffe2lite.core import CreateOperator
from caffe2lite.errors import ArgumentError, EnforceError, ShapeError
from caffe2lite.io.int8 import Int8Tensor
from caffe2lite.workspace import Workspace

from ._naive import check_raises_int8


def q(shape, start):
    n = int(np.prod(shape))
    return Int8Tensor((np.arange(n) + start).astype(np.uint8).reshape(shape), 0.5, 4)


def run(xs, outs=("Y",), **args):
    ws = Workspace()
    names = [f"x{i}" for i in range(len(xs))]
    for k, v in zip(names, xs):
        ws.feed_blob(k, v)
    ws.run(
        CreateOperator(
            "Int8Concat", names, list(outs), Y_scale=0.5, Y_zero_point=4, **args
        )
    )
    return [ws.fetch_blob(o) for o in outs]


def naive(xs, axis):
    """Row-major walk: for each prefix index, each input's slab in turn."""
    before = int(np.prod(xs[0].data.shape[:axis]))
    out = []
    for b in range(before):
        for x in xs:
            slab = int(np.prod(x.data.shape[axis:]))
            out += x.data.reshape(-1)[b * slab : (b + 1) * slab].tolist()
    return out


@pytest.mark.parametrize(
    "order,axis,shapes",
    [
        ("NHWC", None, [(1, 2, 2, 3), (1, 2, 2, 1)]),
        ("NCHW", None, [(1, 3, 2, 2), (1, 1, 2, 2), (1, 2, 2, 2)]),
        ("", None, [(2, 3), (1, 3)]),
        ("", 1, [(2, 3), (2, 1)]),
    ],
)
def test_matches_naive(order, axis, shapes):
    xs = [q(s, 10 * i) for i, s in enumerate(shapes)]
    ax = axis if axis is not None else {"NHWC": 3, "NCHW": 1}.get(order, 0)
    args = {"order": order} if order else {}
    if axis is not None:
        args["axis"] = axis
    y, info = run(xs, ("Y", "info"), **args)
    assert y.data.reshape(-1).tolist() == naive(xs, ax)
    assert info.tolist() == [s[ax] for s in shapes] and (y.scale, y.zero_point) == (
        0.5,
        4,
    )


def test_errors():
    a, b = q((2, 3), 0), q((2, 4), 0)
    op = CreateOperator("Int8Concat", ["a", "b"], ["Y"], Y_scale=0.5, Y_zero_point=4)
    check_raises_int8(
        op, [a, b], ShapeError, r"Xi.t.size\(j\) == Y_dims\[j\] \(4 vs. 3\)"
    )
    op = CreateOperator(
        "Int8Concat", ["a", "b"], ["Y"], Y_scale=0.5, Y_zero_point=4, add_axis=1
    )
    check_raises_int8(op, [a, a], ArgumentError, "add_axis")
    op = CreateOperator("Int8Concat", ["a", "b"], ["Y"], Y_scale=0.5)
    check_raises_int8(op, [a, a], EnforceError, "Y_offset == X.zero_point")
    op = CreateOperator(
        "Int8Concat", ["a", "b"], ["Y"], Y_scale=0.5, Y_zero_point=4, order="NHWC"
    )
    check_raises_int8(op, [a, a], ShapeError, r"Y_dims.size\(\) == 4")
