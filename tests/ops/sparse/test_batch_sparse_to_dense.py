"""BatchSparseToDense and BatchDenseToSparse: naive loops, Caffe2's
batch_sparse_to_dense_op_test cases, glow's importer net, errors, the two gradient
makers and numeric gradients."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import DTypeError, EnforceError, ShapeError
from caffe2lite.proto import caffe2_pb2
from caffe2lite.protoio import load_net
from caffe2lite.schema import registry
from caffe2lite.workspace import Workspace

NETS = Path("/work/shared/realnets/glow_caffe2Models")


def naive_dense(last, default=0.0):
    def ref(lengths, indices, values, *shaper):
        d = shaper[0].shape[1] if shaper else last
        out = [[default] * d for _ in lengths]
        k = 0
        for i, n in enumerate(lengths.tolist()):
            for _ in range(n):
                out[i][int(indices[k])] = float(values[k])
                k += 1
        return [np.array(out, values.dtype).reshape(len(lengths), d)]

    return ref


def naive_sparse(lengths, indices, dense):
    out, k = [], 0
    for i, n in enumerate(lengths.tolist()):
        for _ in range(n):
            out.append(dense[i, int(indices[k])])
            k += 1
    return [np.array(out, dense.dtype).reshape(indices.shape)]


def sample(rng, batch, last, len_type, idx_type):
    lengths = rng.integers(0, last + 1, batch)
    indices = np.concatenate(
        [rng.choice(last, n, replace=False) for n in lengths] + [np.zeros(0, np.int64)]
    )
    return lengths.astype(len_type), indices.astype(idx_type)


@settings(max_examples=30, deadline=None)
@given(
    batch=st.integers(0, 5),
    last=st.integers(1, 6),
    len_type=st.sampled_from([np.int32, np.int64]),
    idx_type=st.sampled_from([np.int32, np.int64]),
    default=st.sampled_from([0.0, -1.5]),
    seed=st.integers(0, 2**16),
)
def test_both_ops_match_naive_loops(batch, last, len_type, idx_type, default, seed):
    rng = np.random.default_rng(seed)
    lengths, indices = sample(rng, batch, last, len_type, idx_type)
    values = rng.standard_normal(indices.size).astype(np.float32)
    op = CreateOperator(
        "BatchSparseToDense",
        ["L", "I", "V"],
        ["D"],
        dense_last_dim=last,
        default_value=default,
    )
    testing.check_reference(op, [lengths, indices, values], naive_dense(last, default))
    shaped = CreateOperator(
        "BatchSparseToDense", ["L", "I", "V", "S"], ["D"], default_value=default
    )
    testing.check_reference(
        shaped,
        [lengths, indices, values, np.zeros((1, last))],
        naive_dense(last, default),
    )
    dense = rng.standard_normal((batch, last)).astype(np.float32)
    back = CreateOperator("BatchDenseToSparse", ["L", "I", "D"], ["V"])
    testing.check_reference(back, [lengths, indices, dense], naive_sparse)


def test_caffe2_doc_case_and_repeated_index():
    op = CreateOperator("BatchSparseToDense", ["L", "I", "V"], ["D"], dense_last_dim=3)
    (d,) = testing.check_reference(
        op,
        [np.array([3], np.int64), np.array([1, 0, 1]), np.array([1, 2, 3], np.float32)],
        naive_dense(3),
    )
    assert d.tolist() == [[2, 3, 0]]


def test_last_dim_from_the_shape_input_is_kept():
    op = CreateOperator("BatchSparseToDense", ["L", "I", "V", "S"], ["D"])
    net = caffe2_pb2.NetDef(name="b")
    net.op.append(op)
    ws = Workspace()
    for k, v in {
        "L": np.array([1]),
        "I": np.array([0]),
        "V": np.ones(1, np.float32),
        "S": np.zeros((1, 2)),
    }.items():
        ws.feed_blob(k, v)
    ws.create_net(net)
    ws.run_net("b")
    ws.feed_blob("S", np.zeros((1, 3)))
    with pytest.raises(EnforceError, match="The last dim argument is not aligned"):
        ws.run_net("b")


def test_errors():
    L, I, V = np.array([2]), np.array([0, 1]), np.ones(2, np.float32)
    op = CreateOperator("BatchSparseToDense", ["L", "I", "V"], ["D"], dense_last_dim=2)
    testing.check_raises(op, [L, I, V[:1]], ShapeError, r"indices.numel\(\) == values")
    testing.check_raises(
        op, [L.reshape(1, 1), I, V], ShapeError, r"lengths.dim\(\) == 1"
    )
    testing.check_raises(
        op,
        [L.astype(np.float32), I, V],
        DTypeError,
        "Unsupported type of tensor: float",
    )
    testing.check_raises(op, [L, I, V.astype(np.int32)], DTypeError, "caller expects")
    testing.check_raises(
        op,
        [np.array([1]), I, V],
        ShapeError,
        r"lengths_sum == indices.numel\(\). 1 vs 2",
    )
    testing.check_raises(
        op,
        [L, np.array([0, 2]), V],
        EnforceError,
        r"An indice \(2\) is larger then last dim of dense \(2\).",
    )
    testing.check_raises(op, [L, np.array([0, -1]), V], EnforceError, "negative")
    op0 = CreateOperator("BatchSparseToDense", ["L", "I", "V"], ["D"])
    testing.check_raises(
        op0, [L, I, V], EnforceError, "The last dim of dense must be >= 1"
    )
    op4 = CreateOperator(
        "BatchSparseToDense", ["L", "I", "V", "S"], ["D"], dense_last_dim=3
    )
    testing.check_raises(
        op4,
        [L, I, V, np.zeros((1, 2))],
        EnforceError,
        "The last dim argument is not aligned with the shape input",
    )
    back = CreateOperator("BatchDenseToSparse", ["L", "I", "D"], ["V"])
    testing.check_raises(
        back, [L, I, np.zeros(2, np.float32)], ShapeError, r"dense.dim\(\) == 2"
    )
    testing.check_raises(
        back,
        [L, I, np.zeros((2, 2), np.float32)],
        ShapeError,
        r"batch_size == dense.size\(0\)",
    )


def test_gradient_makers_and_numeric_gradients():
    op = CreateOperator("BatchSparseToDense", ["L", "I", "V"], ["D"], dense_last_dim=4)
    ops, grads = GradientRegistry.GetBackwardPass([op], {"D": "D_grad"})
    assert [(o.type, list(o.input), list(o.output)) for o in ops] == [
        ("BatchDenseToSparse", ["L", "I", "D_grad"], ["V_grad"])
    ]
    assert str(grads["V"]) == "V_grad" and grads.get("L") is None
    back = CreateOperator("BatchDenseToSparse", ["L", "I", "X"], ["V"])
    ops, _grads = GradientRegistry.GetBackwardPass([back], {"V": "V_grad"})
    assert [(o.type, list(o.input), list(o.output)) for o in ops] == [
        ("BatchSparseToDense", ["L", "I", "V_grad", "X"], ["X_grad"])
    ]
    rng = np.random.default_rng(0)
    lengths, indices = np.array([2, 0, 3]), np.array([3, 0, 1, 2, 0])
    testing.check_gradient(op, [lengths, indices, rng.standard_normal(5)], 2)
    testing.check_gradient(back, [lengths, indices, rng.standard_normal((3, 4))], 2)


@pytest.mark.skipif(not NETS.is_dir(), reason="glow nets not available")
def test_glow_importer_net_last_dim_1():
    # Caffe2ImporterTest BatchSparseToDense_lastdim1: 100 lengths of 0 or 1 (int32),
    # int64 indices all 0, values in [-3, 3]: row d holds its value when
    # lengths[d] == 1, else 0.
    rng = np.random.default_rng(5)
    lengths = rng.integers(0, 2, 100).astype(np.int32)
    indices = np.zeros(int(lengths.sum()), np.int64)
    values = rng.uniform(-3, 3, indices.size).astype(np.float32)
    ws = Workspace()
    for k, v in {"lengths": lengths, "indices": indices, "values": values}.items():
        ws.feed_blob(k, v)
    ws.run_net_once(load_net(NETS / "batch_sparse_to_dense_last_dim_1.pbtxt"))
    y = ws.fetch_blob("output")
    assert y.shape == (100, 1)
    want = np.zeros((100, 1), np.float32)
    want[lengths == 1, 0] = values
    np.testing.assert_allclose(y, want, atol=1e-3)


def test_gradient_decisions():
    assert registry.GRADIENTS["BatchSparseToDense"].kind == registry.MAKER
    assert registry.GRADIENTS["BatchDenseToSparse"].kind == registry.MAKER
