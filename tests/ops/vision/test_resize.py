"""ResizeNearest / UpsampleBilinear and their gradients against per-pixel loops
written from Caffe2's formulas; glow's resize_nearest case; numeric gradients."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import ShapeError


def naive_nearest(x, hs, ws, order="NCHW"):
    xc = x if order == "NCHW" else x.transpose(0, 3, 1, 2)
    n, c, h, w = xc.shape
    oh, ow = int(np.float32(h) * np.float32(hs)), int(np.float32(w) * np.float32(ws))
    y = np.zeros((n, c, oh, ow), x.dtype)
    for i, j in itertools.product(range(oh), range(ow)):
        y[:, :, i, j] = xc[:, :, min(int(np.float32(i) / np.float32(hs)), h - 1),
                           min(int(np.float32(j) / np.float32(ws)), w - 1)]
    return y if order == "NCHW" else y.transpose(0, 2, 3, 1)


def naive_bilinear(x, hs, ws):
    n, c, h, w = x.shape
    oh, ow = int(np.float32(h) * np.float32(hs)), int(np.float32(w) * np.float32(ws))
    rh = np.float32((h - 1) / (oh - 1)) if oh > 1 else np.float32(0)
    rw = np.float32((w - 1) / (ow - 1)) if ow > 1 else np.float32(0)
    y = np.zeros((n, c, oh, ow))
    for i, j in itertools.product(range(oh), range(ow)):
        pi, pj = rh * np.float32(i), rw * np.float32(j)
        i0, j0 = int(pi), int(pj)
        i1, j1 = i0 + (i0 < h - 1), j0 + (j0 < w - 1)
        a, b = pi - i0, pj - j0
        y[:, :, i, j] = ((1 - a) * ((1 - b) * x[:, :, i0, j0] + b * x[:, :, i0, j1])
                         + a * ((1 - b) * x[:, :, i1, j0] + b * x[:, :, i1, j1]))
    return y


@pytest.mark.parametrize("order", ["NCHW", "NHWC"])
@pytest.mark.parametrize("hs,ws", [(2.0, 2.0), (2.0, 1.5), (0.5, 3.0), (1.7, 0.6)])
def test_nearest_matches_the_loop(order, hs, ws):
    x = np.random.default_rng(0).standard_normal((2, 3, 5, 4)).astype(np.float32)
    if order == "NHWC":
        x = np.ascontiguousarray(x.transpose(0, 2, 3, 1))
    op = CreateOperator("ResizeNearest", ["X"], ["Y"], height_scale=hs, width_scale=ws, order=order)
    testing.check_reference(op, [x], lambda x: [naive_nearest(x, hs, ws, order)])
    scales = np.array([hs, ws], np.float32)
    testing.check_reference(CreateOperator("ResizeNearest", ["X", "S"], ["Y"], order=order),
                            [x, scales], lambda x, s: [naive_nearest(x, hs, ws, order)])


def test_glow_resize_nearest_shape():
    x = np.arange(4, dtype=np.float32).reshape(1, 2, 2, 1)
    (y,) = testing.check_reference(
        CreateOperator("ResizeNearest", ["X"], ["Y"], order="NHWC", height_scale=2.0, width_scale=1.5),
        [x], lambda x: [naive_nearest(x, 2.0, 1.5, "NHWC")])
    assert y.shape == (1, 4, 3, 1)


@pytest.mark.parametrize("hs,ws", [(2.0, 2.0), (1.5, 2.5), (1.0, 1.0), (0.5, 2.0)])
def test_bilinear_matches_the_loop(hs, ws):
    x = np.random.default_rng(1).standard_normal((1, 2, 4, 3)).astype(np.float32)
    op = CreateOperator("UpsampleBilinear", ["X"], ["Y"], height_scale=hs, width_scale=ws)
    testing.check_reference(op, [x], lambda x: [naive_bilinear(x, hs, ws).astype(np.float32)], atol=1e-5)


@pytest.mark.parametrize("op_type", ["ResizeNearest", "UpsampleBilinear"])
def test_gradients(op_type):
    x = np.random.default_rng(2).standard_normal((1, 2, 3, 3))
    op = CreateOperator(op_type, ["X"], ["Y"], height_scale=2.0, width_scale=1.5)
    testing.check_gradient(op, [x], [0])
    grads, _ = GradientRegistry.GetBackwardPass([op], {"Y": "Y_grad"})
    assert [(g.type, list(g.input), list(g.output)) for g in grads] == [
        (op_type + "Gradient", ["Y_grad", "X"], ["X_grad"])]
    op2 = CreateOperator(op_type, ["X", "S"], ["Y"])
    grads, _ = GradientRegistry.GetBackwardPass([op2], {"Y": "Y_grad"})
    assert list(grads[0].input) == ["Y_grad", "X", "S"]


def test_errors():
    x = np.zeros((1, 2, 3), np.float32)
    testing.check_raises(CreateOperator("ResizeNearest", ["X"], ["Y"]), [x], ShapeError, r"X.dim\(\) == 4")
    testing.check_raises(CreateOperator("ResizeNearest", ["X", "S"], ["Y"]),
                         [np.zeros((1, 1, 2, 2), np.float32), np.ones(3, np.float32)], ShapeError,
                         r"scales.numel\(\) == 2. 3 vs 2")
