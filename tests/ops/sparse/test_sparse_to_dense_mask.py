"""SparseToDenseMask and SparseToDenseMaskGradient: a naive loop, Caffe2's
sparse_to_dense_mask_op_test cases, glow's importer net, edges, errors, the gradient
maker and a numeric gradient."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import ArgumentError, DTypeError, EnforceError, ShapeError
from caffe2lite.protoio import load_net
from caffe2lite.schema import registry
from caffe2lite.workspace import Workspace

NETS = Path("/work/shared/realnets/glow_caffe2Models")


def naive(mask, with_lengths, presence=False):
    def ref(indices, values, default, *rest):
        lengths = rest[0].tolist() if with_lengths else [len(indices)]
        out, pres, pos = [], [], 0
        for n in lengths:
            row = [default.copy() for _ in mask]
            seen = [False] * len(mask)
            for j in range(pos, pos + n):
                i = int(indices[j])
                if i in mask:
                    row[mask.index(i)] = values[j]
                    seen[mask.index(i)] = True
            pos += n
            out.append(
                np.array(row, values.dtype).reshape((len(mask),) + default.shape)
            )
            pres.append(seen)
        y = np.array(out, values.dtype).reshape(
            (len(lengths), len(mask)) + default.shape
        )
        p = np.array(pres, bool).reshape(len(lengths), len(mask))
        if not with_lengths:
            y, p = y[0], p[0]
        return [y, p] if presence else [y]

    return ref


def op(mask, with_lengths, presence=False, **kw):
    ins = ["I", "V", "D"] + (["L"] if with_lengths else [])
    outs = ["Y", "P"] if presence else ["Y"]
    return CreateOperator(
        "SparseToDenseMask", ins, outs, mask=mask, return_presence_mask=presence, **kw
    )


@settings(max_examples=30, deadline=None)
@given(
    lengths=st.lists(st.integers(0, 5), max_size=5),
    tail=st.sampled_from([(), (2,)]),
    index_type=st.sampled_from([np.int32, np.int64]),
    dtype=st.sampled_from([np.float32, np.int64, np.float64]),
    seed=st.integers(0, 2**16),
    presence=st.booleans(),
)
def test_matches_naive_loop(lengths, tail, index_type, dtype, seed, presence):
    rng = np.random.default_rng(seed)
    mask = [int(v) for v in rng.choice(12, 4, replace=False)]
    n = sum(lengths)
    indices = rng.integers(0, 12, n).astype(index_type)
    values = (rng.standard_normal((n,) + tail) * 10).astype(dtype)
    default = np.full(tail, -7, dtype)
    lengths = np.array(lengths, np.int32)
    testing.check_reference(
        op(mask, True, presence),
        [indices, values, default, lengths],
        naive(mask, True, presence),
    )
    testing.check_reference(
        op(mask, False, presence),
        [indices, values, default],
        naive(mask, False, presence),
    )


def test_caffe2_case_high_dim_and_big_ids():
    # sparse_to_dense_mask_op_test: ids up to 2^40, values of shape (n, 3, 2).
    mask = [2**40, 5, 2**33 + 1]
    indices = np.array([5, 2**40, 7, 2**33 + 1, 5], np.int64)
    values = np.arange(30, dtype=np.float32).reshape(5, 3, 2)
    default = np.zeros((3, 2), np.float32)
    testing.check_reference(
        op(mask, True),
        [indices, values, default, np.array([3, 2], np.int32)],
        naive(mask, True),
    )


def test_empty_lengths_and_strings():
    mask = [1, 2]
    (y,) = testing.check_reference(
        op(mask, True),
        [
            np.zeros(0, np.int32),
            np.zeros(0, np.float32),
            np.array(0, np.float32),
            np.zeros(0, np.int32),
        ],
        naive(mask, True),
    )
    assert y.shape == (0, 2)
    s = np.array([b"a", b"b"], object)
    (y,) = testing.check_reference(
        op(mask, False),
        [np.array([2, 9]), s, np.array(b"-", object)],
        naive(mask, False),
    )
    assert y.tolist() == [b"-", b"a"]


def test_invalid_ids_are_skipped_until_the_limit():
    o = op([1, 2], True, max_skipped_indices=3)
    ws = Workspace()
    ws.feed_blob("I", np.array([-1, 1, 2, -5], np.int64))
    ws.feed_blob("V", np.array([1, 2, 3, 4], np.float32))
    ws.feed_blob("D", np.array(0, np.float32))
    ws.feed_blob("L", np.array([2, 2], np.int32))
    net = ws.create_net(_net(o))
    ws.run_net(net)
    assert ws.fetch_blob("Y").tolist() == [[2, 0], [0, 3]]
    with pytest.raises(EnforceError, match="Too many rows with invalid sparse indices"):
        ws.run_net(net)  # rows with skips: 2 then 3 over the op's life


def _net(o):
    from caffe2lite.proto import caffe2_pb2

    net = caffe2_pb2.NetDef(name="stdm")
    net.op.append(o)
    return net


def test_errors():
    i, v, d = np.array([1, 2]), np.ones(2, np.float32), np.array(0, np.float32)
    testing.check_raises(op([], False), [i, v, d], ArgumentError, "mask can't be empty")
    testing.check_raises(
        op([1, -2], False), [i, v, d], ArgumentError, "Only positive IDs are allowed"
    )
    testing.check_raises(
        op([1, 1], False), [i, v, d], ArgumentError, "Duplicated id: 1"
    )
    testing.check_raises(
        op([1], False),
        [i.astype(np.float32), v, d],
        DTypeError,
        "Unsupported type of tensor: float",
    )
    testing.check_raises(
        op([1], False),
        [i.reshape(2, 1), v, d],
        ShapeError,
        r"sparse_indices.dim\(\) == 1",
    )
    testing.check_raises(
        op([1], False),
        [i, v[:1], d],
        ShapeError,
        r"sparse_indices.numel\(\) == sparse_values.size\(0\)",
    )
    testing.check_raises(
        op([1], False),
        [i, v, np.zeros(1, np.float32)],
        ShapeError,
        r"default_value.dim\(\) \+ 1 == sparse_values.dim\(\)",
    )
    testing.check_raises(
        op([1], False),
        [i, v, np.array(0.0)],
        DTypeError,
        r"sparse_values.dtype\(\) == default_value.dtype\(\)",
    )
    testing.check_raises(
        op([1], True),
        [i, v, d, np.array([3], np.int32)],
        EnforceError,
        "the sum of lengths exceeds",
    )


def test_gradient_maker_and_numeric_gradient():
    o = op([3, 7, 5], True)
    ops, grads = GradientRegistry.GetBackwardPass([o], {"Y": "Y_grad"})
    assert [x.type for x in ops] == ["SparseToDenseMaskGradient"]
    assert list(ops[0].input) == ["I", "Y_grad", "L"] and list(ops[0].output) == [
        "V_grad"
    ]
    assert [a.name for a in ops[0].arg] == ["mask", "return_presence_mask"]
    assert str(grads["V"]) == "V_grad" and grads.get("D") is None
    indices = np.array([7, 3, 9, 3, 5], np.int64)
    values = np.random.default_rng(0).standard_normal((5, 2))
    testing.check_gradient(
        o, [indices, values, np.zeros(2), np.array([3, 2], np.int32)], 1
    )
    o2 = op([3, 7], False)
    testing.check_gradient(o2, [indices, values, np.zeros(2)], 1)


@pytest.mark.skipif(not NETS.is_dir(), reason="glow nets not available")
def test_glow_importer_net():
    # Caffe2ImporterTest SparseToDenseMask: indices int64 (4,), values (4, 10, 20, 30),
    # default (10, 20, 30), mask [42, 100, 300, 1, 0, 312] -> output (6, 10, 20, 30).
    rng = np.random.default_rng(3)
    feeds = {
        "indices": np.array([300, 7, 0, 42], np.int64),
        "values": rng.standard_normal((4, 10, 20, 30)).astype(np.float32),
        "defaultValue": rng.standard_normal((10, 20, 30)).astype(np.float32),
    }
    ws = Workspace()
    for k, v in feeds.items():
        ws.feed_blob(k, v)
    ws.run_net_once(load_net(NETS / "sparse_to_dense_mask_op_net.pbtxt"))
    y = ws.fetch_blob("output")
    assert y.shape == (6, 10, 20, 30)
    (want,) = naive([42, 100, 300, 1, 0, 312], False)(*feeds.values())
    np.testing.assert_array_equal(y, want)


def test_gradient_decisions():
    assert registry.GRADIENTS["SparseToDenseMask"].kind == registry.MAKER
    assert (
        registry.GRADIENTS["SparseToDenseMaskGradient"].kind
        == registry.NOT_IMPLEMENTED_YET
    )
