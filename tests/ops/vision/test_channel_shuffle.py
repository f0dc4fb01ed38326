"""ChannelShuffle / ChannelShuffleGradient against an index loop in both orders
(Caffe2's channel_shuffle_test: N, G, K, H, W in 1..5), the gradient as the inverse
permutation, numeric gradients, Caffe2's gradient op, errors."""

from __future__ import annotations

import re

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import ArgumentError, DTypeError, ShapeError


def naive_shuffle(x, group, order):
    """Output channel k * G + g takes input channel g * K + k, element by element."""
    c = x.shape[1] if order == "NCHW" else x.shape[-1]
    k_count = c // group
    y = np.empty_like(x)
    for idx in np.ndindex(*x.shape):
        ch = idx[1] if order == "NCHW" else idx[-1]
        g, k = divmod(ch, k_count)
        out = list(idx)
        out[1 if order == "NCHW" else -1] = k * group + g
        y[tuple(out)] = x[idx]
    return y


@settings(max_examples=20, deadline=None)
@given(n=st.integers(1, 3), g=st.integers(1, 5), k=st.integers(1, 5),
       spatial=st.lists(st.integers(1, 3), min_size=0, max_size=2),
       order=st.sampled_from(["NCHW", "NHWC"]), seed=st.integers(0, 999))
def test_matches_loop_and_gradient_inverts(n, g, k, spatial, order, seed):
    rng = np.random.default_rng(seed)
    c = g * k
    x = rng.standard_normal((n, c, *spatial) if order == "NCHW" else (n, *spatial, c))
    x = x.astype(np.float32)
    y = testing.check_reference(CreateOperator("ChannelShuffle", ["X"], ["Y"], group=g,
                                               order=order), [x],
                                lambda a: [naive_shuffle(a, g, order)], atol=0)[0]
    testing.check_reference(CreateOperator("ChannelShuffleGradient", ["dY"], ["dX"], group=g,
                                           order=order), [y], lambda _: [x], atol=0)


def test_numeric_gradient_and_gradient_op():
    x = np.random.default_rng(0).standard_normal((2, 6, 2, 1))
    for order in ("NCHW", "NHWC"):
        op = CreateOperator("ChannelShuffle", ["X"], ["Y"], group=3, order=order)
        testing.check_gradient(op, [x if order == "NCHW" else x.transpose(0, 2, 3, 1)], 0)
    grads, _ = GradientRegistry.GetBackwardPass([op], {"Y": "Y_grad"})
    assert [(g.type, list(g.input), list(g.output)) for g in grads] == [
        ("ChannelShuffleGradient", ["Y_grad"], ["X_grad"])]
    assert {a.name: a.i for a in grads[0].arg if a.name == "group"} == {"group": 3}


def test_empty():
    for shape in ((0, 4, 2), (2, 0, 2), (2, 4, 0)):
        x = np.zeros(shape, np.float32)
        testing.check_reference(CreateOperator("ChannelShuffle", ["X"], ["Y"], group=2), [x],
                                lambda a: [a])


def test_errors():
    op = CreateOperator("ChannelShuffle", ["X"], ["Y"], group=4)
    testing.check_raises(op, [np.zeros((1, 6, 2), np.float32)], ShapeError,
                         re.escape("C % G == 0. 2 vs 0"))
    testing.check_raises(op, [np.zeros(4, np.float32)], ShapeError, "dim")
    testing.check_raises(op, [np.zeros((1, 4), np.int32)], DTypeError, "")
    testing.check_raises(CreateOperator("ChannelShuffle", ["X"], ["Y"], group=0),
                         [np.zeros((1, 4), np.float32)], ArgumentError, "group must be positive")
    testing.check_raises(CreateOperator("ChannelShuffleGradient", ["dY"], ["dX"], order="HW"),
                         [np.zeros((1, 4), np.float32)], ArgumentError, "StorageOrder::UNKNOWN")
