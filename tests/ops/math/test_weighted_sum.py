from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.core import CreateOperator
from caffe2lite.errors import DTypeError, EnforceError, SchemaError
from caffe2lite.schema.registry import GRADIENTS, NOT_IMPLEMENTED_YET
from caffe2lite.workspace import Workspace


def _names(pairs):
    return [n for i in range(pairs) for n in (f"X{i}", f"w{i}")]


def naive_weighted_sum(*inputs):
    """Element by element, in Caffe2's order: w1*x1 + w0*x0, then + w_k*x_k."""
    x0 = inputs[0]
    t = x0.dtype.type
    flat = [np.asarray(a).reshape(-1) for a in inputs]
    out = np.empty(x0.size, dtype=x0.dtype)
    for e in range(x0.size):
        if len(inputs) == 2:
            out[e] = t(flat[1][0]) * flat[0][e]
            continue
        acc = t(flat[3][0]) * flat[2][e] + t(flat[1][0]) * flat[0][e]
        for k in range(4, len(inputs), 2):
            acc = acc + t(flat[k + 1][0]) * flat[k][e]
        out[e] = acc
    return [out.reshape(x0.shape)]


@settings(max_examples=30, deadline=None)
@given(pairs=st.integers(1, 4), shape=st.lists(st.integers(1, 4), min_size=1, max_size=3),
       dtype=st.sampled_from([np.float32, np.float64]), seed=st.integers(0, 2**16))
def test_matches_naive_loop_exactly(pairs, shape, dtype, seed):
    rng = np.random.default_rng(seed)
    inputs = []
    for _ in range(pairs):
        inputs += [rng.standard_normal(shape).astype(dtype),
                   rng.standard_normal(1).astype(np.float32)]
    op = CreateOperator("WeightedSum", _names(pairs), ["Y"])
    testing.check_reference(op, inputs, naive_weighted_sum, atol=0, rtol=0)


def test_doc_example_and_in_place_on_x0():
    ws = Workspace()
    ws.feed_blob("X0", np.array([1, 2], np.float32))
    ws.feed_blob("w0", np.array([2], np.float32))
    ws.feed_blob("X1", np.array([10, 20], np.float32))
    ws.feed_blob("w1", np.array([0.5], np.float32))
    ws.run_operator_once(CreateOperator("WeightedSum", ["X0", "w0", "X1", "w1"], ["X0"]))
    np.testing.assert_array_equal(ws.fetch_blob("X0"), np.array([7, 14], np.float32))


def test_sgd_update_with_negative_learning_rate():
    param = np.array([1.0, -2.0, 3.0], np.float32)
    grad = np.array([0.5, 0.5, -1.0], np.float32)
    # LearningRate's output is 0-d
    one, lr = np.ones(1, np.float32), np.array(-0.1, np.float32)
    op = CreateOperator("WeightedSum", ["param", "ONE", "grad", "LR"], ["param"])
    testing.check_reference(op, [param, one, grad, lr],
                            lambda p, o, g, r: [p - np.float32(0.1) * g], atol=1e-7)


def test_only_sizes_are_compared_and_output_has_x0_shape():
    x0 = np.arange(6, dtype=np.float32).reshape(2, 3)
    x1 = np.ones((3, 2), np.float32)
    op = CreateOperator("WeightedSum", _names(2), ["Y"])
    weights = [np.ones(1, np.float32), np.ones((1, 1), np.float32)]
    got = testing.check_reference(op, [x0, weights[0], x1, weights[1]], naive_weighted_sum)
    assert got[0].shape == (2, 3)


def test_two_inputs_scale_and_weight_as_float64():
    op = CreateOperator("WeightedSum", ["X0", "w0"], ["Y"])
    testing.check_reference(op, [np.array([[1, -2]], np.float32), np.array([3.0])],
                            lambda x, w: [np.array([[3, -6]], np.float32)], atol=0)


@pytest.mark.parametrize("names, inputs, error, match", [
    (["X0", "w0", "X1"], [np.ones(2, np.float32)] * 3, SchemaError,
     r"^op WeightedSum: Input size 3 not in allowed input sizes\."),
    (["X0", "w0"], [np.ones(0, np.float32), np.ones(1, np.float32)], EnforceError,
     r"X0\.numel\(\) > 0\. 0 vs 0"),
    (["X0", "w0"], [np.ones(2, np.float32), np.ones(2, np.float32)], EnforceError,
     r"weight0\.numel\(\) == 1\. 2 vs 1 \(blob 'weight_0=w0'"),
    (_names(2), [np.ones(2, np.float32), np.ones(1, np.float32), np.ones(3, np.float32),
                 np.ones(1, np.float32)], EnforceError, r"X1\.numel\(\) == size\. 3 vs 2"),
    (_names(2), [np.ones(2, np.float32), np.ones(1, np.float32), np.ones(2, np.float32),
                 np.ones(3, np.float32)], EnforceError,
     r"weight1\.numel\(\) == 1\. 3 vs 1"),
    (["X0", "w0"], [np.ones(2, np.int32), np.ones(1, np.float32)], DTypeError,
     "caller expects elements to be float while tensor contains int"),
    (["X0", "w0"], [np.ones(2, np.float32), np.ones(1, np.int64)], DTypeError,
     "caller expects elements to be float while tensor contains long"),
    (_names(2), [np.ones(2, np.float32), np.ones(1, np.float32), np.ones(2, np.float64),
                 np.ones(1, np.float32)], DTypeError,
     "caller expects elements to be float while tensor contains double"),
])
def test_errors(names, inputs, error, match):
    testing.check_raises(CreateOperator("WeightedSum", names, ["Y"]), inputs, error, match)


def test_in_place_is_allowed_only_on_x0():
    op = CreateOperator("WeightedSum", _names(2), ["X1"])
    testing.check_raises(op, [np.ones(2, np.float32)] * 4, SchemaError,
                         r"Input index 2 and output idx 0 \(X1\) are set to be in-place "
                         "but this is actually not supported by op WeightedSum")


def test_gradient_op_outputs_scaled_dy_and_weight_dots():
    dy = np.array([1, 2], np.float32)
    x0, x1 = np.array([3, 4], np.float32), np.array([-1, 5], np.float32)
    w0, w1 = np.array([2], np.float32), np.array([-0.5], np.float32)
    op = CreateOperator("WeightedSumGradient", ["dY", "X0", "w0", "X1", "w1"],
                        ["dX0", "dX1", "dw0", "dw1"], grad_on_w=1)
    testing.check_reference(op, [dy, x0, w0, x1, w1], lambda *a: [
        np.array([2, 4], np.float32), np.array([-0.5, -1], np.float32),
        np.array([11], np.float32), np.array([9], np.float32)], atol=0)
    plain = CreateOperator("WeightedSumGradient", ["dY", "X0", "w0"], ["dX0"])
    testing.check_reference(plain, [dy, x0, w0], lambda *a: [np.array([2, 4], np.float32)])


def test_gradient_op_checks_its_output_count():
    op = CreateOperator("WeightedSumGradient", ["dY", "X0", "w0"], ["dX0", "dw0"])
    testing.check_raises(op, [np.ones(2, np.float32)] * 2 + [np.ones(1, np.float32)],
                         EnforceError, r"OutputSize\(\) == output_size\. 2 vs 1")
    even = CreateOperator("WeightedSumGradient", ["dY", "X0"], ["dX0"])
    testing.check_raises(even, [np.ones(2, np.float32)] * 2, SchemaError,
                         r"Input size 2 not in allowed input sizes\.")
    assert GRADIENTS["WeightedSumGradient"].kind == NOT_IMPLEMENTED_YET


def _check_gradient():
    fn = getattr(testing, "check_gradient", None)
    if fn is None:
        pytest.skip("caffe2lite.testing.check_gradient is not available yet")
    return fn


def test_numeric_gradient_of_data_and_weights():
    check_gradient = _check_gradient()
    rng = np.random.default_rng(0)
    inputs = [rng.standard_normal((2, 3)).astype(np.float32), np.array([0.7], np.float32),
              rng.standard_normal((2, 3)).astype(np.float32), np.array([-1.3], np.float32)]
    check_gradient(CreateOperator("WeightedSum", _names(2), ["Y"]), inputs, [0, 2])
    check_gradient(CreateOperator("WeightedSum", _names(2), ["Y"], grad_on_w=1), inputs,
                   [0, 1, 2, 3])


def test_backward_pass_emits_one_weighted_sum_gradient_op():
    from caffe2lite.core import GradientRegistry

    fwd = CreateOperator("WeightedSum", _names(2), ["Y"], grad_on_w=1)
    try:
        ops, grads = GradientRegistry.GetBackwardPass([fwd], {"Y": "Y_grad"})
    except NotImplementedError:
        pytest.skip("the backward pass is not available yet")
    assert [op.type for op in ops] == ["WeightedSumGradient"]
    assert list(ops[0].input) == ["Y_grad", "X0", "w0", "X1", "w1"]
    assert list(ops[0].output) == ["X0_grad", "X1_grad", "w0_grad", "w1_grad"]
    assert grads["X1"] == "X1_grad" and grads["w0"] == "w0_grad"


def test_shape_and_cost_inference():
    import numpy as np

    from caffe2lite.core import CreateOperator
    from caffe2lite.inference import infer_op, op_cost
    from caffe2lite.schema.shapes import Cost, TensorShape

    f4 = np.dtype(np.float32)
    x, w = TensorShape((2, 3), f4), TensorShape((1,), f4)
    op = CreateOperator("WeightedSum", ["X0", "w0", "X1", "w1"], ["Y"])
    assert infer_op(op, [x, w, x, w]) == [x]
    # flops (4 - 1) * 6; read 2 * (6 + 1) elements; write 6; params 2 weights
    assert op_cost(op, [x, w, x, w]) == Cost(18, 56, 24, 8)
    grad = CreateOperator(
        "WeightedSumGradient",
        ["dY", "X0", "w0", "X1", "w1"],
        ["dX0", "dX1", "dw0", "dw1"],
        grad_on_w=1,
    )
    assert infer_op(grad, [x, x, w, x, w]) == [x, x, w, w]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_unit_weight_on_x0_gives_the_same_bits(dtype):
    """The SGD update WeightedSum([param, ONE, grad, LR]) adds param itself (1 * x is
    x exactly): the bits of the naive loop, NaN, infinities and -0 included."""
    x0 = np.array([1.5, -0.0, np.nan, np.inf, -2.0, 3.0], dtype)
    x1 = np.array([2.0, -0.0, 1.0, 1.0, np.inf, -1e-30], dtype)
    for lr in (-0.1, 0.0, -0.0):
        inputs = [x0, np.ones(1, np.float32), x1, np.array([lr], dtype)]
        ws = Workspace()
        for name, value in zip(_names(2), inputs):
            ws.feed_blob(name, value)
        with np.errstate(invalid="ignore"):  # 0 * inf
            ws.run_operator_once(CreateOperator("WeightedSum", _names(2), ["Y"]))
            want = naive_weighted_sum(*inputs)[0]
        assert ws.fetch_blob("Y").tobytes() == want.tobytes()
