"""LRN / LRNGradient against a loop over channels, both orders; numeric gradients."""

from __future__ import annotations

import numpy as np
import pytest

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import ArgumentError


def naive_lrn(x, size, alpha, beta, bias, order):
    xc = (x if order == "NCHW" else np.moveaxis(x, -1, 1)).astype(np.float64)
    c = xc.shape[1]
    scale = np.empty_like(xc)
    for ch in range(c):
        lo, hi = max(0, ch - (size - 1) // 2), min(c, ch + size - (size - 1) // 2)
        scale[:, ch] = bias + alpha / size * (xc[:, lo:hi] ** 2).sum(axis=1)
    y = xc * scale ** -beta
    back = (lambda a: a) if order == "NCHW" else (lambda a: np.moveaxis(a, 1, -1))
    return back(y), back(scale)


@pytest.mark.parametrize("order", ["NCHW", "NHWC"])
@pytest.mark.parametrize("size", [1, 3, 5, 4])
def test_matches_the_loop(order, size):
    rng = np.random.default_rng(size)
    x = rng.standard_normal((2, 6, 3, 2) if order == "NCHW" else (2, 3, 2, 6)).astype(np.float32)
    y, s = naive_lrn(x, size, 0.3, 0.75, 2.0, order)
    op = CreateOperator("LRN", ["X"], ["Y", "S"], size=size, alpha=0.3, beta=0.75, bias=2.0, order=order)
    testing.check_reference(op, [x], lambda _: [y.astype(np.float32), s.astype(np.float32)], atol=1e-5)


@pytest.mark.parametrize("order", ["NCHW", "NHWC"])
def test_numeric_gradient(order):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, 5, 2, 2) if order == "NCHW" else (1, 2, 2, 5))
    op = CreateOperator("LRN", ["X"], ["Y"], size=3, alpha=0.5, beta=0.75, bias=1.0, order=order)
    testing.check_gradient(op, [x], [0])
    grads, _ = GradientRegistry.GetBackwardPass([op], {"Y": "Y_grad"})
    assert [(g.type, list(g.input), list(g.output)) for g in grads] == [
        ("LRNGradient", ["X", "Y", "Y_grad"], ["X_grad"])]


def test_size_must_be_given():
    testing.check_raises(CreateOperator("LRN", ["X"], ["Y"]), [np.ones((1, 2, 1, 1), np.float32)],
                         ArgumentError, "size")
