"""SpatialBN / SpatialBNGradient against per-channel loops, in inference and training
(running statistics moved in place by 1 - momentum towards the batch mean and the
unbiased batch variance, biased variance for Y, saved inverse std), both orders, multi-batch sums; numeric gradients; Caffe2's gradient op."""

from __future__ import annotations

import numpy as np
import pytest

from caffe2lite import testing, workspace
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import SchemaError, ShapeError


def _per_channel(x, order):
    xc = x if order == "NCHW" else np.moveaxis(x, -1, 1)
    return [xc[:, c].reshape(-1).astype(np.float64) for c in range(xc.shape[1])]


def _apply(x, order, fn):
    xc = (x if order == "NCHW" else np.moveaxis(x, -1, 1)).astype(np.float64).copy()
    for c in range(xc.shape[1]):
        xc[:, c] = fn(c, xc[:, c])
    return xc if order == "NCHW" else np.moveaxis(xc, 1, -1)


@pytest.mark.parametrize("order", ["NCHW", "NHWC"])
def test_inference(order):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 4, 5) if order == "NCHW" else (2, 4, 5, 3)).astype(np.float32)
    s, b, m, v = (rng.standard_normal(3).astype(np.float32) for _ in range(4))
    v = np.abs(v) + 0.1
    op = CreateOperator("SpatialBN", ["X", "s", "b", "m", "v"], ["Y"], is_test=1, epsilon=1e-3, order=order)
    want = _apply(x, order, lambda c, xc: (xc - m[c]) / np.sqrt(v[c] + 1e-3) * s[c] + b[c])
    testing.check_reference(op, [x, s, b, m, v], lambda *_: [want.astype(np.float32)], atol=1e-5)


@pytest.mark.parametrize("order", ["NCHW", "NHWC"])
def test_training_updates_running_statistics(order):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 2, 3, 3) if order == "NCHW" else (4, 3, 3, 2)).astype(np.float32)
    s, b = np.array([1.5, -0.5], np.float32), np.array([0.1, 0.2], np.float32)
    rm, rv = np.array([0.3, -0.2], np.float32), np.array([1.2, 0.8], np.float32)
    op = CreateOperator("SpatialBN", ["X", "s", "b", "rm", "rv"], ["Y", "rm", "rv", "sm", "siv"],
                        epsilon=1e-4, momentum=0.7, order=order)
    chans = _per_channel(x, order)
    mean = np.array([c.mean() for c in chans])
    var = np.array([((c - c.mean()) ** 2).mean() for c in chans])
    want_y = _apply(x, order, lambda c, xc: (xc - mean[c]) / np.sqrt(var[c] + 1e-4) * s[c] + b[c])
    testing.check_reference(op, [x, s, b, rm, rv], lambda *_: [
        want_y.astype(np.float32), (0.3 * mean + 0.7 * rm).astype(np.float32),
        (0.3 * var * 36 / 35 + 0.7 * rv).astype(np.float32), mean.astype(np.float32),
        (1 / np.sqrt(var + 1e-4)).astype(np.float32)], atol=1e-5)


def test_multi_batch_sums():
    x = np.arange(8, dtype=np.float32).reshape(2, 2, 2, 1)
    sums, sumsq = np.array([20.0, 30.0], np.float32), np.array([120.0, 260.0], np.float32)
    op = CreateOperator("SpatialBN", ["X", "s", "b", "rm", "rv", "sums", "sumsq"],
                        ["Y", "rm", "rv", "sm", "siv"], num_batches=2, momentum=0.0, epsilon=1e-5)
    mean = sums / 8
    var = sumsq / 8 - mean ** 2
    ones, zeros = np.ones(2, np.float32), np.zeros(2, np.float32)
    testing.check_reference(op, [x, ones, zeros, zeros, zeros, sums, sumsq], lambda *_: [
        _apply(x, "NCHW", lambda c, xc: (xc - mean[c]) / np.sqrt(var[c] + 1e-5)).astype(np.float32),
        mean, var * 8 / 7, mean, (1 / np.sqrt(var + 1e-5)).astype(np.float32)], atol=1e-5)


def test_running_variance_is_unbiased_over_all_batches():
    """Regression (Caffe2's spatial_bn_op_test): running_var moves towards
    var * n / (n - 1) with n = num_batches * N * HxW; a single value (n == 1) gives NaN."""
    x = np.array([[[[1.0, 3.0]]], [[[5.0, 7.0]]]], np.float32)  # N=2, C=1, HxW=2
    op = CreateOperator("SpatialBN", ["X", "s", "b", "rm", "rv"], ["Y", "rm", "rv", "sm", "siv"],
                        momentum=0.5)
    one, zero = np.ones(1, np.float32), np.zeros(1, np.float32)
    for name, v in zip(["X", "s", "b", "rm", "rv"], [x, one, zero, zero, one]):
        workspace.FeedBlob(name, v)
    workspace.RunOperatorOnce(op)
    # biased var 5, unbiased 20 / 3; rv = 0.5 * 20 / 3 + 0.5 * 1
    np.testing.assert_allclose(workspace.FetchBlob("rv"), [0.5 * 20 / 3 + 0.5], rtol=1e-6)
    np.testing.assert_allclose(workspace.FetchBlob("rm"), [2.0], rtol=1e-6)
    workspace.FeedBlob("rm", zero)
    workspace.FeedBlob("rv", one)
    op4 = CreateOperator("SpatialBN", ["X", "s", "b", "rm", "rv", "sums", "sumsq"],
                         ["Y", "rm", "rv", "sm", "siv"], momentum=0.5, num_batches=2)
    workspace.FeedBlob("sums", np.array([32.0], np.float32))  # 8 values, mean 4
    workspace.FeedBlob("sumsq", np.array([168.0], np.float32))  # var 168 / 8 - 16 = 5
    workspace.RunOperatorOnce(op4)
    np.testing.assert_allclose(workspace.FetchBlob("rv"), [0.5 * 5 * 8 / 7 + 0.5], rtol=1e-6)
    single = np.array([[[[2.0]]]], np.float32)
    for name, v in zip(["X", "rm", "rv"], [single, zero, one]):
        workspace.FeedBlob(name, v)
    workspace.RunOperatorOnce(op)
    assert np.isnan(workspace.FetchBlob("rv")).all()


@pytest.mark.parametrize("order", ["NCHW", "NHWC"])
def test_multi_batch_gradient_averages_the_sums(order):
    """Regression (Caffe2's test_spatial_bn_multi_batch_grad): dscale and dbias are the
    given sums / num_batches; dX = a * dY + b * X + g per channel with a = scale * rstd,
    b = -a * dscale * rstd / (N * HxW), g = a * (mean * dscale * rstd - dbias) / (N * HxW);
    the sums may be updated in place."""
    rng = np.random.default_rng(5)
    n, c, h, w, nb = 2, 3, 2, 2, 3
    shape = (n, c, h, w) if order == "NCHW" else (n, h, w, c)
    x, dy = (rng.standard_normal(shape).astype(np.float32) for _ in range(2))
    scale, mean, dss, dbs = (rng.standard_normal(c).astype(np.float32) for _ in range(4))
    rstd = rng.random(c).astype(np.float32) + 0.5

    def ref(*_):
        dscale, dbias = dss / nb, dbs / nb
        out = np.zeros(shape)
        for ch in range(c):
            a = scale[ch] * rstd[ch]
            b = -a * dscale[ch] * rstd[ch] / (n * h * w)
            g = a * (mean[ch] * dscale[ch] * rstd[ch] - dbias[ch]) / (n * h * w)
            idx = (slice(None), ch) if order == "NCHW" else (Ellipsis, ch)
            out[idx] = a * dy[idx] + b * x[idx] + g
        return [out.astype(np.float32), dscale, dbias]

    for outs in (["dX", "dscale", "dbias"], ["dX", "dss", "dbs"]):
        op = CreateOperator("SpatialBNGradient", ["X", "s", "dY", "m", "r", "dss", "dbs"], outs,
                            order=order, num_batches=nb)
        testing.check_reference(op, [x, scale, dy, mean, rstd, dss, dbs], ref, atol=1e-5)


def test_errors():
    x = np.zeros((1, 2, 2, 2), np.float32)
    v = np.ones(2, np.float32)
    testing.check_raises(CreateOperator("SpatialBN", ["X", "s", "b", "m", "v"], ["Y"], is_test=1),
                         [x, np.ones(3, np.float32), v, v, v], ShapeError, r"scale.numel\(\) == C. 3 vs 2")
    testing.check_raises(CreateOperator("SpatialBN", ["X", "s", "b", "m", "v"], ["Y"]),
                         [x, v, v, v, v], SchemaError, r"OutputSize\(\) == 5")


def test_numeric_gradients_and_gradient_op():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((3, 2, 2, 2))
    op = CreateOperator("SpatialBN", ["X", "s", "b", "rm", "rv"], ["Y", "rm", "rv", "sm", "siv"])
    testing.check_gradient(op, [x, rng.standard_normal(2), rng.standard_normal(2), np.zeros(2), np.ones(2)],
                           [0, 1, 2], outputs=[0], atol=1e-4)
    grads, _ = GradientRegistry.GetBackwardPass([op], {"Y": "Y_grad"})
    assert [(g.type, list(g.input), list(g.output)) for g in grads] == [
        ("SpatialBNGradient", ["X", "s", "Y_grad", "sm", "siv"], ["X_grad", "s_grad", "b_grad"])]
    test_op = CreateOperator("SpatialBN", ["X", "s", "b", "m", "v"], ["Y"], is_test=1)
    grads, _ = GradientRegistry.GetBackwardPass([test_op], {"Y": "Y_grad"})
    assert list(grads[0].input) == ["X", "s", "Y_grad", "m", "v"]


def test_two_dimensional_input_is_one_pixel_per_channel():
    """Regression: Caffe2's SpatialBN takes X of rank >= 2 (N, C[, ...]); (N, C) is
    HxW = 1, in inference and training."""
    x = np.array([[1.0, 2.0], [3.0, 6.0]], np.float32)
    one, zero = np.ones(2, np.float32), np.zeros(2, np.float32)
    op = CreateOperator("SpatialBN", ["X", "s", "b", "m", "v"], ["Y"], is_test=1, epsilon=1e-5)
    testing.check_reference(op, [x, one, zero, zero, one],
                            lambda *_: [(x / np.sqrt(1 + 1e-5)).astype(np.float32)])
    op = CreateOperator("SpatialBN", ["X", "s", "b", "rm", "rv"], ["Y", "rm", "rv", "sm", "siv"],
                        epsilon=1e-5, momentum=0.0)
    mean, var = np.array([2.0, 4.0]), np.array([1.0, 4.0])
    testing.check_reference(op, [x, one, zero, zero, one], lambda *_: [
        ((x - mean) / np.sqrt(var + 1e-5)).astype(np.float32), mean.astype(np.float32),
        (var * 2).astype(np.float32), mean.astype(np.float32),
        (1 / np.sqrt(var + 1e-5)).astype(np.float32)], atol=1e-5)
    testing.check_raises(CreateOperator("SpatialBN", ["X", "s", "b", "m", "v"], ["Y"], is_test=1),
                         [np.ones(2, np.float32), one, zero, zero, one], ShapeError, r"ndim >= 2")
