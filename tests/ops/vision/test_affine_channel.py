"""AffineChannel / AffineChannelGradient against per-element loops in both orders and
ranks (Caffe2's affine_channel_op_test: 2-D and 3-D images, learnable or not, in
place), the gradient op in both modes, numeric gradients, both gradient makers,
errors."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import (
    ArgumentError,
    DTypeError,
    EnforceError,
    SchemaError,
    ShapeError,
)
from caffe2lite.inference import infer_op
from caffe2lite.schema.shapes import TensorShape
from caffe2lite.workspace import Workspace


def _channel(idx, order):
    return idx[1] if order == "NCHW" else idx[-1]


def naive_affine(x, scale, bias, order):
    y = np.empty_like(x)
    for idx in np.ndindex(*x.shape):
        c = _channel(idx, order)
        y[idx] = x[idx] * scale[c] + bias[c]
    return [y]


def naive_affine_gradient(dy, x, scale, order):
    dx = np.empty_like(dy)
    dscale, dbias = np.zeros_like(scale), np.zeros_like(scale)
    for idx in np.ndindex(*dy.shape):
        c = _channel(idx, order)
        dx[idx] = dy[idx] * scale[c]
        dscale[c] += dy[idx] * x[idx]
        dbias[c] += dy[idx]
    return [dx, dscale, dbias]


def _image(rng, n, c, spatial, order):
    return rng.standard_normal((n, c, *spatial) if order == "NCHW" else (n, *spatial, c))


@settings(max_examples=15, deadline=None)
@given(n=st.integers(1, 3), c=st.integers(1, 4),
       spatial=st.lists(st.integers(1, 3), min_size=0, max_size=3),
       order=st.sampled_from(["NCHW", "NHWC"]), is_learnable=st.booleans(),
       in_place=st.booleans(), seed=st.integers(0, 999))
def test_forward_matches_loop(n, c, spatial, order, is_learnable, in_place, seed):
    rng = np.random.default_rng(seed)
    x = _image(rng, n, c, spatial, order).astype(np.float32)
    s, b = rng.standard_normal(c).astype(np.float32), rng.standard_normal(c).astype(np.float32)
    op = CreateOperator("AffineChannel", ["X", "scale", "bias"],
                        ["X"] if in_place and not is_learnable else ["Y"], order=order,
                        is_learnable=is_learnable)
    testing.check_reference(op, [x, s, b], lambda *a: naive_affine(*a, order), atol=1e-6)


@pytest.mark.parametrize("order", ["NCHW", "NHWC"])
def test_gradient_op_matches_loop(order):
    rng = np.random.default_rng(1)
    dy, x = _image(rng, 2, 3, (2, 2), order), _image(rng, 2, 3, (2, 2), order)
    s = rng.standard_normal(3)
    learn = CreateOperator("AffineChannelGradient", ["dY", "X", "s"], ["dX", "ds", "db"],
                           order=order, is_learnable=1)
    testing.check_reference(learn, [dy, x, s], lambda *_: naive_affine_gradient(dy, x, s, order),
                            atol=1e-12)
    fixed = CreateOperator("AffineChannelGradient", ["dY", "s"], ["dY"], order=order)
    testing.check_reference(fixed, [dy, s],
                            lambda *_: naive_affine_gradient(dy, x, s, order)[:1], atol=1e-12)


@pytest.mark.parametrize("order", ["NCHW", "NHWC"])
@pytest.mark.parametrize("is_learnable", [0, 1])
def test_numeric_gradients(order, is_learnable):
    rng = np.random.default_rng(2)
    op = CreateOperator("AffineChannel", ["X", "scale", "bias"], ["Y"], order=order,
                        is_learnable=is_learnable)
    inputs = [_image(rng, 2, 3, (2, 1, 2), order), rng.standard_normal(3), rng.standard_normal(3)]
    testing.check_gradient(op, inputs, [0, 1, 2] if is_learnable else [0])


def test_gradient_makers():
    op = CreateOperator("AffineChannel", ["X", "s", "b"], ["Y"], is_learnable=1)
    grads, _ = GradientRegistry.GetBackwardPass([op], {"Y": "Y_grad"})
    assert [(g.type, list(g.input), list(g.output)) for g in grads] == [
        ("AffineChannelGradient", ["Y_grad", "X", "s"], ["X_grad", "s_grad", "b_grad"])]
    op = CreateOperator("AffineChannel", ["X", "s", "b"], ["Y"], order="NHWC")
    grads, gmap = GradientRegistry.GetBackwardPass([op], {"Y": "Y_grad"})
    assert [(g.type, list(g.input), list(g.output)) for g in grads] == [
        ("AffineChannelGradient", ["Y_grad", "s"], ["X_grad"])]
    assert "s" not in gmap or gmap["s"] is None


def test_shape_functions():
    f8 = np.dtype(np.float64)
    x, v = TensorShape((2, 3, 4), f8), TensorShape((3,), f8)
    assert infer_op(CreateOperator("AffineChannel", ["X", "s", "b"], ["Y"]), [x, v, v]) == [x]
    g = CreateOperator("AffineChannelGradient", ["dY", "X", "s"], ["dX", "ds", "db"],
                       is_learnable=1)
    assert infer_op(g, [x, x, v]) == [x, v, v]
    g = CreateOperator("AffineChannelGradient", ["dY", "s"], ["dX"])
    assert infer_op(g, [x, v]) == [x]


def test_empty_batch():
    x = np.zeros((0, 3, 2), np.float32)
    op = CreateOperator("AffineChannel", ["X", "s", "b"], ["Y"])
    testing.check_reference(op, [x, np.ones(3, np.float32), np.ones(3, np.float32)],
                            lambda *_: [x])


def test_errors():
    x = np.zeros((1, 3, 2), np.float32)
    three = np.ones(3, np.float32)
    op = CreateOperator("AffineChannel", ["X", "s", "b"], ["Y"])
    testing.check_raises(op, [x, np.ones(4, np.float32), three], ShapeError,
                         re.escape("scale.numel() == C. 4 vs 3"))
    testing.check_raises(op, [x, three, three.astype(np.float64)], DTypeError,
                         "expects elements to be float while tensor contains double")
    testing.check_raises(op, [np.zeros(3, np.float32), three, three], ShapeError, "dim")
    testing.check_raises(CreateOperator("AffineChannel", ["X", "s", "b"], ["X"], is_learnable=1),
                         [x, three, three], EnforceError,
                         re.escape("In-place affine_channel_op is not supported when "
                                   "is_learnable = true."))
    testing.check_raises(CreateOperator("AffineChannel", ["X", "s", "b"], ["Y"], order="CHW"),
                         [x, three, three], ArgumentError, "StorageOrder::UNKNOWN")
    testing.check_raises(CreateOperator("AffineChannelGradient", ["dY", "s"], ["dX"],
                                        is_learnable=1), [x, three], SchemaError,
                         "is_learnable=1 takes 3 inputs and 3 outputs")
    learn = CreateOperator("AffineChannelGradient", ["dY", "X", "s"], ["dX", "ds", "db"],
                           is_learnable=1)
    testing.check_raises(learn, [x, np.zeros((1, 3, 3), np.float32), three], ShapeError,
                         re.escape("X.sizes() == dY.sizes()"))


def test_gradient_scale_size_is_checked():
    testing.check_raises(CreateOperator("AffineChannelGradient", ["dY", "s"], ["dX"]),
                         [np.ones((1, 2, 2), np.float32), np.ones(3, np.float32)], ShapeError,
                         re.escape("scale.numel() == C. 3 vs 2"))


def test_in_place_gradient():
    ws = Workspace()
    ws.feed_blob("dY", np.ones((1, 2, 2), np.float32))
    ws.feed_blob("s", np.array([3, 4], np.float32))
    ws.run_operator_once(CreateOperator("AffineChannelGradient", ["dY", "s"], ["dY"]))
    np.testing.assert_array_equal(ws.fetch_blob("dY"), [[[3, 3], [4, 4]]])
