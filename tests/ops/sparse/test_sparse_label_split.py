"""SparseLabelSplit and SparseLabelSplitGradient: a naive loop, Caffe2's
sparse_label_split test (random lengths and label indices, with and without the
offset map, the gradient through it), glow's importer net, errors and the gradient
maker."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import (
    ArgumentError,
    DTypeError,
    EnforceError,
    GradientError,
    NetCompileError,
    ShapeError,
)
from caffe2lite.protoio import load_net
from caffe2lite.schema import registry
from caffe2lite.workspace import Workspace

NETS = Path("/work/shared/realnets/glow_caffe2Models")


def naive(labels, with_offset):
    def ref(length, ind, val):
        values = [[] for _ in range(labels)]
        eids = [[] for _ in range(labels)]
        offset, pos = [], 0
        for e, n in enumerate(length.reshape(-1).tolist()):
            for _ in range(n):
                k = int(ind.reshape(-1)[pos])
                offset.append(len(values[k]))
                values[k].append(val.reshape(-1)[pos])
                eids[k].append(e)
                pos += 1
        out = [np.array(v, val.dtype) for v in values]
        out += [np.array(e, np.int32) for e in eids]
        if with_offset:
            out.append(np.array(offset, np.int32))
        return out

    return ref


def op(labels, with_offset, give_arg=True):
    outs = [f"v{i}" for i in range(labels)] + [f"e{i}" for i in range(labels)]
    if with_offset:
        outs.append("off")
    kw = {"num_labels": labels} if give_arg else {}
    return CreateOperator("SparseLabelSplit", ["L", "I", "V"], outs, **kw)


@settings(max_examples=30, deadline=None)
@given(
    labels=st.integers(1, 4),
    n_len=st.integers(0, 6),
    with_offset=st.booleans(),
    give_arg=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_matches_naive_loop_and_gradient(labels, n_len, with_offset, give_arg, seed):
    rng = np.random.default_rng(seed)
    length = rng.integers(0, labels + 1, n_len).astype(np.int32)
    n = int(length.sum())
    ind = rng.integers(0, labels, n).astype(np.int64)
    val = rng.integers(0, 100, n).astype(np.float32)
    outs = testing.check_reference(
        op(labels, with_offset, give_arg),
        [length, ind, val],
        naive(labels, with_offset),
    )
    grads = [rng.standard_normal(o.shape).astype(np.float32) for o in outs[:labels]]
    ins = [length, ind] + grads + ([outs[-1]] if with_offset else [])
    gop = CreateOperator(
        "SparseLabelSplitGradient",
        ["L", "I"] + [f"g{i}" for i in range(len(ins) - 2)],
        ["G"],
        num_labels=labels,
    )
    want = np.zeros(n, np.float32)
    seen = [0] * labels
    for j, k in enumerate(ind.tolist()):
        want[j] = grads[k][seen[k]]
        seen[k] += 1
    testing.check_reference(gop, ins, lambda *a: [want])


def test_errors():
    L, I, V = np.array([2], np.int32), np.array([0, 1]), np.ones(2, np.float32)
    testing.check_raises(
        op(2, False),
        [L, I, V[:1]],
        ShapeError,
        "label_index should have the same length as label_value",
    )
    testing.check_raises(
        op(2, False),
        [np.array([3], np.int32), I, V],
        EnforceError,
        "The sum of length should be equal to the length of other",
    )
    testing.check_raises(
        op(2, False), [L, np.array([0, 2]), V], EnforceError, "label_index out of range"
    )
    testing.check_raises(
        op(2, False),
        [L, np.array([0, -1]), V],
        EnforceError,
        "label_index out of range",
    )
    testing.check_raises(
        op(2, False),
        [L, I.astype(np.int32), V],
        DTypeError,
        "caller expects elements to be long",
    )
    bad = CreateOperator(
        "SparseLabelSplit", ["L", "I", "V"], ["a", "b", "c", "d"], num_labels=3
    )
    with pytest.raises((ArgumentError, NetCompileError)):
        testing.check_reference(bad, [L, I, V], lambda *a: [])
    g = CreateOperator("SparseLabelSplitGradient", ["L", "I", "g0"], ["G"])
    testing.check_raises(
        g,
        [L, I, np.ones(1, np.float32)],
        ArgumentError,
        "num_labels should be positive",
    )
    g = CreateOperator(
        "SparseLabelSplitGradient", ["L", "I", "g0", "g1"], ["G"], num_labels=2
    )
    testing.check_raises(
        g,
        [L, I, np.ones(1, np.float32), np.zeros(0, np.float32)],
        EnforceError,
        "Not enough entries for value gradient",
    )


def test_gradient_maker():
    o = op(2, True)
    ops, _grads = GradientRegistry.GetBackwardPass(
        [o], {"v0": "v0_grad", "v1": "v1_grad"}
    )
    assert [(x.type, list(x.input), list(x.output)) for x in ops] == [
        (
            "SparseLabelSplitGradient",
            ["L", "I", "v0_grad", "v1_grad", "off"],
            ["V_grad"],
        )
    ]
    with pytest.raises(GradientError):
        GradientRegistry.GetBackwardPass(
            [op(2, True, give_arg=False)], {"v0": "v0_grad", "v1": "v1_grad"}
        )
    assert (
        registry.GRADIENTS["SparseLabelSplitGradient"].kind
        == registry.NOT_IMPLEMENTED_YET
    )


@pytest.mark.skipif(not NETS.is_dir(), reason="glow nets not available")
def test_glow_importer_net():
    # sparselabelsplit.pbtxt: num_labels=4 with the offset map (glow's
    # keep_gradient_offset_map argument is glow's own; Caffe2 ignores it).
    length = np.array([1, 3, 2, 2], np.int32)
    ind = np.array([3, 0, 1, 2, 0, 3, 1, 2], np.int64)
    val = np.arange(8, dtype=np.float32)
    ws = Workspace()
    for k, v in {"lengths": length, "indices": ind, "values": val}.items():
        ws.feed_blob(k, v)
    net = load_net(NETS / "sparselabelsplit.pbtxt")
    ws.run_net_once(net)
    got = [ws.fetch_blob(b) for b in net.external_output]
    for g, w in zip(got, naive(4, True)(length, ind, val)):
        np.testing.assert_array_equal(g, w)


def test_numeric_gradient():
    length = np.array([2, 1, 3], np.int32)
    ind = np.array([1, 0, 1, 2, 0, 1], np.int64)
    val = np.random.default_rng(2).standard_normal(6)
    for with_offset in (False, True):
        testing.check_gradient(
            op(3, with_offset), [length, ind, val], 2, outputs=[0, 1, 2]
        )
