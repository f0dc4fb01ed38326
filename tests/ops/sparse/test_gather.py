from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.schema import registry
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import DTypeError, EnforceError, GradientError, ShapeError
from caffe2lite.gradient.backward import GradientSlice
from caffe2lite.protoio import load_net
from caffe2lite.workspace import Workspace

REALNETS = "/work/shared/realnets/glow_caffe2Models"


def naive_gather(data, indices, axis=0, wrap=True):
    dim = data.shape[axis]
    moved = np.moveaxis(data, axis, 0)
    picked = []
    for i in indices.reshape(-1).tolist():
        if wrap and i < 0:
            i += dim
        picked.append(moved[i])
    stacked = np.array(picked, data.dtype).reshape(indices.shape + moved.shape[1:])
    # Bring the indices' dims to where the axis was.
    q = indices.ndim
    order = (
        list(range(q, q + axis)) + list(range(q)) + list(range(q + axis, stacked.ndim))
    )
    return [np.transpose(stacked, order)]


@settings(max_examples=30, deadline=None)
@given(
    data_shape=st.lists(st.integers(1, 4), min_size=1, max_size=3),
    index_shape=st.lists(st.integers(0, 3), max_size=2),
    dtype=st.sampled_from([np.float32, np.float64, np.int32, np.int64, np.bool_]),
    index_type=st.sampled_from([np.int32, np.int64]),
    seed=st.integers(0, 2**16),
    negative=st.booleans(),
)
def test_axis0_matches_naive_loop(
    data_shape, index_shape, dtype, index_type, seed, negative
):
    rng = np.random.default_rng(seed)
    data = (rng.standard_normal(data_shape) * 5).astype(dtype)
    lo = -data_shape[0] if negative else 0
    indices = rng.integers(lo, data_shape[0], index_shape).astype(index_type)
    testing.check_reference(
        CreateOperator("Gather", ["D", "I"], ["O"]),
        [data, indices],
        naive_gather,
        atol=0,
    )


@pytest.mark.parametrize("axis", [1, 2, -1])
def test_other_axes(axis):
    rng = np.random.default_rng(1)
    data = rng.standard_normal((2, 3, 4)).astype(np.float32)
    ax = axis % 3
    indices = rng.integers(0, data.shape[ax], (2, 2)).astype(np.int64)
    testing.check_reference(
        CreateOperator("Gather", ["D", "I"], ["O"], axis=axis),
        [data, indices],
        lambda d, i: naive_gather(d, i, ax),
        atol=0,
    )
    # Negative indices wrap by default only on axis 0.
    op = CreateOperator("Gather", ["D", "I"], ["O"], axis=axis)
    testing.check_raises(
        op,
        [data, np.array([-1])],
        EnforceError,
        re.escape(
            f"INDICES element is out of DATA bounds, id=-1 axis_dim={data.shape[ax]}"
        ),
    )
    op = CreateOperator("Gather", ["D", "I"], ["O"], axis=axis, wrap_indices=True)
    testing.check_reference(
        op,
        [data, np.array([-1])],
        lambda d, i: naive_gather(d, i, ax, wrap=True),
        atol=0,
    )


def test_doc_example_match_outer_and_empty_cases():
    data = np.array([[1.0, 1.2], [2.3, 3.4], [4.5, 5.7]], np.float32)
    indices = np.array([[0, 1], [1, 2]], np.int32)
    want = np.array([[[1.0, 1.2], [2.3, 3.4]], [[2.3, 3.4], [4.5, 5.7]]], np.float32)
    testing.check_reference(
        CreateOperator("Gather", ["D", "I"], ["O"]),
        [data, indices],
        lambda d, i: [want],
        atol=0,
    )
    # match_outer: one index row per outer position.
    op = CreateOperator("Gather", ["D", "I"], ["O"], axis=1, match_outer=True)
    testing.check_reference(
        op,
        [data, np.array([[1], [0], [1]])],
        lambda d, i: [np.array([[1.2], [2.3], [5.7]], np.float32)],
        atol=0,
    )
    testing.check_raises(
        op,
        [data, np.array([[1], [0]])],
        EnforceError,
        re.escape("INDICES must have the same outer dims as DATA"),
    )
    testing.check_raises(
        CreateOperator("Gather", ["D", "I"], ["O"], match_outer=True),
        [data, indices],
        EnforceError,
        "Axis should be at least 1",
    )
    # An empty indexed dimension gives DATA's (empty) shape; no indices give no rows.
    op = CreateOperator("Gather", ["D", "I"], ["O"])
    testing.check_reference(
        op,
        [np.zeros((0, 3), np.float32), np.array([[5, 7]])],
        lambda d, i: [np.zeros((0, 3), np.float32)],
    )
    testing.check_reference(
        op,
        [data, np.zeros((0,), np.int64)],
        lambda d, i: [np.zeros((0, 2), np.float32)],
    )


def test_errors():
    op = CreateOperator("Gather", ["D", "I"], ["O"])
    data = np.ones((3, 2), np.float32)
    testing.check_raises(
        op,
        [data, np.array([0, 3])],
        EnforceError,
        re.escape("INDICES element is out of DATA bounds, id=3 axis_dim=3"),
    )
    testing.check_raises(
        op,
        [data, np.array([-4])],
        EnforceError,
        re.escape("INDICES element is out of DATA bounds, id=-1 axis_dim=3"),
    )
    testing.check_raises(
        op, [data, np.array([0.0])], DTypeError, "Unsupported type of tensor: double"
    )
    testing.check_raises(
        op,
        [np.array(1.0, np.float32), np.array([0])],
        ShapeError,
        re.escape("DATA should be at least [axis+1]-D"),
    )
    testing.check_raises(
        CreateOperator("Gather", ["D", "I"], ["O"], axis=2),
        [data, np.array([0])],
        ShapeError,
        re.escape("DATA should be at least [axis+1]-D"),
    )
    testing.check_raises(
        CreateOperator("Gather", ["D", "I"], ["O"], axis=-3),
        [data, np.array([0])],
        ShapeError,
        "Axis should be non-negative",
    )


def _backward(op):
    return GradientRegistry.GetBackwardPass([op], {"O": "O_grad"})


def test_gradient_makers():
    ops, grads = _backward(CreateOperator("Gather", ["D", "I"], ["O"]))
    assert (
        ops == []
        and grads["D"] == GradientSlice("I", "O_grad")
        and grads.get("I") is None
    )
    ops, grads = _backward(
        CreateOperator("Gather", ["D", "I"], ["O"], dense_gradient=True)
    )
    want = CreateOperator(
        "SparseToDense", ["I", "O_grad", "D"], ["D_grad"], dense_gradient=True
    )
    want.is_gradient_op = True
    assert [o.SerializeToString() for o in ops] == [want.SerializeToString()]
    assert str(grads["D"]) == "D_grad"
    ops, _ = _backward(CreateOperator("Gather", ["D", "I"], ["O"], axis=1))
    assert [(o.type, list(o.input), list(o.output)) for o in ops] == [
        ("BatchGatherGradient", ["D", "I", "O_grad"], ["D_grad"])
    ]
    assert [(a.name, a.i) for a in ops[0].arg] == [("axis", 1), ("axis", 1)]
    with pytest.raises(
        GradientError, match="Gather with axis > 0 must use dense_gradient"
    ):
        _backward(
            CreateOperator("Gather", ["D", "I"], ["O"], axis=1, dense_gradient=False)
        )


def test_numeric_gradients():
    rng = np.random.default_rng(2)
    data, indices = rng.standard_normal((4, 3)), np.array([[3, 0], [3, 1]], np.int64)
    testing.check_gradient(
        CreateOperator("Gather", ["D", "I"], ["O"]), [data, indices], 0
    )
    testing.check_gradient(
        CreateOperator("Gather", ["D", "I"], ["O"], dense_gradient=True),
        [data, np.array([3, 0, 3])],
        0,
    )


@pytest.mark.skipif(
    not all(registry.find(t) for t in ("Shape", "Reshape", "GivenTensorIntFill")),
    reason="needs the Shape, Reshape and GivenTensorIntFill operators",
)
def test_glow_gather_const_fold_net():
    # Caffe2ImporterTest.gatherConstantFoldingAndReshape: data {1, 2, 4, 3}, index from the
    # init net [0, 2, 3, 1]; Shape -> Gather -> Reshape gives a result of dims {1, 4, 3, 2}.
    ws = Workspace()
    ws.run_net_once(load_net(f"{REALNETS}/gather_const_fold_init.pbtxt"))
    data = np.arange(24, dtype=np.float32).reshape(1, 2, 4, 3)
    ws.feed_blob("data", data)
    net = load_net(f"{REALNETS}/gather_const_fold.pbtxt")
    # glow's importer took a one-output Reshape; Caffe2's schema requires the second
    # output (old_shape), as caffe2lite's does
    reshape = next(op for op in net.op if op.type == "Reshape")
    if len(reshape.output) == 1:
        reshape.output.append("result_old_shape")
    ws.run_net_once(net)
    np.testing.assert_array_equal(ws.fetch_blob("gather_x"), [1, 4, 3, 2])
    np.testing.assert_array_equal(ws.fetch_blob("result"), data.reshape(1, 4, 3, 2))


def test_shape_inference():
    import numpy as np

    from caffe2lite.core import CreateOperator
    from caffe2lite.inference import infer_op
    from caffe2lite.schema.shapes import TensorShape

    f4, i8 = np.dtype(np.float32), np.dtype(np.int64)
    data = TensorShape((5, 3, 2), f4)
    op = CreateOperator("Gather", ["D", "I"], ["O"])
    assert infer_op(op, [data, TensorShape(("K", 4), i8)]) == [
        TensorShape(("K", 4, 3, 2), f4)
    ]
    on1 = CreateOperator("Gather", ["D", "I"], ["O"], axis=-2)
    assert infer_op(on1, [data, TensorShape((7,), i8)]) == [TensorShape((5, 7, 2), f4)]
    outer = CreateOperator("Gather", ["D", "I"], ["O"], axis=1, match_outer=1)
    assert infer_op(outer, [data, TensorShape((5, 4), i8)]) == [
        TensorShape((5, 4, 2), f4)
    ]
    empty = TensorShape((0, 3), f4)
    assert infer_op(op, [empty, TensorShape((4,), i8)]) == [empty]
