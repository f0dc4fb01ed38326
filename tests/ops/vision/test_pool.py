"""MaxPool / AveragePool (and aliases, gradients) against naive loops over output
positions, with pads, legacy padding, global pooling, 1-3 spatial dims and both
orders; numeric gradients."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import ArgumentError


def naive_pool(x, kernel, stride, heads, tails, kind, include_pad):
    nd = x.ndim - 2
    out = [(x.shape[2 + d] + heads[d] + tails[d] - kernel[d]) // stride[d] + 1 for d in range(nd)]
    y = np.zeros(x.shape[:2] + tuple(out))
    for n, c in itertools.product(range(x.shape[0]), range(x.shape[1])):
        for o in itertools.product(*[range(s) for s in out]):
            vals, padded = [], 0
            for k in itertools.product(*[range(s) for s in kernel]):
                pos = [o[d] * stride[d] - heads[d] + k[d] for d in range(nd)]
                if all(0 <= pos[d] < x.shape[2 + d] for d in range(nd)):
                    vals.append(x[(n, c, *pos)])
                elif all(-heads[d] <= pos[d] < x.shape[2 + d] + tails[d] for d in range(nd)):
                    padded += 1
            if kind == "max":
                y[(n, c, *o)] = max(vals)
            else:
                y[(n, c, *o)] = sum(vals) / (len(vals) + (padded if include_pad else 0))
    return y


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**16), st.sampled_from([1, 2, 3]), st.sampled_from(["max", "avg"]),
       st.sampled_from(["NCHW", "NHWC"]), st.booleans())
def test_matches_the_naive_loop(seed, nd, kind, order, include_pad):
    rng = np.random.default_rng(seed)
    kernel = [int(v) for v in rng.integers(1, 4, nd)]
    stride = [int(v) for v in rng.integers(1, 3, nd)]
    heads = [int(rng.integers(0, k)) for k in kernel]
    tails = [int(rng.integers(0, k)) for k in kernel]
    spatial = [int(rng.integers(max(1, kernel[d] - heads[d] - tails[d]), 6)) for d in range(nd)]
    x = rng.standard_normal((2, 3, *spatial)).astype(np.float32)
    want = naive_pool(x, kernel, stride, heads, tails, kind, include_pad)
    to = (lambda a: a) if order == "NCHW" else (lambda a: np.ascontiguousarray(np.moveaxis(a, 1, -1)))
    args = dict(kernels=kernel, strides=stride, pads=heads + tails, order=order)
    if kind == "avg":
        args["count_include_pad"] = include_pad
    op = CreateOperator("MaxPool" if kind == "max" else "AveragePool", ["X"], ["Y"], **args)
    testing.check_reference(op, [to(x)], lambda *_: [to(want).astype(np.float32)], atol=1e-5)


def test_global_pooling_and_aliases():
    x = np.arange(24, dtype=np.float32).reshape(1, 2, 3, 4)
    testing.check_reference(CreateOperator("AveragePool2D", ["X"], ["Y"], global_pooling=1), [x],
                            lambda x: [x.mean(axis=(2, 3), keepdims=True)])
    testing.check_reference(CreateOperator("MaxPool", ["X"], ["Y"], global_pooling=1, order="NHWC"),
                            [x], lambda x: [x.max(axis=(1, 2), keepdims=True)])
    testing.check_raises(CreateOperator("MaxPool", ["X"], ["Y"], global_pooling=1, stride=2), [x],
                         ArgumentError, "If global_pooling is set pad, dilation and stride shouldn't be set.")
    testing.check_raises(CreateOperator("MaxPool", ["X"], ["Y"]), [x], ArgumentError,
                         "you will need to set explicitly the kernel size")


def test_caffe_legacy_pooling_output_size():
    """legacy_pad=3 rounds up, as Caffe did (glow's maxpool_legacy_padding net)."""
    x = np.arange(9, dtype=np.float32).reshape(1, 3, 3, 1)
    (y,) = testing.check_reference(
        CreateOperator("MaxPool", ["X"], ["Y"], kernel=2, stride=1, pad=1, legacy_pad=3), [x],
        lambda x: [naive_pool(x, [2, 2], [1, 1], [1, 1], [1, 1], "max", False).astype(np.float32)])
    assert y.shape == (1, 3, 4, 2)
    x = np.arange(25, dtype=np.float32).reshape(1, 1, 5, 5)
    (y,) = testing.check_reference(
        CreateOperator("MaxPool", ["X"], ["Y"], kernel=2, stride=2, legacy_pad=3), [x],
        lambda x: [naive_pool(x, [2, 2], [2, 2], [0, 0], [1, 1], "max", False).astype(np.float32)])
    assert y.shape == (1, 1, 3, 3)


@pytest.mark.parametrize("op_type", ["MaxPool", "AveragePool", "AveragePool1D"])
def test_numeric_gradients(op_type):
    rng = np.random.default_rng(2)
    if op_type.endswith("1D"):
        x, args = rng.standard_normal((1, 2, 6)), dict(kernels=[3], strides=[2], pads=[1, 0])
    else:
        x = rng.permutation(48).reshape(1, 3, 4, 4).astype(np.float64)  # distinct: no max ties
        args = dict(kernel=2, stride=1, pad=1)
    op = CreateOperator(op_type, ["X"], ["Y"], **args)
    testing.check_gradient(op, [x], [0], eps=1e-3)
    grads, _ = GradientRegistry.GetBackwardPass([op], {"Y": "Y_grad"})
    assert [(g.type, list(g.input), list(g.output)) for g in grads] == [
        (op_type + "Gradient", ["X", "Y", "Y_grad"], ["X_grad"])]


def test_max_gradient_goes_to_every_tie():
    x = np.ones((1, 1, 2, 2), np.float32)
    op = CreateOperator("MaxPoolGradient", ["X", "Y", "dY"], ["dX"], kernel=2)
    testing.check_reference(op, [x, np.ones((1, 1, 1, 1), np.float32), np.full((1, 1, 1, 1), 2, np.float32)],
                            lambda *_: [np.full((1, 1, 2, 2), 2, np.float32)])
