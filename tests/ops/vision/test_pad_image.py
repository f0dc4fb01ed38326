"""PadImage and PadImageGradient against numpy.pad (constant, reflect, edge; NCHW and
NHWC), a numeric gradient, shape inference and errors."""

from __future__ import annotations

import numpy as np
import pytest

from caffe2lite.core import CreateOperator
from caffe2lite.errors import ArgumentError, EnforceError
from caffe2lite.inference import infer_op
from caffe2lite.schema.shapes import TensorShape
from caffe2lite.testing import check_gradient, check_raises
from caffe2lite.workspace import Workspace

NUMPY_MODE = {"constant": "constant", "reflect": "reflect", "edge": "edge"}


def run(x, **args):
    ws = Workspace()
    ws.feed_blob("X", x)
    ws.run_operator_once(CreateOperator("PadImage", ["X"], ["Y"], **args))
    return ws.fetch_blob("Y")


@pytest.mark.parametrize("mode", ["constant", "reflect", "edge"])
@pytest.mark.parametrize("order", ["NCHW", "NHWC"])
@pytest.mark.parametrize("pads", [(1, 2, 0, 1), (2, 2, 2, 2), (0, 0, 0, 0)])
def test_matches_numpy_pad(mode, order, pads):
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 5)).astype(np.float32)
    t, l, b, r = pads
    extra = {"value": 2.5} if mode == "constant" else {}
    y = run(x if order == "NCHW" else x.transpose(0, 2, 3, 1), pad_t=t, pad_l=l, pad_b=b,
            pad_r=r, mode=mode, order=order, **extra)
    want = np.pad(x, ((0, 0), (0, 0), (t, b), (l, r)), NUMPY_MODE[mode],
                  **({"constant_values": 2.5} if mode == "constant" else {}))
    if order == "NHWC":
        want = want.transpose(0, 2, 3, 1)
    np.testing.assert_array_equal(y, want)


@pytest.mark.parametrize("mode", ["constant", "reflect", "edge"])
def test_gradient(mode):
    x = np.random.default_rng(1).standard_normal((1, 2, 4, 3)).astype(np.float32)
    op = CreateOperator("PadImage", ["X"], ["Y"], pad_t=1, pad_l=2, pad_b=2, pad_r=1,
                        mode=mode)
    check_gradient(op, [x], 0)


def test_shape_inference_and_errors():
    f = np.dtype(np.float32)
    op = CreateOperator("PadImage", ["X"], ["Y"], pad=2)
    assert infer_op(op, [TensorShape(("N", 3, 4, 5), f)]) == [TensorShape(("N", 3, 8, 9), f)]
    x = np.ones((1, 1, 2, 2), np.float32)
    check_raises(CreateOperator("PadImage", ["X"], ["Y"], pad=1, stride=2), [x],
                 ArgumentError, "does not support stride")
    check_raises(CreateOperator("PadImage", ["X"], ["Y"], pad=2, mode="reflect"), [x],
                 EnforceError, "reflect padding 2 along the height")
    check_raises(CreateOperator("PadImage", ["X"], ["Y"], pad=1, mode="wrap"), [x],
                 Exception, "Unknown padding mode")
    check_raises(CreateOperator("PadImage", ["X"], ["Y"], pad=1),
                 [np.ones((2, 2), np.float32)], EnforceError, r"X.dim\(\) == 4")
