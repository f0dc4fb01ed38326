"""Every registered operator follows the house rules: a doc with a worked example and
a gradient decision; and gradients built by the registry train a small net."""

from __future__ import annotations

import numpy as np
import pytest

import caffe2lite  # noqa: F401  (registers every operator)
from caffe2lite import core
from caffe2lite.schema import registry
from caffe2lite.workspace import Workspace

OPERATORS = sorted(registry.OPERATORS)


def test_there_are_operators():
    assert ("Sum", "") in registry.OPERATORS


@pytest.mark.parametrize(
    "key", OPERATORS, ids=[f"{t}:{e}" if e else t for t, e in OPERATORS]
)
def test_doc_has_an_example(key):
    doc = registry.OPERATORS[key].doc
    assert "Example:" in doc, f"{key[0]}: the doc has no 'Example:'"
    example = doc[doc.index("Example:") :]
    assert "->" in example, f"{key[0]}: the example shows no 'input -> output'"


@pytest.mark.parametrize("op_type", sorted({t for t, _ in OPERATORS}))
def test_gradient_decision(op_type):
    entry = registry.GRADIENTS.get(op_type)
    assert entry is not None, (
        f"{op_type} has no gradient decision: call register_gradient, no_gradient, "
        "should_not_do_gradient or gradient_not_implemented_yet in its file"
    )
    assert entry.kind in (
        registry.MAKER,
        registry.NO_GRADIENT,
        registry.SHOULD_NOT_DO,
        registry.NOT_IMPLEMENTED_YET,
    )
    assert (entry.maker is not None) == (entry.kind == registry.MAKER)


def test_every_gradient_maker_names_a_type():
    for op_type, entry in registry.GRADIENTS.items():
        assert isinstance(op_type, str) and op_type
        if entry.kind == registry.MAKER:
            assert callable(entry.maker)


# -- whole nets ----------------------------------------------------------------------

NET_OPS = ("FC", "Relu", "Mul", "SquaredL2Distance", "AveragedLoss", "WeightedSum")
needs_net_ops = pytest.mark.skipif(
    not all(core.IsOperator(t) for t in NET_OPS), reason="needs " + ", ".join(NET_OPS)
)
PARAMS = ("W1", "b1", "W2", "b2")


def _regression(dtype):
    """x -> FC -> Relu -> h; h * gate + h -> FC -> SquaredL2Distance to target ->
    AveragedLoss, with its gradient ops (h is read twice: its gradients are summed)."""
    net = core.Net("regression")
    h = net.FC(["x", "W1", "b1"], "h")
    net.Relu(h, h)
    gated = net.Mul([h, "gate"], "gated")
    mixed = net.Sum([gated, h], "mixed")
    pred = net.FC([mixed, "W2", "b2"], "pred")
    net.StopGradient("target", "target")
    dist = net.SquaredL2Distance([pred, "target"], "dist")
    net.AveragedLoss(dist, "loss")
    forward = core.Net(net.Proto())
    grads = net.AddGradientOperators({"loss": "loss_grad"})
    rng = np.random.default_rng(0)
    blobs = {
        "x": rng.standard_normal((8, 3)),
        "target": rng.standard_normal((8, 2)),
        "W1": rng.standard_normal((5, 3)) * 0.5,
        "b1": rng.standard_normal(5) * 0.1,
        "W2": rng.standard_normal((2, 5)) * 0.5,
        "b2": np.zeros(2),
        "gate": rng.uniform(0.5, 1.5, (8, 5)),
        "loss_grad": np.array(1.0),
    }
    return net, forward, grads, {k: v.astype(dtype) for k, v in blobs.items()}


def _loss(forward, blobs):
    ws = Workspace()
    for name, value in blobs.items():
        ws.feed_blob(name, value)
    ws.run_net_once(forward)
    return float(ws.fetch_blob("loss"))


@needs_net_ops
def test_whole_net_gradients_match_central_differences():
    net, forward, grads, blobs = _regression(np.float64)
    assert grads["h"] == "h_grad" and "target" not in grads
    sums = [op for op in net.Proto().op if op.type == "Sum"][1:]
    assert [list(op.input) for op in sums] == [["h_grad", "mixed_grad"]]
    ws = Workspace()
    for name, value in blobs.items():
        ws.feed_blob(name, value)
    ws.run_net_once(net)
    eps = 1e-6
    for name in PARAMS + ("gate", "x"):
        analytic = ws.fetch_blob(str(grads[name])).reshape(-1)
        numeric = np.empty_like(analytic)
        for j in range(analytic.size):
            step = np.zeros(analytic.size)
            step[j] = eps
            step = step.reshape(blobs[name].shape)
            up = _loss(forward, {**blobs, name: blobs[name] + step})
            down = _loss(forward, {**blobs, name: blobs[name] - step})
            numeric[j] = (up - down) / (2 * eps)
        np.testing.assert_allclose(
            analytic, numeric, rtol=1e-5, atol=1e-7, err_msg=name
        )


@needs_net_ops
def test_sgd_steps_lower_the_loss():
    net, _, grads, blobs = _regression(np.float32)
    for param in PARAMS:
        net.WeightedSum([param, "ONE", grads[param], "LR"], param)
    blobs.update(ONE=np.array([1.0], np.float32), LR=np.array([-0.05], np.float32))
    ws = Workspace()
    for name, value in blobs.items():
        ws.feed_blob(name, value)
    ws.create_net(net)
    losses = []
    for _ in range(30):
        ws.run_net(net.Name())
        losses.append(float(ws.fetch_blob("loss")))
    assert losses[-1] < 0.7 * losses[0]
    assert all(b <= a + 1e-6 for a, b in zip(losses, losses[1:]))
