"""ChannelStats and ChannelBackpropStats against numpy, and what they are for: two
half batches normalised with their summed statistics (SpatialBN / SpatialBNGradient
with num_batches=2) equal the whole batch normalised at once."""

from __future__ import annotations

import numpy as np
import pytest

from caffe2lite.core import CreateOperator
from caffe2lite.errors import EnforceError
from caffe2lite.schema import registry
from caffe2lite.testing import check_raises
from caffe2lite.workspace import Workspace


def run(op, **blobs):
    ws = Workspace()
    for name, value in blobs.items():
        ws.feed_blob(name, value)
    ws.run_operator_once(op)
    return [ws.fetch_blob(name) for name in op.output]


@pytest.mark.parametrize("shape", [(2, 3), (2, 3, 4), (3, 2, 4, 5), (2, 2, 3, 2, 2)])
@pytest.mark.parametrize("order", ["NCHW", "NHWC"])
def test_channel_stats(shape, order):
    x = np.random.default_rng(len(shape)).standard_normal(shape).astype(np.float32)
    total, squares = run(CreateOperator("ChannelStats", ["X"], ["S", "Q"], order=order), X=x)
    axis = 1 if order == "NCHW" else x.ndim - 1
    others = tuple(a for a in range(x.ndim) if a != axis)
    np.testing.assert_allclose(total, x.astype(np.float64).sum(others), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(squares, np.square(x.astype(np.float64)).sum(others),
                               rtol=1e-5)
    assert total.dtype == squares.dtype == np.float32


@pytest.mark.parametrize("shape", [(2, 3, 4), (3, 2, 4, 5), (2, 2, 3, 2, 2)])
def test_channel_backprop_stats(shape):
    rng = np.random.default_rng(len(shape))
    x, dy = (rng.standard_normal(shape).astype(np.float32) for _ in range(2))
    mean = rng.standard_normal(shape[1]).astype(np.float32)
    inv = rng.uniform(0.5, 2, shape[1]).astype(np.float32)
    scale_grad, bias_grad = run(CreateOperator("ChannelBackpropStats",
                                               ["X", "M", "I", "D"], ["SG", "BG"]),
                                X=x, M=mean, I=inv, D=dy)
    per_channel = (1, shape[1]) + (1,) * (len(shape) - 2)
    others = tuple(a for a in range(len(shape)) if a != 1)
    want = ((x.astype(np.float64) - mean.reshape(per_channel)) * inv.reshape(per_channel)
            * dy).sum(others)
    np.testing.assert_allclose(scale_grad, want, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(bias_grad, dy.astype(np.float64).sum(others), rtol=1e-5,
                               atol=1e-5)


def test_two_half_batches_normalise_as_the_whole_batch():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 3, 2, 2)).astype(np.float32)
    dy = rng.standard_normal(x.shape).astype(np.float32)
    scale = rng.uniform(0.5, 1.5, 3).astype(np.float32)
    bias = rng.standard_normal(3).astype(np.float32)
    rm, rv = np.zeros(3, np.float32), np.ones(3, np.float32)
    bn = CreateOperator("SpatialBN", ["X", "s", "b", "rm", "rv"],
                        ["Y", "rm", "rv", "sm", "siv"], epsilon=1e-5)
    y, _, _, sm, siv = run(bn, X=x, s=scale, b=bias, rm=rm, rv=rv)
    grad = CreateOperator("SpatialBNGradient", ["X", "s", "dY", "sm", "siv"],
                          ["dX", "ds", "db"], epsilon=1e-5)
    dx, ds, db = run(grad, X=x, s=scale, dY=dy, sm=sm, siv=siv)
    halves = [slice(0, 2), slice(2, 4)]
    stats = [run(CreateOperator("ChannelStats", ["X"], ["S", "Q"]), X=x[h]) for h in halves]
    sums, sumsq = stats[0][0] + stats[1][0], stats[0][1] + stats[1][1]
    bn2 = CreateOperator("SpatialBN", ["X", "s", "b", "rm", "rv", "S", "Q"],
                         ["Y", "rm", "rv", "sm", "siv"], epsilon=1e-5, num_batches=2)
    parts = [run(bn2, X=x[h], s=scale, b=bias, rm=rm, rv=rv, S=sums, Q=sumsq) for h in halves]
    for h, part in zip(halves, parts):
        np.testing.assert_allclose(part[0], y[h], rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(part[3], sm, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(part[4], siv, rtol=1e-4)
    back = [run(CreateOperator("ChannelBackpropStats", ["X", "M", "I", "D"], ["SG", "BG"]),
                X=x[h], M=sm, I=siv, D=dy[h]) for h in halves]
    sg, bg = back[0][0] + back[1][0], back[0][1] + back[1][1]
    np.testing.assert_allclose(sg, ds, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(bg, db, rtol=1e-5, atol=1e-5)
    grad2 = CreateOperator("SpatialBNGradient", ["X", "s", "dY", "sm", "siv", "SG", "BG"],
                           ["dX", "ds", "db"], epsilon=1e-5, num_batches=2)
    for h in halves:
        got = run(grad2, X=x[h], s=scale, dY=dy[h], sm=sm, siv=siv, SG=sg, BG=bg)
        np.testing.assert_allclose(got[0], dx[h], rtol=1e-4, atol=1e-5)


def test_errors_and_no_gradient():
    check_raises(CreateOperator("ChannelBackpropStats", ["X", "M", "I", "D"], ["SG", "BG"]),
                 [np.ones((2, 3), np.float32), np.ones(3, np.float32), np.ones(3, np.float32),
                  np.ones((2, 3), np.float32)], EnforceError, r"X.dim\(\) >= 3")
    check_raises(CreateOperator("ChannelBackpropStats", ["X", "M", "I", "D"], ["SG", "BG"]),
                 [np.ones((2, 3, 2), np.float32), np.ones(2, np.float32),
                  np.ones(3, np.float32), np.ones((2, 3, 2), np.float32)], EnforceError,
                 r"mean.numel\(\) == C")
    for name in ("ChannelStats", "ChannelBackpropStats"):
        assert registry.GRADIENTS[name].kind == registry.SHOULD_NOT_DO
