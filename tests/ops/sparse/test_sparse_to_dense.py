from __future__ import annotations

import re

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import DTypeError, EnforceError, ShapeError
from caffe2lite.protoio import load_net
from caffe2lite.workspace import Workspace

REALNETS = "/work/shared/realnets/glow_caffe2Models"


def naive_sparse_to_dense(indices, values, rows):
    out = np.zeros((rows,) + values.shape[1:], values.dtype)
    for i, idx in enumerate(indices.tolist()):
        out[idx] = out[idx] + values[i]
    return out


@settings(max_examples=30, deadline=None)
@given(
    n=st.integers(0, 8),
    rows=st.integers(1, 5),
    block=st.lists(st.integers(0, 3), max_size=2),
    dtype=st.sampled_from([np.float32, np.float64, np.int32, np.int64]),
    index_type=st.sampled_from([np.int32, np.int64]),
    mode=st.sampled_from([2, 3, "arg"]),
    seed=st.integers(0, 2**16),
)
def test_matches_naive_loop(n, rows, block, dtype, index_type, mode, seed):
    rng = np.random.default_rng(seed)
    indices = rng.integers(0, rows, n).astype(index_type)
    values = (rng.standard_normal((n,) + tuple(block)) * 9).astype(dtype)
    if mode == 2:
        op, inputs = (
            CreateOperator("SparseToDense", ["I", "V"], ["O"]),
            [indices, values],
        )
        size = int(indices.max()) + 1 if n else 0
    elif mode == 3:
        op = CreateOperator("SparseToDense", ["I", "V", "D"], ["O"])
        inputs, size = [indices, values, np.zeros((rows, 2), np.float32)], rows
    else:
        op = CreateOperator("SparseToDense", ["I", "V"], ["O"], output_first_dim=rows)
        inputs, size = [indices, values], rows
    testing.check_reference(
        op, inputs, lambda *a: [naive_sparse_to_dense(indices, values, size)], atol=1e-6
    )


def test_doc_example_and_errors():
    op = CreateOperator("SparseToDense", ["I", "V", "D"], ["O"])
    testing.check_reference(
        op,
        [np.array([0, 2, 0]), np.array([1, 2, 3], np.float32), np.zeros(4, np.int32)],
        lambda *a: [np.array([4, 0, 2, 0], np.float32)],
        atol=0,
    )
    ok = [np.array([0, 1]), np.ones((2, 3), np.float32), np.zeros(2)]
    testing.check_raises(
        op,
        [ok[0].reshape(2, 1)] + ok[1:],
        ShapeError,
        re.escape("sparse_indices.dim() == 1"),
    )
    testing.check_raises(
        op,
        [ok[0], np.ones(3, np.float32), ok[2]],
        EnforceError,
        re.escape("sparse_indices.numel() == sparse_values.dim(0)"),
    )
    testing.check_raises(
        op,
        [np.array([0, 2])] + ok[1:],
        EnforceError,
        re.escape("idx < output_first_dim"),
    )
    testing.check_raises(
        op, [np.array([0, -1])] + ok[1:], EnforceError, re.escape("idx >= 0")
    )
    testing.check_raises(
        op,
        [ok[0], np.ones((2, 3), np.bool_), ok[2]],
        DTypeError,
        "SparseToDense is not implemented on tensor of type bool",
    )
    testing.check_raises(
        op,
        [ok[0].astype(np.float32)] + ok[1:],
        DTypeError,
        "Unsupported type of tensor: float",
    )
    testing.check_raises(
        CreateOperator("SparseToDense", ["I", "V", "D"], ["O"], output_first_dim=5),
        ok,
        EnforceError,
        re.escape("InputSize() == 2"),
    )


def test_gradient_is_a_gather():
    op = CreateOperator("SparseToDense", ["I", "V", "D"], ["O"])
    ops, grads = GradientRegistry.GetBackwardPass([op], {"O": "O_grad"})
    want = CreateOperator("Gather", ["O_grad", "I"], ["V_grad"])
    want.is_gradient_op = True
    assert [o.SerializeToString() for o in ops] == [want.SerializeToString()]
    assert str(grads["V"]) == "V_grad" and grads.get("D") is None
    rng = np.random.default_rng(4)
    testing.check_gradient(
        op,
        [np.array([1, 3, 1]), rng.standard_normal((3, 2)), np.zeros(5)],
        1,
        outputs=[0],
    )


def test_glow_sparse_to_dense_net():
    # Caffe2ImporterTest.sparseToDense_indices1D: 40 int64 indices in [0, 20), values
    # {40, 10, 5}, dataToInferDim {20}; expected[indices[i]] += values[i] (within 1e-3).
    rng = np.random.default_rng(0)
    indices = rng.integers(0, 20, 40).astype(np.int64)
    values = rng.uniform(-3, 3, (40, 10, 5)).astype(np.float32)
    ws = Workspace()
    ws.feed_blob("indices", indices)
    ws.feed_blob("values", values)
    ws.feed_blob("dataToInferDim", np.zeros(20, np.float32))
    ws.run_net_once(load_net(f"{REALNETS}/sparse_to_dense.pbtxt"))
    got = ws.fetch_blob("dense_result")
    assert got.shape == (20, 10, 5)
    np.testing.assert_allclose(
        got, naive_sparse_to_dense(indices, values, 20), atol=1e-3
    )


def test_shape_inference():
    import numpy as np

    from caffe2lite.core import CreateOperator
    from caffe2lite.inference import infer_op
    from caffe2lite.schema.shapes import TensorShape

    idx, vals = TensorShape((3,), np.int64), TensorShape((3, 2), np.float32)
    two = CreateOperator("SparseToDense", ["I", "V"], ["O"])
    assert infer_op(two, [idx, vals]) == [
        TensorShape(("max(indices)+1", 2), np.float32)
    ]
    fixed = CreateOperator("SparseToDense", ["I", "V"], ["O"], output_first_dim=6)
    assert infer_op(fixed, [idx, vals]) == [TensorShape((6, 2), np.float32)]
    like = CreateOperator("SparseToDense", ["I", "V", "D"], ["O"])
    assert infer_op(like, [idx, vals, TensorShape((9, 5), np.float32)]) == [
        TensorShape((9, 2), np.float32)
    ]
