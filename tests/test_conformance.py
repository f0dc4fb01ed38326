"""Every registered operator follows the house rules: a doc with a worked example, a
gradient decision, a shape/type function, an executable example that its kernel and its
shape function both agree with, and a test file; gradients built by the registry train a
small net; net-level shape inference and costs give exact numbers."""

from __future__ import annotations

import numpy as np
import pytest

import caffe2lite  # noqa: F401  (registers every operator)
from pathlib import Path

from caffe2lite import core
from caffe2lite.inference import infer_net, infer_op, op_cost
from caffe2lite.runtime.net import run_operator_once
from caffe2lite.schema import registry
from caffe2lite.schema.example import Example
from caffe2lite.schema.shapes import Cost, TensorShape, shape_of
from caffe2lite.workspace import Workspace

TESTS = Path(__file__).resolve().parent

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


OP_IDS = [f"{t}:{e}" if e else t for t, e in OPERATORS]


@pytest.mark.parametrize("key", OPERATORS, ids=OP_IDS)
def test_has_a_shape_function(key):
    assert registry.OPERATORS[key].shape is not None, f"{key[0]} has no shape= function"


@pytest.mark.parametrize("key", OPERATORS, ids=OP_IDS)
def test_has_an_example(key):
    example = registry.OPERATORS[key].example
    assert isinstance(example, Example), f"{key[0]} has no example=Example(...)"
    schema = registry.OPERATORS[key]
    lo, hi = schema.num_inputs
    assert lo <= len(example.inputs) <= hi, f"{key[0]}: wrong number of example inputs"
    lo, hi = schema.num_outputs
    assert lo <= len(example.outputs) <= hi, (
        f"{key[0]}: wrong number of example outputs"
    )


@pytest.mark.parametrize("key", OPERATORS, ids=OP_IDS)
def test_kernel_module_has_a_test_file(key):
    module = registry.OPERATORS[key].kernel.__module__
    parts = module.split(".")
    assert parts[:2] == ["caffe2lite", "ops"] and len(parts) == 4, module
    path = TESTS / "ops" / parts[2] / f"test_{parts[3]}.py"
    assert path.is_file(), f"{key[0]}: no test file {path.relative_to(TESTS.parent)}"


def _example_op(key, example):
    op_type, engine = key
    return core.CreateOperator(
        op_type,
        list(example.inputs),
        list(example.outputs),
        engine=engine or None,
        **example.args,
    )


def _same_value(name, got, want, example):
    if not isinstance(want, np.ndarray):
        assert type(got) is type(want), f"{name}: {type(got).__name__}"
        return
    assert isinstance(got, np.ndarray), f"{name}: got a {type(got).__name__}"
    assert got.dtype == want.dtype, f"{name}: dtype {got.dtype}, stated {want.dtype}"
    assert got.shape == want.shape, f"{name}: shape {got.shape}, stated {want.shape}"
    if not example.exact:
        return
    if want.dtype.kind in "fc":
        np.testing.assert_allclose(got, want, rtol=example.rtol, atol=0, err_msg=name)
    else:
        np.testing.assert_array_equal(got, want, err_msg=name)


@pytest.mark.parametrize("key", OPERATORS, ids=OP_IDS)
def test_example_runs_as_stated(key):
    example = registry.OPERATORS[key].example
    if example is None:
        pytest.skip("no example (test_has_an_example fails)")
    # a plain blob dict (inputs copied: in-place ops must not change the example), so
    # that non-tensor inputs such as a mutex can be given too
    blobs = {
        name: value.copy() if isinstance(value, np.ndarray) else value
        for name, value in example.inputs.items()
    }
    op = _example_op(key, example)
    run_operator_once(op, blobs)
    if not example.exact and registry.OPERATORS[key].shape is not None:
        # random values, and random sizes where the shape function says data decide
        inferred = infer_op(op, [shape_of(v) for v in example.inputs.values()])
        for (name, want), shape in zip(example.outputs.items(), inferred):
            got = blobs[name]
            assert shape_of(got).dtype == shape_of(want).dtype, name
            assert _dims_match(shape.dims, shape_of(got).dims), f"{name}: {shape}"
            assert _dims_match(shape.dims, shape_of(want).dims), f"{name}: {shape}"
        return
    for name, want in example.outputs.items():
        _same_value(name, blobs[name], want, example)


def _dims_match(inferred, actual):
    if inferred is None or actual is None:
        return inferred is None and actual is None
    return len(inferred) == len(actual) and all(
        isinstance(a, str) or isinstance(b, str) or a == b
        for a, b in zip(inferred, actual)
    )


# Ops whose outputs are written by the nets in their arguments: their shapes
# cannot be inferred from the op's input shapes.
DECIDED_BY_SUBNETS = {"If", "While"}


@pytest.mark.parametrize("key", OPERATORS, ids=OP_IDS)
def test_shape_function_agrees_with_the_example(key):
    schema = registry.OPERATORS[key]
    if schema.example is None or schema.shape is None:
        pytest.skip("no example or no shape function (other tests fail)")
    example = schema.example
    op = _example_op(key, example)
    inferred = infer_op(op, [shape_of(v) for v in example.inputs.values()])
    assert len(inferred) == len(example.outputs)
    for (name, want), got in zip(example.outputs.items(), inferred):
        actual = shape_of(want)
        if key[0] in DECIDED_BY_SUBNETS:
            # What the sub-nets write is not a function of the op's input shapes
            # (Caffe2 had no shape function for these ops): unknown is the answer.
            assert got == TensorShape(), f"{name}: inferred {got}, expected unknown"
            continue
        assert _dims_match(got.dims, actual.dims), (
            f"{name}: inferred {got}, actual {actual}"
        )
        assert got.dtype == actual.dtype, f"{name}: inferred {got}, actual {actual}"
    if schema.cost is not None:
        cost = op_cost(op, [shape_of(v) for v in example.inputs.values()])
        assert isinstance(cost, Cost)
        assert (
            min(cost.flops, cost.bytes_read, cost.bytes_written, cost.params_bytes) >= 0
        )


@pytest.mark.parametrize("key", OPERATORS, ids=OP_IDS)
@pytest.mark.parametrize("known", ["nothing", "ranks only"])
def test_shape_function_takes_unknown_and_symbolic_inputs(key, known):
    """Shapes reach an op without data: unknown, or with symbols for sizes that data
    decide. The shape and cost functions must take them (and give one shape per
    output) rather than fail."""
    schema = registry.OPERATORS[key]
    if schema.example is None or schema.shape is None:
        pytest.skip("no example or no shape function (other tests fail)")
    example = schema.example
    shapes = []
    for value in example.inputs.values():
        shape = shape_of(value)
        if known == "nothing" or shape.dims is None:
            shapes.append(TensorShape())
        else:
            dims = tuple(f"n{i}" for i in range(len(shape.dims)))
            shapes.append(TensorShape(dims, shape.dtype))
    op = _example_op(key, example)
    assert len(infer_op(op, shapes)) == len(example.outputs)
    if schema.cost is not None:
        assert isinstance(op_cost(op, shapes), Cost)


# -- net-level inference and costs ---------------------------------------------------


def _small_net():
    net = core.Net("small")
    net.FC(["X", "W", "b"], "h")
    net.Relu("h", "r")
    net.Sum(["r", "h"], "s")
    net.Concat(["s", "r"], ["c", "c_info"], axis=1)
    net.SparseLengthsSum(["c", "ids", "lengths"], "pooled")
    return net.Proto()


def test_infer_net_on_a_small_net():
    f4 = np.dtype(np.float32)
    shapes = infer_net(
        _small_net(),
        {
            "X": TensorShape((4, 3), f4),
            "W": TensorShape((5, 3), f4),
            "b": TensorShape((5,), f4),
            "ids": TensorShape((7,), np.int64),
            "lengths": TensorShape((2,), np.int32),
        },
    )
    assert shapes["h"] == TensorShape((4, 5), f4)
    assert shapes["r"] == TensorShape((4, 5), f4)
    assert shapes["s"] == TensorShape((4, 5), f4)
    assert shapes["c"] == TensorShape((4, 10), f4)
    assert shapes["c_info"] == TensorShape((2,), np.int32)
    assert shapes["pooled"] == TensorShape((2, 10), f4)


def test_infer_net_leaves_unfed_blobs_unknown():
    shapes = infer_net(_small_net(), {}, strict=False)
    assert shapes["h"].dims is None


def test_op_cost_on_a_small_net():
    f4 = np.dtype(np.float32)
    ops = _small_net().op
    x, w, b = (TensorShape((4, 3), f4), TensorShape((5, 3), f4), TensorShape((5,), f4))
    h = TensorShape((4, 5), f4)
    # FC: M=4, K=3, N=5: flops M*N*(2K+1), read K*(M+N)+N elements, write M*N,
    # params K*N+N, four bytes each.
    assert op_cost(ops[0], [x, w, b]) == Cost(140, 4 * 32, 4 * 20, 4 * 20)
    assert op_cost(ops[1], [h]) == Cost(20, 80, 80, 0)  # Relu: pointwise
    # Sum: (inputs - 1) flops per element, every input read, one output written.
    assert op_cost(ops[2], [h, h]) == Cost(20, 160, 80, 0)
    # Concat: no flops; Caffe2 counted one element more than the inputs hold.
    assert op_cost(ops[3], [h, h]) == Cost(0, 4 * 41, 4 * 40, 0)
    # SparseLengthsSum: 7 indices of rows of D=10: flops 70, read 7*(10*4+4) + 2*4,
    # nothing counted as written, the whole (4, 10) table as parameters.
    assert op_cost(
        ops[4],
        [
            TensorShape((4, 10), f4),
            TensorShape((7,), np.int64),
            TensorShape((2,), np.int32),
        ],
    ) == Cost(70, 316, 0, 160)


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
    net.AddExternalInput("loss_grad")  # a net that declares inputs must declare all
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
