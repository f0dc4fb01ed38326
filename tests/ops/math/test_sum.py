from __future__ import annotations

import re

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import DTypeError, SchemaError, ShapeError
from caffe2lite.schema.registry import GRADIENTS, MAKER
from caffe2lite.workspace import Workspace


def naive_sum(*inputs):
    """Element by element, left to right, in the inputs' own type."""
    first = inputs[0]
    flat = [np.asarray(x).reshape(-1) for x in inputs]
    out = np.empty(first.size, dtype=first.dtype)
    for e in range(first.size):
        acc = flat[0][e]
        for x in flat[1:]:
            acc = first.dtype.type(acc + x[e])
        out[e] = acc
    return [out.reshape(first.shape)]


@settings(max_examples=30, deadline=None)
@given(
    n=st.integers(1, 5),
    shape=st.lists(st.integers(0, 4), max_size=3),
    dtype=st.sampled_from([np.float32, np.float64, np.int32, np.int64]),
    seed=st.integers(0, 2**16),
)
def test_matches_naive_loop_exactly(n, shape, dtype, seed):
    rng = np.random.default_rng(seed)
    inputs = [
        np.asarray(rng.standard_normal(shape) * 100).astype(dtype) for _ in range(n)
    ]
    op = CreateOperator("Sum", [f"X{i}" for i in range(n)], ["S"])
    testing.check_reference(op, inputs, naive_sum, atol=0, rtol=0)


def test_doc_example_and_in_place_on_input_0():
    ws = Workspace()
    for name, value in (("a", [1, 2, 3]), ("b", [10, 20, 30]), ("c", [100, 200, 300])):
        ws.feed_blob(name, np.array(value, np.int32))
    ws.run_operator_once(CreateOperator("Sum", ["a", "b", "c"], ["a"]))
    np.testing.assert_array_equal(
        ws.fetch_blob("a"), np.array([111, 222, 333], np.int32)
    )
    assert ws.fetch_blob("a").dtype == np.int32


def test_single_input_and_scalars():
    x = np.array(2.5, np.float32)
    out = testing.check_reference(
        CreateOperator("Sum", ["x"], ["y"]), [x], lambda v: [v]
    )
    assert out[0].shape == ()
    out = testing.check_reference(
        CreateOperator("Sum", ["x", "z"], ["y"]),
        [x, np.array(1.0, np.float32)],
        lambda a, b: [np.array(3.5, np.float32)],
    )
    assert isinstance(out[0], np.ndarray)


def test_int32_overflow_wraps():
    big = np.array([2**31 - 1], np.int32)
    testing.check_reference(
        CreateOperator("Sum", ["a", "b"], ["s"]),
        [big, np.array([1], np.int32)],
        lambda a, b: [np.array([-(2**31)], np.int32)],
    )


def test_shape_mismatch():
    op = CreateOperator("Sum", ["a", "b"], ["s"])
    msg = (
        "Check failed: output->sizes() == Input(i).sizes().Description: Input #1, "
        "input dimension:[3, 2] should match output dimension: [2, 3]"
    )
    testing.check_raises(
        op,
        [np.zeros((2, 3), np.float32), np.zeros((3, 2), np.float32)],
        ShapeError,
        re.escape(msg),
    )


def test_type_mismatch_and_unsupported_type():
    op = CreateOperator("Sum", ["a", "b"], ["s"])
    testing.check_raises(
        op,
        [np.zeros(2, np.float32), np.zeros(2, np.int32)],
        DTypeError,
        "caller expects elements to be float while tensor contains int",
    )
    testing.check_raises(
        op,
        [np.zeros(2, bool), np.zeros(2, bool)],
        DTypeError,
        re.escape(
            "Sum operator only supports 32-bit float, 64-bit double "
            "and ints, but input was of type bool"
        ),
    )


def test_schema_errors():
    ws = Workspace()
    ws.feed_blob("a", np.zeros(2, np.float32))
    ws.feed_blob("b", np.zeros(2, np.float32))
    for op, msg in (
        (
            CreateOperator("Sum", ["a", "b"], ["b"]),
            "Input index 1 and output idx 0 (b) are set to be in-place but this is actually "
            "not supported by op Sum",
        ),
        (
            CreateOperator("Sum", [], ["s"]),
            "Input size 0 not in range [min=1, max=INT_MAX].",
        ),
        (
            CreateOperator("Sum", ["a"], ["s", "t"]),
            "Output size 2 not in range [min=1, max=1].",
        ),
    ):
        try:
            ws.run_operator_once(op)
        except SchemaError as e:
            assert msg in str(e)
        else:
            raise AssertionError("no SchemaError")


def test_gradient_is_a_pass_through():
    assert GRADIENTS["Sum"].kind == MAKER
    op = CreateOperator("Sum", ["a", "b", "c"], ["s"])
    ops, grads = GradientRegistry.GetBackwardPass([op], {"s": "s_grad"})
    assert ops == []
    assert grads == {"s": "s_grad", "a": "s_grad", "b": "s_grad", "c": "s_grad"}


def test_gradient_numerically():
    rng = np.random.default_rng(1)
    xs = [rng.standard_normal((2, 3)) for _ in range(3)]
    testing.check_gradient(CreateOperator("Sum", ["a", "b", "c"], ["s"]), xs, [0, 1, 2])
    testing.check_gradient(CreateOperator("Sum", ["a", "b"], ["a"]), xs[:2], [0, 1])
    got = testing.check_gradient(CreateOperator("Sum", ["a", "a"], ["s"]), xs[:2], 0)
    assert got[0].shape == (2, 3)


def test_shape_and_cost_inference():
    import numpy as np

    from caffe2lite.core import CreateOperator
    from caffe2lite.inference import infer_op, op_cost
    from caffe2lite.schema.shapes import Cost, TensorShape

    x = TensorShape((2, 3), np.float64)
    op = CreateOperator("Sum", ["a", "b", "c"], ["s"])
    assert infer_op(op, [x, x, x]) == [x]
    # two additions per element, three inputs read, one output written
    assert op_cost(op, [x, x, x]) == Cost(12, 144, 48, 0)
    one = CreateOperator("Sum", ["a"], ["s"])
    assert op_cost(one, [x]) == Cost(0, 48, 48, 0)
