"""LpPool and LpPoolGradient against naive loops over output positions (pooling_test's
cases: separate strides and pads, square pads, global pooling, both orders), p values,
edges, errors, the gradient maker's ops and numeric gradients."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import ArgumentError, DTypeError, ShapeError
from caffe2lite.schema import registry


def out_size(size, k, s, head, tail):
    return (size + head + tail - k) // s + 1


def naive_lp(x, p, kernel, stride, pads):
    """NCHW x; pads = (top, left, bottom, right). Window clipped to x."""
    n, c, h, w = x.shape
    oh = out_size(h, kernel[0], stride[0], pads[0], pads[2])
    ow = out_size(w, kernel[1], stride[1], pads[1], pads[3])
    y = np.zeros((n, c, oh, ow))
    for b, ch, i, j in itertools.product(range(n), range(c), range(oh), range(ow)):
        total = 0.0
        for a in range(kernel[0]):
            for d in range(kernel[1]):
                r, q = i * stride[0] - pads[0] + a, j * stride[1] - pads[1] + d
                if 0 <= r < h and 0 <= q < w:
                    total += abs(float(x[b, ch, r, q])) ** p
        y[b, ch, i, j] = total ** (1.0 / p)
    return y


def naive_lp_grad(x, y, dy, p, kernel, stride, pads):
    dx = np.zeros(x.shape)
    n, c, h, w = x.shape
    for b, ch, i, j in itertools.product(range(n), range(c), *map(range, y.shape[2:])):
        for a in range(kernel[0]):
            for d in range(kernel[1]):
                r, q = i * stride[0] - pads[0] + a, j * stride[1] - pads[1] + d
                if 0 <= r < h and 0 <= q < w:
                    v = float(x[b, ch, r, q])
                    dx[b, ch, r, q] += (
                        dy[b, ch, i, j]
                        * np.sign(v)
                        * abs(v) ** (p - 1)
                        / float(y[b, ch, i, j]) ** (p - 1)
                    )
    return dx


def nhwc(a):
    return np.ascontiguousarray(np.moveaxis(a, 1, -1))


def nchw(a):
    return np.ascontiguousarray(np.moveaxis(a, -1, 1))


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**16),
    order=st.sampled_from(["NCHW", "NHWC"]),
    p=st.sampled_from([1.0, 2.0, 3.0, 1.5]),
    kernel=st.integers(1, 4),
    stride=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    dtype=st.sampled_from([np.float32, np.float64]),
)
def test_forward_and_gradient_match_naive_loops(seed, order, p, kernel, stride, dtype):
    # pooling_test.test_pooling_separate_stride_pad: pad_t/l/b/r each < kernel.
    rng = np.random.default_rng(seed)
    pads = [int(v) for v in rng.integers(0, kernel, 4)]
    size = int(rng.integers(kernel, 7))
    x = (rng.random((2, 2, size, size + 1)) + 0.1).astype(dtype)
    x *= rng.choice([-1, 1], x.shape).astype(dtype)
    to, back = (lambda a: a, lambda a: a) if order == "NCHW" else (nhwc, nchw)
    op = CreateOperator(
        "LpPool",
        ["X"],
        ["Y"],
        p=p,
        kernel=kernel,
        stride_h=stride[0],
        stride_w=stride[1],
        pad_t=pads[0],
        pad_l=pads[1],
        pad_b=pads[2],
        pad_r=pads[3],
        order=order,
    )
    want = naive_lp(x, p, (kernel, kernel), stride, pads)
    (y,) = testing.check_reference(
        op, [to(x)], lambda _: [to(want).astype(dtype)], atol=1e-5, rtol=1e-4
    )
    dy = rng.standard_normal(want.shape).astype(dtype)
    grad = CreateOperator(
        "LpPoolGradient",
        ["X", "Y", "dY"],
        ["dX"],
        p=p,
        kernel=kernel,
        stride_h=stride[0],
        stride_w=stride[1],
        pad_t=pads[0],
        pad_l=pads[1],
        pad_b=pads[2],
        pad_r=pads[3],
        order=order,
    )
    dwant = naive_lp_grad(x, back(y), dy, p, (kernel, kernel), stride, pads)
    testing.check_reference(
        grad,
        [to(x), y, to(dy)],
        lambda *_: [to(dwant).astype(dtype)],
        atol=1e-4,
        rtol=1e-4,
    )


@pytest.mark.parametrize("order", ["NCHW", "NHWC"])
@pytest.mark.parametrize(
    "args",
    [
        {"kernel": 3, "stride": 2, "pad": 1},
        {"global_pooling": True},
        {"kernel": 2, "p": 3.0},
    ],
)
def test_caffe2_cases_numeric_gradient(order, args):
    # pooling_test.test_pooling / test_global_pooling: X = rand, gradient checked.
    rng = np.random.default_rng(1)
    x = rng.random((2, 3, 5, 5)) + 0.1
    if order == "NHWC":
        x = nhwc(x)
    op = CreateOperator("LpPool", ["X"], ["Y"], order=order, **args)
    testing.check_reference(op, [x], lambda a: [_reference(a, order, args)])
    testing.check_gradient(op, [x], 0)


def _reference(x, order, args):
    xc = x if order == "NCHW" else nchw(x)
    p = args.get("p", 2.0)
    if args.get("global_pooling"):
        y = (np.abs(xc) ** p).sum(axis=(2, 3), keepdims=True) ** (1 / p)
    else:
        k, s, pad = args["kernel"], args.get("stride", 1), args.get("pad", 0)
        y = naive_lp(xc, p, (k, k), (s, s), [pad] * 4)
    return y if order == "NCHW" else nhwc(y)


def test_batch_of_zero_and_zero_windows():
    op = CreateOperator("LpPool", ["X"], ["Y"], kernel=2)
    testing.check_reference(
        op,
        [np.zeros((0, 2, 3, 3), np.float32)],
        lambda x: [np.zeros((0, 2, 2, 2), np.float32)],
    )
    testing.check_reference(
        op,
        [np.zeros((1, 1, 2, 2), np.float32)],
        lambda x: [np.zeros((1, 1, 1, 1), np.float32)],
    )


def test_gradient_maker():
    op = CreateOperator("LpPool", ["X"], ["Y"], kernel=2, p=3.0)
    ops, grads = GradientRegistry.GetBackwardPass([op], {"Y": "Y_grad"})
    want = CreateOperator(
        "LpPoolGradient", ["X", "Y", "Y_grad"], ["X_grad"], kernel=2, p=3.0
    )
    want.is_gradient_op = True
    assert [o.SerializeToString() for o in ops] == [want.SerializeToString()]
    assert str(grads["X"]) == "X_grad"
    assert registry.GRADIENTS["LpPool"].kind == registry.MAKER
    assert registry.GRADIENTS["LpPoolGradient"].kind == registry.NOT_IMPLEMENTED_YET


def test_errors():
    x = np.ones((1, 1, 4, 4), np.float32)
    testing.check_raises(
        CreateOperator("LpPool", ["X"], ["Y"], kernel=2, dilation=2),
        [x],
        ArgumentError,
        r"dilation_\[i\] == 1\. 2 vs 1\. Pooling op does not support dilation right now\.",
    )
    testing.check_raises(
        CreateOperator("LpPool", ["X"], ["Y"], kernel=2, pad=2),
        [x],
        ArgumentError,
        r"pads_\[i\] < kernel_\[i\] && pads_\[i \+ kernel_size\] < kernel_\[i\]\. "
        r"Pad should be smaller than kernel\.",
    )
    testing.check_raises(
        CreateOperator("LpPool", ["X"], ["Y"], kernel=2),
        [np.ones((1, 1, 4), np.float32)],
        ShapeError,
        "LpPool pools two spatial dimensions: X must be 4-D",
    )
    testing.check_raises(
        CreateOperator("LpPool", ["X"], ["Y"], kernel=2),
        [x.astype(np.int32)],
        DTypeError,
        "caller expects elements to be float while tensor contains int",
    )
    testing.check_raises(
        CreateOperator("LpPool", ["X"], ["Y"]),
        [x],
        ArgumentError,
        "you will need to set explicitly the kernel size",
    )
    testing.check_raises(
        CreateOperator("LpPool", ["X"], ["Y"], kernel=5),
        [x],
        ShapeError,
        "The padded input is smaller than the",
    )
    grad = CreateOperator("LpPoolGradient", ["X", "Y", "dY"], ["dX"], kernel=2)
    y = np.ones((1, 1, 3, 3), np.float32)
    testing.check_raises(
        grad, [x, y[:, :, :2], y], ShapeError, "Y.sizes\\(\\) == pooled sizes"
    )
    testing.check_raises(
        grad, [x, y, y[:, :, :2]], ShapeError, "dY.sizes\\(\\) == Y.sizes\\(\\)"
    )
    testing.check_raises(
        grad,
        [x, y.astype(np.float64), y],
        DTypeError,
        "caller expects elements to be float while tensor contains double",
    )
