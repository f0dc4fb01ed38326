"""ConvRelu against a naive convolution loop followed by max(0, .) element by element
(both orders, groups, strides, pads, dilations, with and without bias), Caffe2's
std::max on NaN and -0, Conv's shape and cost functions, glow's convrelu net, Conv's
errors, and the missing gradient."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import Caffe2LiteError, ShapeError
from caffe2lite.inference import infer_op, op_cost
from caffe2lite.io.protoio import load_net
from caffe2lite.schema.shapes import TensorShape
from caffe2lite.workspace import Workspace

from .test_conv import _to_order, conv_cases, naive_conv

GLOW = Path("/work/shared/realnets/glow_caffe2Models")


def naive_relu(y):
    out = np.empty_like(y)
    for idx in np.ndindex(*y.shape):
        out[idx] = y[idx] if y[idx] > 0 else 0.0
    return out


@settings(max_examples=25, deadline=None)
@given(conv_cases())
def test_matches_conv_then_relu_loops(case):
    _, group, n, c, m, ks, stride, dilation, pads, spatial, order, bias, seed = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c, *spatial)).astype(np.float32)
    w = rng.standard_normal((m, c // group, *ks)).astype(np.float32)
    b = rng.standard_normal(m).astype(np.float32) if bias else None
    want = naive_relu(naive_conv(x, w, b, stride, pads, dilation, group))
    op = CreateOperator("ConvRelu", ["X", "W", "b"] if bias else ["X", "W"], ["Y"], kernels=ks,
                        strides=stride, pads=pads, dilations=dilation, group=group, order=order)
    inputs = [_to_order(x, order), _to_order(w, order)] + ([b] if bias else [])
    testing.check_reference(op, inputs, lambda *_: [_to_order(want, order).astype(np.float32)],
                            atol=1e-4, rtol=1e-4)
    (shape,) = infer_op(op, [TensorShape(a.shape, a.dtype) for a in inputs])
    assert shape.dims == _to_order(want, order).shape and shape.dtype == np.float32


def test_nan_and_negative_zero_become_zero():
    x = np.array([np.nan, -0.0, 1.0, -2.0], np.float32).reshape(1, 1, 2, 2)
    op = CreateOperator("ConvRelu", ["X", "W"], ["Y"], kernel=1)
    (y,) = testing.check_reference(op, [x, np.ones((1, 1, 1, 1), np.float32)],
                                   lambda *_: [np.array([0, 0, 1, 0], np.float32).reshape(x.shape)])
    assert not np.signbit(y).any()


def test_float64_and_cost():
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((1, 2, 4, 4)), rng.standard_normal((3, 2, 3, 3))
    op = CreateOperator("ConvRelu", ["X", "W"], ["Y"], kernel=3)
    testing.check_reference(op, [x, w], lambda *_: [naive_relu(naive_conv(
        x, w, None, [1, 1], [0] * 4, [1, 1], 1))], atol=1e-12)
    cost = op_cost(CreateOperator("ConvRelu", ["X", "W"], ["Y"], kernel=3, pad=1),
                   [TensorShape((1, 64, 56, 56), np.float32), TensorShape((64, 64, 3, 3), np.float32)])
    assert cost.flops == 56 * 56 * 3 * 3 * 64 * 64 * 2


@pytest.mark.skipif(not GLOW.is_dir(), reason="glow's nets are not beside the checkout")
def test_glow_convrelu_net():
    ws = Workspace()
    ws.run_net_once(load_net(str(GLOW / "convrelu_init_net.pbtxt")))
    ws.feed_blob("gpu_0/data_0", np.arange(9, dtype=np.float32).reshape(1, 1, 3, 3))
    ws.run_net_once(load_net(str(GLOW / "convrelu_pred_net.pbtxt")))
    np.testing.assert_array_equal(ws.fetch_blob("conv_out"), np.array(
        [2, 3, 5, 4, 5, 10, 14, 9, 11, 22, 26, 15, 8, 15, 17, 10], np.float32).reshape(1, 1, 4, 4))


def test_conv_errors():
    op = CreateOperator("ConvRelu", ["X", "W"], ["Y"], kernel=2)
    testing.check_raises(op, [np.zeros((1, 3, 4, 4), np.float32), np.zeros((1, 2, 2, 2),
                                                                           np.float32)],
                         ShapeError, re.escape("input channels does not match"))


def test_no_gradient():
    op = CreateOperator("ConvRelu", ["X", "W"], ["Y"], kernel=2)
    with pytest.raises(Caffe2LiteError):
        GradientRegistry.GetBackwardPass([op], {"Y": "Y_grad"})
