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
from caffe2lite.workspace import Workspace

OP = "SigmoidCrossEntropyWithLogits"


def sig(v):
    return 1.0 / (1.0 + math.exp(-v))


def per_element(x, t, mode):
    """The log-likelihood of one element, written with plain logs."""
    if mode == "log_D_trick":
        return (2 * t - 1) * math.log(sig(x))
    if mode == "unjoined_lr_loss":
        return t * x - (1 - t) * math.log(1 + math.exp(x))
    return t * math.log(sig(x)) + (1 - t) * math.log(1 - sig(x))


def per_element_grad(x, t, mode):
    if mode == "log_D_trick":
        return (2 * t - 1) * (1 - sig(x))
    if mode == "unjoined_lr_loss":
        return t - (1 - t) * sig(x)
    return t - sig(x)


def xr_shape(x):
    return (-1, x.shape[-1] if x.ndim else 1)


def naive(x, t, mode):
    """Row by row: minus the mean log-likelihood over the last dimension."""
    xr, tr = x.reshape(xr_shape(x)), t.reshape(xr_shape(x))
    out = [-sum(per_element(a, b, mode) for a, b in zip(r, s)) / xr.shape[1]
           for r, s in zip(xr.tolist(), tr.tolist())]
    return [np.array(out, dtype=x.dtype).reshape(x.shape[:-1] if x.ndim else ())]


def naive_grad(g, x, t, mode):
    xr, tr = x.reshape(xr_shape(x)), t.reshape(xr_shape(x))
    d = xr.shape[1]
    gr = g.reshape(-1).tolist()
    out = [[-gr[i] / d * per_element_grad(a, b, mode) for a, b in zip(r, s)]
           for i, (r, s) in enumerate(zip(xr.tolist(), tr.tolist()))]
    return [np.array(out, dtype=x.dtype).reshape(x.shape)]


MODES = ["plain", "log_D_trick", "unjoined_lr_loss"]


def make(mode, grad=False):
    kw = {} if mode == "plain" else {mode: 1}
    if grad:
        return CreateOperator(OP + "Gradient", ["g", "X", "T"], ["dX"], **kw)
    return CreateOperator(OP, ["X", "T"], ["Y"], **kw)


@settings(max_examples=30, deadline=None)
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3), mode=st.sampled_from(MODES),
       dtype=st.sampled_from([np.float32, np.float64]), seed=st.integers(0, 2**16))
def test_matches_naive_loop(shape, mode, dtype, seed):
    rng = np.random.default_rng(seed)
    x = (3 * rng.standard_normal(shape)).astype(dtype)
    t = rng.random(shape).astype(dtype)
    y = testing.check_reference(make(mode), [x, t], lambda *v: naive(*v, mode), atol=1e-5,
                                rtol=1e-4)[0]
    g = np.asarray(rng.standard_normal(y.shape), dtype=dtype)
    testing.check_reference(make(mode, grad=True), [g, x, t],
                            lambda *v: naive_grad(*v, mode), atol=1e-6, rtol=1e-4)


def test_extreme_logits_stay_finite():
    x = np.array([[-200.0, 200.0]], np.float32)
    t = np.array([[0.0, 1.0]], np.float32)
    y = testing.check_reference(make("plain"), [x, t], lambda *v: [np.zeros(1, np.float32)])[0]
    assert np.isfinite(y).all()
    testing.check_reference(make("plain", grad=True), [np.ones(1, np.float32), x, t],
                            lambda *v: [np.zeros((1, 2), np.float32)])


def test_scalar_input_gives_a_scalar():
    out = testing.check_reference(make("plain"), [np.array(0.0), np.array(1.0)],
                                  lambda *v: [np.array(math.log(2))])
    assert out[0].shape == ()


def test_errors():
    x = np.zeros((2, 3), np.float32)
    testing.check_raises(make("plain"), [x, np.zeros((2, 4), np.float32)], ShapeError,
                         re.escape("logits.sizes() == targets.sizes(). [2, 3] vs [2, 4]"))
    testing.check_raises(make("plain"), [x, np.zeros((2, 3), np.float64)], DTypeError,
                         "caller expects elements to be float while tensor contains double")
    both = CreateOperator(OP, ["X", "T"], ["Y"], log_D_trick=1, unjoined_lr_loss=1)
    testing.check_raises(both, [x, x], ArgumentError,
                         "log_D_trick_ and unjoined_lr_loss_ cannot be set as True simultaneously")
    testing.check_raises(make("plain", grad=True), [np.ones(3, np.float32), x, x], ShapeError,
                         re.escape("g.numel() == outer_size"))


@pytest.mark.parametrize("mode", MODES)
def test_numeric_gradient(mode):
    rng = np.random.default_rng(12)
    x, t = rng.standard_normal((3, 4)), rng.random((3, 4))
    testing.check_gradient(make(mode), [x, t], 0)


def test_gradient_ops_list():
    op = CreateOperator(OP, ["X", "T"], ["Y"], log_D_trick=1)
    ops, _ = GradientRegistry.GetBackwardPass([op], {"Y": "Y_grad"})
    want = CreateOperator(OP + "Gradient", ["Y_grad", "X", "T"], ["X_grad"], log_D_trick=1)
    want.is_gradient_op = True
    assert [o.SerializeToString() for o in ops] == [want.SerializeToString()]


def test_shape_inference():
    from caffe2lite.inference import infer_op
    from caffe2lite.schema.shapes import TensorShape

    f4 = np.dtype(np.float32)
    op = CreateOperator("SigmoidCrossEntropyWithLogits", ["L", "T"], ["X"])
    for dims, out in [
        ((4, 3), (4,)),
        ((2, 4, 3), (2, 4)),
        ((3,), ()),
        (("N", 3), ("N",)),
    ]:
        x = TensorShape(dims, f4)
        assert infer_op(op, [x, x]) == [TensorShape(out, f4)]
    grad = CreateOperator(
        "SigmoidCrossEntropyWithLogitsGradient", ["g", "L", "T"], ["dL"]
    )
    x = TensorShape((4, 3), f4)
    assert infer_op(grad, [TensorShape((4,), f4), x, x]) == [x]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(6, 1), (3, 4), (5,)])
def test_bits_of_caffe2s_formula(shape, dtype):
    """The plain loss and its gradient give exactly the bits of Caffe2's expressions
    evaluated term by term, infinities included (a -inf logit gives NaN through
    lgt - 2·lgt·(lgt >= 0), as in Caffe2)."""
    rng = np.random.default_rng(len(shape))
    x = (rng.standard_normal(shape) * 30).astype(dtype)
    t = rng.random(shape).astype(dtype)
    flat = x.reshape(-1)
    flat[:3] = [np.inf, -np.inf, -0.0]
    g = rng.standard_normal(shape[:-1]).astype(dtype)
    pos = (x >= 0).astype(dtype)
    with np.errstate(invalid="ignore", over="ignore"):
        want = -np.sum(x * (t - pos) - np.log1p(np.exp(x - 2 * x * pos)), axis=-1,
                       dtype=dtype) / dtype(shape[-1])
        want_grad = (-g.reshape(shape[:-1] + (1,)) / dtype(shape[-1])) * (
            t - 1 / (1 + np.exp(-x)))
        ws = Workspace()
        for name, value in (("X", x), ("T", t), ("G", g)):
            ws.feed_blob(name, value)
        ws.run_operator_once(CreateOperator(OP, ["X", "T"], ["Y"]))
        ws.run_operator_once(CreateOperator(OP + "Gradient", ["G", "X", "T"], ["dX"]))
    got, got_grad = ws.fetch_blob("Y"), ws.fetch_blob("dX")
    assert got.dtype == dtype and got.shape == shape[:-1]
    assert np.asarray(got).tobytes() == np.asarray(want, dtype).tobytes()
    assert got_grad.dtype == dtype
    assert got_grad.tobytes() == np.asarray(want_grad, dtype).tobytes()
