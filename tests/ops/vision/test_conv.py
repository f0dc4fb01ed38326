"""Conv / ConvGradient against a naive loop over output positions (written in NCHW
with explicit index arithmetic, unlike the kernel's strided windows), on random
shapes, groups, pads, strides, dilations, 1-3 spatial dimensions and both orders;
Caffe2's error messages; numeric gradients; the gradient op lists."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import ArgumentError, ShapeError
from caffe2lite.inference import infer_op, op_cost
from caffe2lite.schema.shapes import TensorShape


def naive_conv(x, w, b, stride, pads, dilation, group):
    """x (N, C, *S), w (M, C/G, *K): loop over every output index and kernel tap."""
    n, c = x.shape[:2]
    m = w.shape[0]
    nd = x.ndim - 2
    ks = w.shape[2:]
    heads, tails = pads[:nd], pads[nd:]
    out = [(x.shape[2 + d] + heads[d] + tails[d] - dilation[d] * (ks[d] - 1) - 1) // stride[d] + 1
           for d in range(nd)]
    y = np.zeros((n, m, *out))
    cg, mg = c // group, m // group
    for bi, mo in itertools.product(range(n), range(m)):
        g = mo // mg
        for o in itertools.product(*[range(s) for s in out]):
            acc = 0.0 if b is None else float(b[mo])
            for ci in range(cg):
                for k in itertools.product(*[range(s) for s in ks]):
                    pos = [o[d] * stride[d] - heads[d] + k[d] * dilation[d] for d in range(nd)]
                    if all(0 <= pos[d] < x.shape[2 + d] for d in range(nd)):
                        acc += float(x[(bi, g * cg + ci, *pos)]) * float(w[(mo, ci, *k)])
            y[(bi, mo, *o)] = acc
    return y


@st.composite
def conv_cases(draw):
    nd = draw(st.sampled_from([1, 2, 2, 3]))
    group = draw(st.sampled_from([1, 1, 2]))
    n = draw(st.integers(1, 2))
    c = group * draw(st.integers(1, 2))
    m = group * draw(st.integers(1, 2))
    ks = [draw(st.integers(1, 3)) for _ in range(nd)]
    stride = [draw(st.integers(1, 2)) for _ in range(nd)]
    dilation = [1] * nd if group > 1 else [draw(st.integers(1, 2)) for _ in range(nd)]
    pads = [draw(st.integers(0, 2)) for _ in range(2 * nd)]
    spatial = [draw(st.integers(max(1, dilation[d] * (ks[d] - 1) + 1 - pads[d] - pads[nd + d]), 5))
               for d in range(nd)]
    order = draw(st.sampled_from(["NCHW", "NHWC"]))
    bias = draw(st.booleans())
    seed = draw(st.integers(0, 2**16))
    return nd, group, n, c, m, ks, stride, dilation, pads, spatial, order, bias, seed


def _to_order(a, order):
    return a if order == "NCHW" else np.ascontiguousarray(np.moveaxis(a, 1, -1))


@settings(max_examples=40, deadline=None)
@given(conv_cases())
def test_conv_matches_the_naive_loop(case):
    nd, group, n, c, m, ks, stride, dilation, pads, spatial, order, bias, seed = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c, *spatial)).astype(np.float32)
    w = rng.standard_normal((m, c // group, *ks)).astype(np.float32)
    b = rng.standard_normal(m).astype(np.float32) if bias else None
    want = naive_conv(x, w, b, stride, pads, dilation, group)
    op = CreateOperator("Conv", ["X", "W", "b"] if bias else ["X", "W"], ["Y"], kernels=ks,
                        strides=stride, pads=pads, dilations=dilation, group=group, order=order)
    inputs = [_to_order(x, order), _to_order(w, order)] + ([b] if bias else [])
    testing.check_reference(op, inputs, lambda *_: [_to_order(want, order).astype(np.float32)],
                            atol=1e-4, rtol=1e-4)
    (shape,) = infer_op(op, [TensorShape(a.shape, a.dtype) for a in inputs])
    assert shape.dims == _to_order(want, order).shape and shape.dtype == np.float32


def test_glow_conv_values_and_the_scalar_arguments():
    x = np.arange(9, dtype=np.float32).reshape(1, 1, 3, 3)
    w = np.ones((1, 1, 2, 2), np.float32)
    op = CreateOperator("Conv", ["X", "W", "b"], ["Y"], kernel=2, pad=1, dilations=[2, 2])
    testing.check_reference(op, [x, w, np.array([2.0], np.float32)], lambda *_: [
        np.array([6, 10, 6, 10, 18, 10, 6, 10, 6], np.float32).reshape(1, 1, 3, 3)])
    # pad_t/l/b/r and kernel_h/kernel_w, stride_h/stride_w
    op = CreateOperator("Conv", ["X", "W"], ["Y"], kernel_h=2, kernel_w=1, pad_t=1, pad_l=0,
                        pad_b=0, pad_r=0, stride_h=2, stride_w=1)
    w2 = np.ones((1, 1, 2, 1), np.float32)
    want = naive_conv(x, w2, None, [2, 1], [1, 0, 0, 0], [1, 1], 1)
    testing.check_reference(op, [x, w2], lambda *_: [want.astype(np.float32)])


@pytest.mark.parametrize("order", ["NCHW", "NHWC"])
def test_an_empty_batch_gives_an_empty_output(order):
    # After RoI ops a batch of 0 boxes is common (Mask R-CNN heads): Y is (0, M, H, W).
    x = np.zeros((0, 8, 6, 6) if order == "NCHW" else (0, 6, 6, 8), np.float32)
    w = np.ones((4, 8, 3, 3) if order == "NCHW" else (4, 3, 3, 8), np.float32)
    op = CreateOperator("Conv", ["X", "W", "b"], ["Y"], kernel=3, pad=1, order=order)
    want = np.zeros((0, 4, 6, 6) if order == "NCHW" else (0, 6, 6, 4), np.float32)
    testing.check_reference(op, [x, w, np.ones(4, np.float32)], lambda *_: [want])


def test_the_kernel_comes_from_the_filter_when_not_given():
    x = np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4)
    w = np.ones((2, 1, 3, 3), np.float32)
    op = CreateOperator("Conv", ["X", "W"], ["Y"])
    testing.check_reference(op, [x, w], lambda *_: [naive_conv(x, w, None, [1, 1], [0] * 4,
                                                               [1, 1], 1).astype(np.float32)])


@pytest.mark.parametrize("legacy,want", [(1, (1, 1, 2, 2)), (2, (1, 1, 3, 3))])
def test_legacy_padding_valid_and_same(legacy, want):
    x = np.ones((1, 1, 5, 5), np.float32)
    w = np.ones((1, 1, 3, 3), np.float32)
    ws = testing.check_reference(
        CreateOperator("Conv", ["X", "W"], ["Y"], kernel=3, stride=2, legacy_pad=legacy),
        [x, w], lambda *_: [naive_conv(x, w, None, [2, 2], [0, 0, 0, 0] if legacy == 1
                                       else [1, 1, 1, 1], [1, 1], 1).astype(np.float32)])
    assert ws[0].shape == want


def test_errors_have_caffe2s_messages():
    x = np.zeros((1, 3, 4, 4), np.float32)
    testing.check_raises(CreateOperator("Conv", ["X", "W"], ["Y"], kernel=2), [x, np.zeros((2, 2, 2, 2), np.float32)],
                         ShapeError, r"Convolution op: input channels does not match: # of input "
                         r"channels 3 is not equal to kernel channels \* group: 2\*1")
    testing.check_raises(CreateOperator("Conv", ["X", "W"], ["Y"], kernel=3),
                         [x, np.zeros((2, 3, 2, 2), np.float32)], ShapeError,
                         r"filter.dim32\(2\) == kernel_\[0\]. 2 vs 3")
    testing.check_raises(CreateOperator("Conv", ["X", "W"], ["Y"], kernel=2, group=2),
                         [np.zeros((1, 4, 4, 4), np.float32), np.zeros((3, 2, 2, 2), np.float32)],
                         ShapeError, r"The number of output channels is not divisible by group")
    testing.check_raises(CreateOperator("Conv", ["X", "W"], ["Y"], kernel=2, pad=1, legacy_pad=2),
                         [x, np.zeros((2, 3, 2, 2), np.float32)], ArgumentError,
                         r"If you use legacy padding VALID or SAME, you should not specify any")
    testing.check_raises(CreateOperator("Conv", ["X", "W"], ["Y"], kernel=5),
                         [x, np.zeros((2, 3, 5, 5), np.float32)], ShapeError, r"dkernel")
    testing.check_raises(CreateOperator("Conv", ["X", "W"], ["Y"], kernel=2),
                         [x.astype(np.int32), np.zeros((2, 3, 2, 2), np.int32)], Exception,
                         r"X")


def test_nhwc_filter_that_cannot_match_its_kernel_is_refused():
    """glow's conv_nhwc net: an NHWC filter (M, kh, kw, C) of shape (1, 1, 2, 2) for a
    kernel of 2 and 1 input channel; Caffe2 refuses it."""
    testing.check_raises(CreateOperator("Conv", ["X", "W", "b"], ["Y"], kernel=2, pad=1, order="NHWC"),
                         [np.zeros((1, 3, 3, 1), np.float32), np.ones((1, 1, 2, 2), np.float32),
                          np.zeros(1, np.float32)], ShapeError, r"input channels does not match")


@pytest.mark.parametrize("order", ["NCHW", "NHWC"])
@pytest.mark.parametrize("bias", [True, False])
def test_numeric_gradients(order, bias):
    rng = np.random.default_rng(3)
    x = _to_order(rng.standard_normal((2, 4, 4, 3)), order)
    w = _to_order(rng.standard_normal((4, 2, 2, 2)), order)
    inputs = [x, w] + ([rng.standard_normal(4)] if bias else [])
    op = CreateOperator("Conv", ["X", "W", "b"][:len(inputs)], ["Y"], kernel=2, stride=1,
                        pads=[1, 0, 0, 1], group=2, order=order)
    testing.check_gradient(op, inputs, list(range(len(inputs))))


def test_dilated_3d_gradient():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((1, 1, 4, 3, 4))
    w = rng.standard_normal((2, 1, 2, 2, 2))
    op = CreateOperator("Conv3D", ["X", "W"], ["Y"], kernels=[2, 2, 2], dilations=[2, 1, 1],
                        pads=[0, 1, 0, 0, 0, 1])
    testing.check_gradient(op, [x, w], [0, 1])


@pytest.mark.parametrize("order", ["NCHW", "NHWC"])
def test_grouped_dilated_conv(order):
    """Regression (Caffe2's conv_test test_convolution_gradients, group=2 with dilation):
    the CPU Conv allows dilation with groups (only cuDNN before 7.1 refused it)."""
    rng = np.random.default_rng(6)
    x = rng.standard_normal((2, 4, 7, 6)).astype(np.float32)
    w = rng.standard_normal((6, 2, 2, 3)).astype(np.float32)
    b = rng.standard_normal(6).astype(np.float32)
    want = naive_conv(x, w, b, [1, 2], [1, 0, 1, 2], [2, 3], 2)
    op = CreateOperator("Conv", ["X", "W", "b"], ["Y"], kernels=[2, 3], strides=[1, 2],
                        pads=[1, 0, 1, 2], dilations=[2, 3], group=2, order=order)
    inputs = [_to_order(x, order), _to_order(w, order), b]
    testing.check_reference(op, inputs, lambda *_: [_to_order(want, order).astype(np.float32)],
                            atol=1e-4, rtol=1e-4)
    testing.check_gradient(op, [a.astype(np.float64) for a in inputs], [0, 1, 2])


def test_gradient_ops_are_caffe2s():
    for inputs, args, want_outs, extra in (
            (["X", "W", "b"], {}, ["W_grad", "b_grad", "X_grad"], []),
            (["X", "W"], {}, ["W_grad", "X_grad"], ["no_bias"]),
            (["X", "W"], {"no_gradient_to_input": 1}, ["W_grad"], ["no_bias"])):
        op = CreateOperator("Conv", inputs, ["Y"], kernel=2, **args)
        grads, _ = GradientRegistry.GetBackwardPass([op], {"Y": "Y_grad"})
        assert [(g.type, list(g.input), list(g.output)) for g in grads] == [
            ("ConvGradient", ["X", "W", "Y_grad"], want_outs)]
        names = [a.name for a in grads[0].arg]
        assert names[:len(extra)] == extra and "kernel" in names


def test_conv_cost_is_caffe2s():
    op = CreateOperator("Conv", ["X", "W"], ["Y"], kernel=3, pad=1)
    cost = op_cost(op, [TensorShape((1, 64, 56, 56), np.float32),
                        TensorShape((64, 64, 3, 3), np.float32)])
    assert cost.flops == 56 * 56 * 3 * 3 * 64 * 64 * 2


def test_conv_gradient_outputs_without_dx():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, 1, 3, 3)).astype(np.float32)
    w = rng.standard_normal((1, 1, 2, 2)).astype(np.float32)
    dy = rng.standard_normal((1, 1, 2, 2)).astype(np.float32)
    op = CreateOperator("ConvGradient", ["X", "W", "dY"], ["dW"], kernel=2, no_bias=1)

    def ref(x, w, dy):
        dw = np.zeros((1, 1, 2, 2))
        for i, j, a, b in itertools.product(range(2), range(2), range(2), range(2)):
            dw[0, 0, a, b] += dy[0, 0, i, j] * x[0, 0, i + a, j + b]
        return [dw.astype(np.float32)]

    testing.check_reference(op, [x, w, dy], ref, atol=1e-5)
