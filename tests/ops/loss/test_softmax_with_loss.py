from __future__ import annotations

import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import core, testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import ArgumentError, DTypeError, EnforceError, ShapeError
from caffe2lite.workspace import Workspace


def naive_softmax_with_loss(x, t, w=None, axis=1, scale=1.0, label_prob=0):
    ax = axis % x.ndim
    n, d = int(np.prod(x.shape[:ax])), int(np.prod(x.shape[ax:]))
    xf = x.reshape(-1).tolist()
    probs, loss_sum, weight_sum = [], 0.0, 0.0
    for i in range(n):
        row = xf[i * d:(i + 1) * d]
        top = max(row)
        exps = [math.exp(v - top) for v in row]
        total = sum(exps)
        p = [e / total for e in exps]
        probs.extend(p)
        wi = 1.0 if w is None else float(w.reshape(-1)[i])
        if label_prob:
            lab = t.reshape(n, d)[i]
            loss_sum += wi * -sum(lab[j] * math.log(max(p[j], 1e-20)) for j in range(d))
        else:
            loss_sum += wi * -math.log(p[int(t.reshape(-1)[i])])
        weight_sum += wi
    avg = loss_sum * scale / weight_sum if weight_sum != 0 else 0.0
    return [np.array(probs, x.dtype).reshape(x.shape), np.array(avg, x.dtype)]


def naive_gradient(x, t, w, p, dy, axis=1, scale=1.0, label_prob=0):
    ax = axis % x.ndim
    n, d = int(np.prod(x.shape[:ax])), int(np.prod(x.shape[ax:]))
    pf = p.reshape(n, d).tolist()
    out, total = [], 0.0
    for i in range(n):
        wi = 1.0 if w is None else float(w.reshape(-1)[i])
        for j in range(d):
            target = t.reshape(n, d)[i, j] if label_prob else float(j == t.reshape(-1)[i])
            out.append((pf[i][j] - target) * wi)
        total += wi
    factor = scale / total * float(dy) if total > 0 else 1.0
    return [np.array([v * factor for v in out], x.dtype).reshape(x.shape)]


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 4), d=st.integers(1, 5), weighted=st.booleans(), label_prob=st.booleans(),
       scale=st.sampled_from([1.0, 0.5, 3.0]), dtype=st.sampled_from([np.float32, np.float64]),
       seed=st.integers(0, 2**16))
def test_matches_naive_loop(n, d, weighted, label_prob, scale, dtype, seed):
    # softmax_ops_test.py: test_softmax_with_loss, _weighted, _label_prob, scale
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal((n, d)) * 3).astype(dtype)
    if label_prob:
        t = rng.uniform(0.1, 1, (n, d))
        t = (t / t.sum(axis=1, keepdims=True)).astype(dtype)
    else:
        t = rng.integers(0, d, n).astype(np.int32)
    inputs = [x, t] + ([rng.uniform(0, 2, n).astype(dtype)] if weighted else [])
    names = ["X", "T", "W"][:len(inputs)]
    op = CreateOperator("SoftmaxWithLoss", names, ["P", "loss"], scale=scale,
                        label_prob=int(label_prob))
    p, _ = testing.check_reference(
        op, inputs, lambda x, t, w=None: naive_softmax_with_loss(x, t, w, 1, scale, label_prob),
        atol=1e-5, rtol=1e-4)
    dy = np.array(rng.standard_normal(), dtype)
    grad = CreateOperator("SoftmaxWithLossGradient", names + ["P", "dY"], ["dX"], scale=scale,
                          label_prob=int(label_prob))
    testing.check_reference(
        grad, inputs + [p, dy],
        lambda x, t, *r: naive_gradient(x, t, r[0] if weighted else None, r[-2], r[-1], 1, scale,
                                        label_prob), atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("axis,x_shape,t_shape", [
    (1, (2, 3, 2), (2,)), (2, (2, 3, 4), (2, 3)), (2, (2, 3, 4), (2, 3, 1)), (-1, (2, 3), (2,)),
    (0, (3,), ())])
def test_axis(axis, x_shape, t_shape):
    # softmax_ops_test.py: test_softmax_with_loss with axis (labels X.shape[:axis])
    rng = np.random.default_rng(5)
    x = rng.standard_normal(x_shape)
    ax = axis % len(x_shape)
    d = int(np.prod(x_shape[ax:]))
    t = rng.integers(0, d, t_shape).astype(np.int32)
    op = CreateOperator("SoftmaxWithLoss", ["X", "T"], ["P", "loss"], axis=axis)
    testing.check_reference(op, [x, t], lambda x, t: naive_softmax_with_loss(x, t, axis=axis))


def test_zero_weights_give_zero_loss():
    op = CreateOperator("SoftmaxWithLoss", ["X", "T", "W"], ["P", "loss"])
    out = testing.check_reference(
        op, [np.zeros((2, 2)), np.array([0, 1], np.int32), np.zeros(2)],
        lambda *v: [np.full((2, 2), 0.5), np.array(0.0)])
    assert out[1].shape == ()


def test_large_logits_are_stable():
    op = CreateOperator("SoftmaxWithLoss", ["X", "T"], ["P", "loss"])
    x = np.array([[1000.0, 0.0], [0.0, -1000.0]], np.float32)
    testing.check_reference(op, [x, np.array([1, 1], np.int32)],
                            lambda *v: [np.array([[1, 0], [1, 0]], np.float32),
                                        np.array(1000.0, np.float32)])


def test_errors():
    op = CreateOperator("SoftmaxWithLoss", ["X", "T"], ["P", "loss"])
    x = np.zeros((2, 3), np.float32)
    testing.check_raises(op, [x, np.array([0, 3], np.int32)], EnforceError,
                         re.escape("Label seems incorrect: label value larger than number of "
                                   "classes: 3 vs 3"))
    testing.check_raises(op, [x, np.array([0, 1, 2], np.int32)], ShapeError,
                         re.escape("T.numel() == N. 3 vs 2"))
    testing.check_raises(op, [x, np.zeros((2, 2), np.int32)], ShapeError,
                         re.escape("T.size_from_dim(canonical_axis) == 1. 2 vs 1"))
    testing.check_raises(op, [x, np.zeros(2, np.int64)], DTypeError,
                         "caller expects elements to be int while tensor contains long")
    prob = CreateOperator("SoftmaxWithLoss", ["X", "T"], ["P", "loss"], label_prob=1)
    testing.check_raises(prob, [x, np.full((2, 3), 0.5, np.float32)], EnforceError,
                         re.escape("Label prob seems incorrect: label prob values do not sum to "
                                   "1.0: 1.5 vs 1.0 (+/- 1e-5)"))
    testing.check_raises(prob, [x, np.array([[1.5, -0.5, 0], [0, 0, 1]], np.float32)],
                         EnforceError, re.escape("label prob value must be nonnegative: -0.5"))
    testing.check_raises(prob, [x, np.full(6, 0.5, np.float32)], ShapeError,
                         re.escape("T.dim() >= 2. 1 vs 2"))
    weighted = CreateOperator("SoftmaxWithLoss", ["X", "T", "W"], ["P", "loss"])
    testing.check_raises(weighted, [x, np.zeros(2, np.int32), np.ones(3, np.float32)], ShapeError,
                         re.escape("weight_tensor.numel() == N. 3 vs 2"))
    bad_scale = CreateOperator("SoftmaxWithLoss", ["X", "T"], ["P", "loss"], scale=-1.0)
    with pytest.raises(ArgumentError, match=re.escape("scale_ >= 0")):
        testing.check_reference(bad_scale, [x, np.zeros(2, np.int32)], lambda *v: v)
    nhwc = CreateOperator("SoftmaxWithLoss", ["X", "T"], ["P", "loss"], order="NHWC")
    with pytest.raises(ArgumentError, match="Only NCHW order is supported right now."):
        testing.check_reference(nhwc, [x, np.zeros(2, np.int32)], lambda *v: v)
    grad = CreateOperator("SoftmaxWithLossGradient", ["X", "T", "P", "dY"], ["dX"])
    testing.check_raises(grad, [x, np.array([0, 7], np.int32), x, np.array(1, np.float32)],
                         EnforceError, "label value larger than number of classes: 7 vs 3")
    testing.check_raises(grad, [x, np.array([0, 1], np.int32), x, np.ones(2, np.float32)],
                         ShapeError, re.escape("d_avg_loss.numel() == 1. 2 vs 1"))


@pytest.mark.parametrize("weighted,label_prob", [(False, 0), (True, 0), (False, 1), (True, 1)])
def test_numeric_gradient(weighted, label_prob):
    rng = np.random.default_rng(6)
    x = rng.standard_normal((3, 4))
    if label_prob:
        t = rng.uniform(0.1, 1, (3, 4))
        t /= t.sum(axis=1, keepdims=True)
    else:
        t = np.array([0, 3, 1], np.int32)
    inputs = [x, t] + ([rng.uniform(0.5, 2, 3)] if weighted else [])
    op = CreateOperator("SoftmaxWithLoss", ["X", "T", "W"][:len(inputs)], ["P", "loss"],
                        label_prob=label_prob, scale=2.0)
    testing.check_gradient(op, inputs, [0], outputs=[1])


def test_gradient_ops_list():
    op = CreateOperator("SoftmaxWithLoss", ["X", "T"], ["P", "loss"], scale=2.0)
    ops, _ = GradientRegistry.GetBackwardPass([op], {"loss": "loss_grad"})
    want = CreateOperator("SoftmaxWithLossGradient", ["X", "T", "P", "loss_grad"], ["X_grad"],
                          scale=2.0)
    want.is_gradient_op = True
    assert [o.SerializeToString() for o in ops] == [want.SerializeToString()]
    op = CreateOperator("SoftmaxWithLoss", ["X", "T", "W"], ["P", "loss"])
    ops, _ = GradientRegistry.GetBackwardPass([op], {"loss": "loss_grad"})
    want = CreateOperator("SoftmaxWithLossGradient", ["X", "T", "W", "P", "loss_grad"],
                          ["X_grad"])
    want.is_gradient_op = True
    assert [o.SerializeToString() for o in ops] == [want.SerializeToString()]


def test_spatial_mode_is_the_spatial_loss():
    """Caffe2's SoftmaxWithLoss had ``spatial`` before SpatialSoftmaxWithLoss took it
    over: the same per-pixel loss (scale on the gradient only), its own message."""
    rng = np.random.default_rng(8)
    x = rng.standard_normal((2, 3, 2, 2)).astype(np.float32)
    t = rng.integers(-1, 3, (2, 2, 2)).astype(np.int32)
    w = rng.uniform(0, 2, (2, 2, 2)).astype(np.float32)
    dy = np.array(0.5, np.float32)
    for inputs, names in [([x, t], ["X", "T"]), ([x, t, w], ["X", "T", "W"])]:
        op = CreateOperator("SoftmaxWithLoss", names, ["P", "loss"], spatial=1, scale=3.0)
        p, _ = testing.check_reference(op, inputs, _spatial_reference, atol=1e-6)
        alone = CreateOperator("SpatialSoftmaxWithLossGradient", names + ["P", "dY"], ["dX"],
                               scale=3.0)
        ws = Workspace()
        for name, value in zip(alone.input, inputs + [p, dy]):
            ws.feed_blob(name, value)
        ws.run(alone)
        want = ws.fetch_blob("dX")
        grad = CreateOperator("SoftmaxWithLossGradient", names + ["P", "dY"], ["dX"], spatial=1,
                              scale=3.0)
        testing.check_reference(grad, inputs + [p, dy], lambda *v: [want], atol=0, rtol=0)


def _spatial_reference(x, t, w=None):
    n, d, h, wd = x.shape
    probs = np.zeros(x.shape, x.dtype)
    loss, total = 0.0, 0.0
    for i in range(n):
        for y in range(h):
            for c in range(wd):
                col = [math.exp(float(x[i, k, y, c])) for k in range(d)]
                for k in range(d):
                    probs[i, k, y, c] = col[k] / sum(col)
                if t[i, y, c] != -1:
                    wt = 1.0 if w is None else float(w[i, y, c])
                    loss += -math.log(col[t[i, y, c]] / sum(col)) * wt
                    total += wt
    return [probs, np.array(loss / total if total else 0.0, x.dtype)]


def test_spatial_mode_errors():
    x = np.zeros((1, 2, 1, 1), np.float32)
    op = CreateOperator("SoftmaxWithLoss", ["X", "T"], ["P", "loss"], spatial=1)
    testing.check_raises(op, [x, np.full((1, 1, 1), 2, np.int32)], EnforceError,
                         re.escape("Label seems incorrect: label value larger than number of "
                                   "classes: 2 vs 2"))
    bad_axis = CreateOperator("SoftmaxWithLoss", ["X", "T"], ["P", "loss"], spatial=1, axis=2)
    testing.check_raises(bad_axis, [x, np.zeros((1, 1, 1), np.int32)], ArgumentError,
                         re.escape("There is no support for non-standard axis (!= 1) in spatial "
                                   "mode"))


def test_trains_in_a_net_with_the_registry_gradients():
    """FC -> SoftmaxWithLoss, gradients from AddGradientOperators: W's gradient matches
    central differences of the loss, and plain SGD lowers the loss."""
    net = core.Net("classifier")
    net.FC(["X", "W", "b"], "logits")
    net.SoftmaxWithLoss(["logits", "labels", "weights"], ["P", "loss"], scale=2.0)
    forward = core.Net(net.Proto())
    grads = net.AddGradientOperators({"loss": "loss_grad"})
    net.AddExternalInput("loss_grad")  # a net that declares inputs must declare all
    rng = np.random.default_rng(11)
    blobs = {"X": rng.standard_normal((6, 4)), "W": rng.standard_normal((3, 4)) * 0.1,
             "b": np.zeros(3), "labels": rng.integers(0, 3, 6).astype(np.int32),
             "weights": rng.uniform(0.5, 1.5, 6), "loss_grad": np.array(1.0)}

    def run(netdef, values):
        ws = Workspace()
        for name, value in values.items():
            ws.feed_blob(name, value)
        ws.run_net_once(netdef)
        return ws

    ws = run(net.Proto(), blobs)
    analytic = ws.fetch_blob(str(grads["W"]))
    numeric = np.zeros_like(analytic)
    for idx in np.ndindex(*analytic.shape):
        step = np.zeros_like(blobs["W"])
        step[idx] = 1e-6
        up = run(forward.Proto(), {**blobs, "W": blobs["W"] + step}).fetch_blob("loss")
        down = run(forward.Proto(), {**blobs, "W": blobs["W"] - step}).fetch_blob("loss")
        numeric[idx] = (up - down) / 2e-6
    np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-8)
    losses = []
    for _ in range(20):
        ws = run(net.Proto(), blobs)
        losses.append(float(ws.fetch_blob("loss")))
        blobs["W"] = blobs["W"] - 0.5 * ws.fetch_blob(str(grads["W"]))
        blobs["b"] = blobs["b"] - 0.5 * ws.fetch_blob(str(grads["b"]))
    assert losses[-1] < 0.5 * losses[0]


@pytest.mark.parametrize("label_prob", [0, 1])
def test_axis_2_with_label_prob(label_prob):
    # softmax_ops_test.py: test_softmax_with_loss_axis_2 (n x n x D logits, axis=2,
    # integer labels n x n or label distributions n x n x D), reference and gradient
    rng = np.random.default_rng(2603)
    n, d = 3, 4
    x = rng.random((n, n, d)) + 1e-2
    if label_prob:
        t = rng.random((n, n, d))
        t /= t.sum(axis=2, keepdims=True)
    else:
        t = (rng.random((n, n)) * d).astype(np.int32)
    op = CreateOperator("SoftmaxWithLoss", ["X", "label"], ["probs", "avgloss"], axis=2,
                        label_prob=label_prob, only_loss=1)
    testing.check_reference(op, [x, t], lambda x, t: naive_softmax_with_loss(
        x, t, axis=2, label_prob=label_prob))
    testing.check_gradient(op, [x, t], [0], outputs=[1])


def test_only_loss_is_declared_and_reaches_the_gradient_op():
    # Caffe2's softmax_ops_test sets only_loss on SoftmaxWithLoss itself; the forward op
    # does not read it, the gradient maker copies it to SoftmaxWithLossGradient (whose
    # Caffe2 kernel reads it). Neither op may warn about it nor be refused in strict mode.
    import warnings

    from caffe2lite import core, workspace
    from caffe2lite.errors import UnknownArgumentWarning

    net = core.Net("swl_only_loss")
    net.SoftmaxWithLoss(["X", "label"], ["probs", "avgloss"], only_loss=1)
    net.AddGradientOperators(["avgloss"])
    grad_op = net.Proto().op[-1]
    assert grad_op.type == "SoftmaxWithLossGradient"
    assert [a.i for a in grad_op.arg if a.name == "only_loss"] == [1]
    rng = np.random.default_rng(0)
    x = rng.random((3, 4)).astype(np.float32)
    label = np.array([0, 3, 1], np.int32)
    workspace.ResetWorkspace()
    workspace.FeedBlob("X", x)
    workspace.FeedBlob("label", label)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", UnknownArgumentWarning)
            workspace.RunNetOnce(net)
        probs, loss = workspace.FetchBlob("probs"), workspace.FetchBlob("avgloss")
        workspace.SetStrict(True)
        workspace.RunNetOnce(net)
    finally:
        workspace.SetStrict(False)
        workspace.ResetWorkspace()
    want_p, want_loss = naive_softmax_with_loss(x, label)
    np.testing.assert_allclose(probs, want_p, rtol=1e-5)
    np.testing.assert_allclose(loss, want_loss, rtol=1e-5)
