"""ConvTranspose / ConvTransposeGradient against a naive scatter loop over input pixels
and kernel taps, glow's stated values, Caffe2's messages and numeric gradients."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import ArgumentError, ShapeError


def naive_conv_transpose(x, w, b, stride, pads, adj, group):
    """x (N, C, H, W), w (C, M/G, kh, kw): each input pixel adds x * w into the output."""
    n, c, h, wd = x.shape
    mg, kh, kw = w.shape[1:]
    m = mg * group
    full = ((h - 1) * stride[0] + kh + adj[0], (wd - 1) * stride[1] + kw + adj[1])
    y = np.zeros((n, m, *full))
    cg = c // group
    for bi, ci, i, j, mo, a, bb in itertools.product(range(n), range(c), range(h), range(wd),
                                                      range(mg), range(kh), range(kw)):
        g = ci // cg
        y[bi, g * mg + mo, i * stride[0] + a, j * stride[1] + bb] += x[bi, ci, i, j] * w[ci, mo, a, bb]
    y = y[:, :, pads[0]:full[0] - pads[2], pads[1]:full[1] - pads[3]]
    return y + (0 if b is None else b.reshape(1, m, 1, 1))


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**16), st.sampled_from([1, 2]), st.sampled_from(["NCHW", "NHWC"]),
       st.booleans())
def test_matches_the_naive_scatter(seed, group, order, bias):
    rng = np.random.default_rng(seed)
    c, mg = group * int(rng.integers(1, 3)), int(rng.integers(1, 3))
    k = [int(v) for v in rng.integers(1, 4, 2)]
    stride = [int(v) for v in rng.integers(1, 3, 2)]
    adj = [int(rng.integers(0, s + 1)) for s in stride]
    pads = [int(v) for v in rng.integers(0, 2, 4)]
    x = rng.standard_normal((2, c, 3, 2)).astype(np.float32)
    w = rng.standard_normal((c, mg, *k)).astype(np.float32)
    b = rng.standard_normal(mg * group).astype(np.float32) if bias else None
    want = naive_conv_transpose(x, w, b, stride, pads, adj, group)
    if min(want.shape[2:]) <= 0:
        return
    to = (lambda a: a) if order == "NCHW" else (lambda a: np.ascontiguousarray(np.moveaxis(a, 1, -1)))
    op = CreateOperator("ConvTranspose", ["X", "W", "b"][:3 if bias else 2], ["Y"], kernels=k,
                        strides=stride, pads=pads, adjs=adj, group=group, order=order)
    testing.check_reference(op, [to(x), to(w)] + ([b] if bias else []),
                            lambda *_: [to(want).astype(np.float32)], atol=1e-4, rtol=1e-4)


def test_glow_values():
    x = np.array([2, 3, 4, 5], np.float32).reshape(1, 1, 2, 2)
    w = np.arange(2, 11, dtype=np.float32).reshape(1, 1, 3, 3)
    b = np.array([1.0], np.float32)
    testing.check_reference(CreateOperator("ConvTranspose", ["X", "W", "b"], ["Y"], kernel=3, pad=1),
                            [x, w, b], lambda *_: [np.array([50, 64, 92, 106], np.float32).reshape(1, 1, 2, 2)])


def test_errors():
    x = np.zeros((1, 1, 2, 2), np.float32)
    testing.check_raises(CreateOperator("ConvTranspose", ["X", "W"], ["Y"], kernel=2),
                         [x, np.zeros((1, 1, 3, 3), np.float32)], ShapeError,
                         "filter height must be equal to kernel height")
    testing.check_raises(CreateOperator("ConvTranspose", ["X", "W"], ["Y"], kernel=3, order="NHWC"),
                         [np.zeros((1, 2, 2, 1), np.float32), np.zeros((1, 1, 3, 3), np.float32)],
                         ShapeError, "filter height must be equal to kernel height")
    testing.check_raises(CreateOperator("ConvTranspose", ["X", "W"], ["Y"], kernel=2, stride=1, adj=2),
                         [x, np.zeros((1, 1, 2, 2), np.float32)], ArgumentError,
                         r"adj_\[dim\] <= stride_\[dim\]")
    testing.check_raises(CreateOperator("ConvTranspose", ["X", "W"], ["Y"], kernel=2),
                         [x, np.zeros((2, 1, 2, 2), np.float32)], ShapeError,
                         "filter number must be equal to input channel number")


@pytest.mark.parametrize("order", ["NCHW", "NHWC"])
def test_numeric_gradients(order):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((1, 2, 3, 2))
    w = rng.standard_normal((2, 2, 2, 3))
    if order == "NHWC":
        x, w = np.moveaxis(x, 1, -1).copy(), np.moveaxis(w, 1, -1).copy()
    op = CreateOperator("ConvTranspose", ["X", "W", "b"], ["Y"], kernels=[2, 3], strides=[2, 1],
                        pads=[1, 0, 0, 1], adjs=[1, 0], order=order)
    testing.check_gradient(op, [x, w, rng.standard_normal(2)], [0, 1, 2])


def test_gradient_ops():
    op = CreateOperator("ConvTranspose", ["X", "W"], ["Y"], kernel=2)
    grads, _ = GradientRegistry.GetBackwardPass([op], {"Y": "Y_grad"})
    assert [(g.type, list(g.input), list(g.output)) for g in grads] == [
        ("ConvTransposeGradient", ["X", "W", "Y_grad"], ["W_grad", "X_grad"])]
    assert grads[0].arg[0].name == "no_bias"
