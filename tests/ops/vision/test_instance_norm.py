"""InstanceNorm / InstanceNormGradient against per-image, per-channel loops in both
orders (Caffe2's instance_norm_test cases: 1 to 3 outputs, in place, NCHW == NHWC
transposed), the gradient op with and without the saved statistics, numeric
gradients, Caffe2's gradient ops, errors."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import ArgumentError, DTypeError, ShapeError
from caffe2lite.inference import infer_op
from caffe2lite.schema.shapes import TensorShape
from caffe2lite.workspace import Workspace


def _channel_of(idx, order):
    return idx[1] if order == "NCHW" else idx[-1]


def naive_stats(x, epsilon, order):
    n = x.shape[0]
    c = x.shape[1] if order == "NCHW" else x.shape[-1]
    sums, counts = np.zeros((n, c)), np.zeros((n, c))
    for idx in np.ndindex(*x.shape):
        sums[idx[0], _channel_of(idx, order)] += float(x[idx])
        counts[idx[0], _channel_of(idx, order)] += 1
    mean = sums / counts
    sq = np.zeros((n, c))
    for idx in np.ndindex(*x.shape):
        i, ch = idx[0], _channel_of(idx, order)
        sq[i, ch] += (float(x[idx]) - mean[i, ch]) ** 2
    rstd = np.array([[1 / math.sqrt(sq[i, ch] / counts[i, ch] + epsilon) for ch in range(c)]
                     for i in range(n)]).reshape(n, c)
    return mean, rstd


def naive_instance_norm(x, scale, bias, epsilon, order, outputs=3):
    mean, rstd = naive_stats(x, epsilon, order)
    y = np.zeros(x.shape)
    for idx in np.ndindex(*x.shape):
        i, ch = idx[0], _channel_of(idx, order)
        y[idx] = scale[ch] * (x[idx] - mean[i, ch]) * rstd[i, ch] + bias[ch]
    return [y.astype(x.dtype), mean.astype(x.dtype), rstd.astype(x.dtype)][:outputs]


def naive_gradient(x, scale, dy, mean, rstd, order):
    """dX = scale * r * (dy - mean(dy) - xhat * mean(dy * xhat)) per image and channel."""
    c = scale.size
    members = {}
    for idx in np.ndindex(*x.shape):
        members.setdefault((idx[0], _channel_of(idx, order)), []).append(idx)
    dx = np.zeros(x.shape)
    dscale, dbias = np.zeros(c), np.zeros(c)
    for (i, ch), idxs in members.items():
        xhat = {k: (x[k] - mean[i, ch]) * rstd[i, ch] for k in idxs}
        a = sum(dy[k] for k in idxs) / len(idxs)
        b = sum(dy[k] * xhat[k] for k in idxs) / len(idxs)
        for k in idxs:
            dx[k] = scale[ch] * rstd[i, ch] * (dy[k] - a - xhat[k] * b)
            dscale[ch] += dy[k] * xhat[k]
            dbias[ch] += dy[k]
    return [dx, dscale, dbias]


def _inputs(rng, n, c, spatial, order):
    x = rng.random((n, c, *spatial)).astype(np.float32)
    if order == "NHWC":
        x = np.ascontiguousarray(np.moveaxis(x, 1, -1))
    return x, rng.random(c).astype(np.float32), rng.random(c).astype(np.float32)


@settings(max_examples=12, deadline=None)
@given(n=st.integers(1, 3), c=st.integers(1, 4),
       spatial=st.lists(st.integers(1, 4), min_size=1, max_size=3),
       order=st.sampled_from(["NCHW", "NHWC"]), epsilon=st.floats(1e-6, 1e-4),
       outputs=st.integers(1, 3), seed=st.integers(0, 999))
def test_forward_matches_loops(n, c, spatial, order, epsilon, outputs, seed):
    x, s, b = _inputs(np.random.default_rng(seed), n, c, spatial, order)
    op = CreateOperator("InstanceNorm", ["input", "scale", "bias"],
                        ["output", "mean", "inv_stdev"][:outputs], order=order, epsilon=epsilon)
    testing.check_reference(op, [x, s, b],
                            lambda *a: naive_instance_norm(*a, epsilon, order, outputs),
                            atol=1e-4)


def test_layout_and_in_place():
    # Caffe2's test_instance_norm_layout: NCHW and NHWC agree after transposing
    x, s, b = _inputs(np.random.default_rng(5), 3, 4, (5, 7), "NCHW")
    ws = Workspace()
    for name, v in (("x", x), ("xt", np.ascontiguousarray(x.transpose(0, 2, 3, 1))),
                    ("s", s), ("b", b)):
        ws.feed_blob(name, v)
    ws.run_operator_once(CreateOperator("InstanceNorm", ["x", "s", "b"], ["x"]))
    ws.run_operator_once(CreateOperator("InstanceNorm", ["xt", "s", "b"], ["xt"], order="NHWC"))
    np.testing.assert_allclose(ws.fetch_blob("x"), ws.fetch_blob("xt").transpose(0, 3, 1, 2),
                               atol=1e-5)
    np.testing.assert_allclose(ws.fetch_blob("x"), naive_instance_norm(x, s, b, 1e-5, "NCHW")[0],
                               atol=1e-5)


def test_empty_batch_and_float64():
    op = CreateOperator("InstanceNorm", ["X", "s", "b"], ["Y", "m", "r"])
    x = np.zeros((0, 2, 3, 3))
    testing.check_reference(op, [x, np.ones(2), np.zeros(2)],
                            lambda *_: [x, np.zeros((0, 2)), np.zeros((0, 2))])
    x = np.random.default_rng(0).standard_normal((2, 3, 4))
    testing.check_reference(op, [x, np.ones(3), np.zeros(3)],
                            lambda *a: naive_instance_norm(*a, 1e-5, "NCHW"), atol=1e-12)


def test_shape_function():
    f4 = np.dtype(np.float32)
    x = TensorShape((2, 5, 5, 3), f4)
    op = CreateOperator("InstanceNorm", ["X", "s", "b"], ["Y", "m", "r"], order="NHWC")
    assert infer_op(op, [x, TensorShape(), TensorShape()]) == [
        x, TensorShape((2, 3), f4), TensorShape((2, 3), f4)]


def test_errors():
    x = np.zeros((1, 3, 2, 2), np.float32)
    three = np.ones(3, np.float32)
    op = CreateOperator("InstanceNorm", ["X", "s", "b"], ["Y"])
    testing.check_raises(op, [x, three, np.ones(2, np.float32)], ShapeError,
                         re.escape("bias.numel() == C. 2 vs 3"))
    testing.check_raises(op, [x, three.astype(np.float64), three], DTypeError,
                         "expects elements to be float while tensor contains double")
    testing.check_raises(op, [np.zeros(3, np.float32), three, three], ShapeError, "dim")
    testing.check_raises(op, [np.zeros((1, 3, 0), np.float32), three, three], ShapeError,
                         "at least one element")
    testing.check_raises(CreateOperator("InstanceNorm", ["X", "s", "b"], ["Y"], epsilon=-1.0),
                         [x, three, three], ArgumentError, "Must pass a nonnegative epsilon.")
    grad = CreateOperator("InstanceNormGradient", ["X", "s", "b", "dY", "m", "r"],
                          ["dX", "ds", "db"])
    stats = np.ones((1, 3), np.float32)
    testing.check_raises(grad, [x, three, three, np.zeros((1, 3, 2), np.float32), stats, stats],
                         ShapeError, re.escape("output_grad.sizes() == input.sizes()"))
    testing.check_raises(grad, [x, three, three, x, stats, np.ones(2, np.float32)], ShapeError,
                         re.escape("inv_stdev.numel() == N * C. 2 vs 3"))


@pytest.mark.parametrize("order", ["NCHW", "NHWC"])
@pytest.mark.parametrize("given_stats", [4, 5, 6])
def test_gradient_op_matches_loop(order, given_stats):
    rng = np.random.default_rng(6)
    x, s, b = (v.astype(np.float64) for v in _inputs(rng, 2, 3, (2, 3), order))
    dy = rng.standard_normal(x.shape)
    mean, rstd = naive_stats(x, 1e-5, order)
    ins = [x, s, b, dy, mean, rstd]
    if given_stats == 5:  # a lone saved mean is ignored, as in Caffe2: give a wrong one
        ins = ins[:4] + [mean + 100]
    ins = ins[:given_stats]
    op = CreateOperator("InstanceNormGradient", ["X", "s", "b", "dY", "m", "r"][:given_stats],
                        ["dX", "ds", "db"], order=order)
    testing.check_reference(op, ins, lambda *_: naive_gradient(x, s, dy, mean, rstd, order),
                            atol=1e-9)


@pytest.mark.parametrize("outputs", [1, 3])
@pytest.mark.parametrize("order", ["NCHW", "NHWC"])
def test_numeric_gradients(outputs, order):
    # Caffe2's test_instance_norm_gradients: gradients of input, scale, bias via output 0
    x, s, b = _inputs(np.random.default_rng(7), 2, 2, (2, 3), order)
    op = CreateOperator("InstanceNorm", ["input", "scale", "bias"],
                        ["output", "mean", "inv_stdev"][:outputs], order=order)
    testing.check_gradient(op, [x, s, b], [0, 1, 2], outputs=[0], atol=1e-4)


def test_gradient_op_lists():
    for outs, extra in ((["Y"], []), (["Y", "m"], ["m"]), (["Y", "m", "r"], ["m", "r"])):
        op = CreateOperator("InstanceNorm", ["X", "s", "b"], outs, epsilon=1e-3)
        grads, _ = GradientRegistry.GetBackwardPass([op], {"Y": "Y_grad"})
        assert [(g.type, list(g.input), list(g.output)) for g in grads] == [
            ("InstanceNormGradient", ["X", "s", "b", "Y_grad"] + extra,
             ["X_grad", "s_grad", "b_grad"])]


@pytest.mark.parametrize("order", ["NCHW", "NHWC"])
@pytest.mark.parametrize("is_test", [False, True])
def test_brew_helper(order, is_test):
    # Caffe2's test_instance_norm_cnn_helper: scale and bias of [C], output of X's shape
    from caffe2lite import brew, workspace
    from caffe2lite.model_helper import ModelHelper

    x = np.random.default_rng(8).random((2, 3, 5, 7)).astype(np.float32)
    if order == "NHWC":
        x = np.ascontiguousarray(x.transpose(0, 2, 3, 1))
    model = ModelHelper(name="inorm_helper")
    brew.instance_norm(model, "in_input", "in_output", 3, order=order, epsilon=1e-5,
                       is_test=is_test)
    workspace.FeedBlob("in_input", x)
    workspace.RunNetOnce(model.param_init_net)
    workspace.RunNetOnce(model.net)
    assert workspace.FetchBlob("in_output_s").shape == (3,)
    assert workspace.FetchBlob("in_output_b").shape == (3,)
    np.testing.assert_allclose(workspace.FetchBlob("in_output"),
                               naive_instance_norm(x, np.ones(3), np.zeros(3), 1e-5, order)[0],
                               atol=1e-5)
