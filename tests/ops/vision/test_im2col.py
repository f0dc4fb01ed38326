"""Im2Col / Col2Im against index loops (every column entry read or added back one by
one), Caffe2's im2col_col2im_test (NCHW and NHWC layouts agree, Col2Im of Im2Col in
both orders, numeric gradients), the adjoint identity, each op's gradient maker,
shape functions and errors."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import ArgumentError, DTypeError, ShapeError
from caffe2lite.inference import infer_op
from caffe2lite.schema.shapes import TensorShape
from caffe2lite.workspace import Workspace


def _taps(h, w, kernel, stride, pad, dilation):
    """(i, j, y, x, row, col) for every kernel tap and output position, with the image
    row and column it reads (possibly outside the image)."""
    dk = dilation * (kernel - 1) + 1
    oh, ow = (h + 2 * pad - dk) // stride + 1, (w + 2 * pad - dk) // stride + 1
    for i in range(kernel):
        for j in range(kernel):
            for y in range(oh):
                for x in range(ow):
                    yield i, j, y, x, y * stride - pad + i * dilation, x * stride - pad + j * dilation


def naive_im2col_nchw(im, kernel, stride, pad, dilation):
    n, c, h, w = im.shape
    dk = dilation * (kernel - 1) + 1
    oh, ow = (h + 2 * pad - dk) // stride + 1, (w + 2 * pad - dk) // stride + 1
    col = np.zeros((n, c * kernel * kernel, oh, ow), im.dtype)
    for b in range(n):
        for ch in range(c):
            for i, j, y, x, r, q in _taps(h, w, kernel, stride, pad, dilation):
                if 0 <= r < h and 0 <= q < w:
                    col[b, (ch * kernel + i) * kernel + j, y, x] = im[b, ch, r, q]
    return col


def naive_col2im_nchw(col, shape, kernel, stride, pad, dilation):
    n, c, h, w = shape
    im = np.zeros(shape)
    for b in range(n):
        for ch in range(c):
            for i, j, y, x, r, q in _taps(h, w, kernel, stride, pad, dilation):
                if 0 <= r < h and 0 <= q < w:
                    im[b, ch, r, q] += col[b, (ch * kernel + i) * kernel + j, y, x]
    return im.astype(col.dtype)


def _args(kernel, stride, pad, dilation, order):
    return {"kernel": kernel, "stride": stride, "pad": pad, "dilation": dilation,
            "order": order}


@settings(max_examples=15, deadline=None)
@given(n=st.integers(1, 2), c=st.integers(1, 3), h=st.integers(3, 7), w=st.integers(3, 7),
       kernel=st.integers(1, 3), stride=st.integers(1, 3), pad=st.integers(0, 2),
       dilation=st.integers(1, 2), seed=st.integers(0, 999))
def test_both_orders_match_loops(n, c, h, w, kernel, stride, pad, dilation, seed):
    assume(min(h, w) >= dilation * (kernel - 1) + 1)
    im = np.random.default_rng(seed).random((n, c, h, w)).astype(np.float32) - 0.5
    col = naive_im2col_nchw(im, kernel, stride, pad, dilation)
    back = naive_col2im_nchw(col, im.shape, kernel, stride, pad, dilation)
    args = _args(kernel, stride, pad, dilation, "NCHW")
    testing.check_reference(CreateOperator("Im2Col", ["X"], ["Y"], **args), [im],
                            lambda _: [col], atol=0)
    testing.check_reference(CreateOperator("Col2Im", ["X", "Z"], ["Y"], **args), [col, im],
                            lambda *_: [back], atol=1e-6)
    # NHWC: the same columns with (kernel_h, kernel_w, C) fastest, as Caffe2's layout test
    im_t = np.ascontiguousarray(im.transpose(0, 2, 3, 1))
    oh, ow = col.shape[2:]
    col_t = col.reshape(n, c, kernel, kernel, oh, ow).transpose(0, 4, 5, 2, 3, 1)
    col_t = np.ascontiguousarray(col_t).reshape(n, oh, ow, kernel * kernel * c)
    args["order"] = "NHWC"
    testing.check_reference(CreateOperator("Im2Col", ["X"], ["Y"], **args), [im_t],
                            lambda _: [col_t], atol=0)
    testing.check_reference(CreateOperator("Col2Im", ["X", "Z"], ["Y"], **args), [col_t, im_t],
                            lambda *_: [back.transpose(0, 2, 3, 1)], atol=1e-6)


def test_separate_h_and_w_arguments():
    im = np.arange(2 * 5 * 6, dtype=np.float64).reshape(1, 2, 5, 6)
    op = CreateOperator("Im2Col", ["X"], ["Y"], kernel_h=2, kernel_w=3, stride_h=2, stride_w=1,
                        dilation_h=1, dilation_w=2, pad=1)
    (y,) = testing.check_reference(op, [im], lambda x: [_loop_hw(x, 2, 3, 2, 1, 1, 2, 1)], atol=0)
    assert y.shape == (1, 12, 3, 4)


def _loop_hw(im, kh, kw, sh, sw, dh, dw, pad):
    n, c, h, w = im.shape
    oh = (h + 2 * pad - (dh * (kh - 1) + 1)) // sh + 1
    ow = (w + 2 * pad - (dw * (kw - 1) + 1)) // sw + 1
    out = np.zeros((n, c * kh * kw, oh, ow))
    for idx in np.ndindex(n, c, kh, kw, oh, ow):
        b, ch, i, j, y, x = idx
        r, q = y * sh - pad + i * dh, x * sw - pad + j * dw
        if 0 <= r < h and 0 <= q < w:
            out[b, (ch * kh + i) * kw + j, y, x] = im[b, ch, r, q]
    return out


def test_adjoint_identity():
    rng = np.random.default_rng(2)
    im, args = rng.standard_normal((2, 3, 6, 5)), _args(3, 2, 1, 1, "NCHW")
    ws = Workspace()
    ws.feed_blob("im", im)
    ws.run_operator_once(CreateOperator("Im2Col", ["im"], ["col"], **args))
    col = ws.fetch_blob("col")
    other = rng.standard_normal(col.shape)
    ws.feed_blob("other", other)
    ws.run_operator_once(CreateOperator("Col2Im", ["other", "im"], ["back"], **args))
    assert np.isclose(np.sum(col * other), np.sum(im * ws.fetch_blob("back")))


@pytest.mark.parametrize("order", ["NCHW", "NHWC"])
def test_numeric_gradients_and_makers(order):
    rng = np.random.default_rng(3)
    args = _args(2, 2, 1, 1, order)
    im = rng.random((1, 2, 4, 4) if order == "NCHW" else (1, 4, 4, 2))
    im2col = CreateOperator("Im2Col", ["X"], ["Y"], **args)
    testing.check_gradient(im2col, [im], 0)
    grads, _ = GradientRegistry.GetBackwardPass([im2col], {"Y": "Y_grad"})
    assert [(g.type, list(g.input), list(g.output)) for g in grads] == [
        ("Col2Im", ["Y_grad", "X"], ["X_grad"])]
    col2im = CreateOperator("Col2Im", ["C", "Z"], ["Y"], **args)
    ws = Workspace()
    ws.feed_blob("X", im)
    ws.run_operator_once(im2col)
    testing.check_gradient(col2im, [ws.fetch_blob("Y"), im], 0)
    grads, gmap = GradientRegistry.GetBackwardPass([col2im], {"Y": "Y_grad"})
    assert [(g.type, list(g.input), list(g.output)) for g in grads] == [
        ("Im2Col", ["Y_grad"], ["C_grad"])]
    assert gmap.get("Z") is None


def test_shape_functions():
    f4 = np.dtype(np.float32)
    op = CreateOperator("Im2Col", ["X"], ["Y"], kernel=3, pad=1, stride=2)
    assert infer_op(op, [TensorShape((2, 4, 7, 8), f4)]) == [TensorShape((2, 36, 4, 4), f4)]
    op = CreateOperator("Im2Col", ["X"], ["Y"], kernel=3, order="NHWC")
    assert infer_op(op, [TensorShape((2, 7, 8, 4), f4)]) == [TensorShape((2, 5, 6, 36), f4)]
    op = CreateOperator("Col2Im", ["X", "Z"], ["Y"], kernel=3)
    assert infer_op(op, [TensorShape(None, f4), TensorShape((1, 2, 5, 5), np.int32)]) == [
        TensorShape((1, 2, 5, 5), f4)]


def test_empty_batch():
    im = np.zeros((0, 2, 4, 4), np.float32)
    op = CreateOperator("Im2Col", ["X"], ["Y"], kernel=2)
    testing.check_reference(op, [im], lambda _: [np.zeros((0, 8, 3, 3), np.float32)])
    op = CreateOperator("Col2Im", ["X", "Z"], ["Y"], kernel=2)
    testing.check_reference(op, [np.zeros((0, 8, 3, 3), np.float32), im], lambda *_: [im])


def test_errors():
    im = np.zeros((1, 1, 3, 3), np.float32)
    testing.check_raises(CreateOperator("Im2Col", ["X"], ["Y"]), [im], ArgumentError,
                         re.escape("kernel_h_ > 0"))
    testing.check_raises(CreateOperator("Im2Col", ["X"], ["Y"], kernel=2, stride_w=0), [im],
                         ArgumentError, re.escape("stride_w_ > 0"))
    testing.check_raises(CreateOperator("Im2Col", ["X"], ["Y"], kernel=2, pad=-1), [im],
                         ArgumentError, re.escape("pad_ >= 0"))
    testing.check_raises(CreateOperator("Im2Col", ["X"], ["Y"], kernel=2, dilation=3), [im],
                         ShapeError, re.escape("H >= dkernel_h. 3 vs 4"))
    testing.check_raises(CreateOperator("Im2Col", ["X"], ["Y"], kernel=2), [im[0]], ShapeError,
                         re.escape("4 == X.dim()"))
    testing.check_raises(CreateOperator("Im2Col", ["X"], ["Y"], kernel=2),
                         [im.astype(np.int32)], DTypeError, "")
    col2im = CreateOperator("Col2Im", ["X", "Z"], ["Y"], kernel=2)
    testing.check_raises(col2im, [np.zeros((1, 4, 2, 3), np.float32), im], ShapeError,
                         re.escape("X.numel() == N * kernel_h_ * kernel_w_ * C * out_h * out_w. "
                                   "24 vs 16"))
    testing.check_raises(col2im, [np.zeros(16, np.float32), im[0]], ShapeError,
                         re.escape("4 == Y->dim()"))
