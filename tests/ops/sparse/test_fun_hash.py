"""FunHash and FunHashGradient against literal ports of Caffe2's FunHashOp and
FunHashGradientOp loops (a pure-Python XXH64 over the first 4 bytes of the 32-byte
key buffer, float32 sums in the loops' order: equal bit for bit), the gradient maker
and a numeric gradient, errors."""

from __future__ import annotations

import struct

import numpy as np
from c2l_test_support.xxh64 import M, xxh64
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import ArgumentError, EnforceError
from caffe2lite.schema import registry
from caffe2lite.workspace import Workspace

INDEX_MAGIC, SIGN_MAGIC = 0xF39CC0605CEDC834, 0x9E3779B97F4A7C15


def draw(key, i, k, seed, num_weight):
    """Caffe2's two hashes of (key, i, k, magic), each of hash_data.size() == 4 bytes."""
    index_hash = xxh64(struct.pack("<QQQQ", int(key) & M, i, k, INDEX_MAGIC)[:4], seed)
    sign_hash = xxh64(struct.pack("<QQQQ", int(key) & M, i, k, SIGN_MAGIC)[:4], seed)
    return index_hash % num_weight, sign_hash % 2 == 1


def forward_loop(num_outputs, seed, num_segments=-1):
    def ref(val, key, seg, weight, *alpha):
        n_alpha = alpha[0].shape[0] if alpha else 1
        rows = num_segments if num_segments != -1 else max([-1] + seg.tolist()) + 1
        out = np.zeros((rows, num_outputs), np.float32)
        for j in range(seg.shape[0]):
            for i in range(num_outputs):
                total = np.float32(0)
                for k in range(n_alpha):
                    index, negative = draw(key[j], i, k, seed, weight.shape[0])
                    w = -weight[index] if negative else weight[index]
                    total += w * alpha[0][k] if alpha else w
                out[seg[j], i] += total * val[j]
        return [out]

    return ref


def gradient_loop(num_outputs, seed):
    def ref(go, val, key, seg, weight, *alpha):
        n_alpha = alpha[0].shape[0] if alpha else 1
        grad = np.zeros_like(weight)
        grad_alpha = np.zeros(n_alpha, np.float32)
        for j in range(seg.shape[0]):
            for i in range(num_outputs):
                scale = go[seg[j], i] * val[j]
                for k in range(n_alpha):
                    index, negative = draw(key[j], i, k, seed, weight.shape[0])
                    s = -scale if negative else scale
                    if alpha:
                        grad_alpha[k] += s * weight[index]
                        grad[index] += alpha[0][k] * s
                    else:
                        grad[index] += s
        return [grad, grad_alpha] if alpha else [grad]

    return ref


def case(rng, n, n_alpha):
    val = rng.standard_normal(n).astype(np.float32)
    key = rng.integers(-(2**40), 2**40, n)
    seg = np.sort(rng.integers(0, 3, n)).astype(np.int32)
    weight = rng.standard_normal(7).astype(np.float32)
    inputs, names = [val, key, seg, weight], ["V", "K", "S", "W"]
    if n_alpha:
        inputs.append(rng.standard_normal(n_alpha).astype(np.float32))
        names.append("A")
    return inputs, names


@settings(max_examples=25, deadline=None)
@given(n=st.integers(0, 8), outs=st.integers(1, 3), n_alpha=st.sampled_from([0, 1, 3]),
       seed=st.sampled_from([0, 5, 2**40]), data_seed=st.integers(0, 2**16))
def test_forward_and_gradient_equal_caffe2s_loops(n, outs, n_alpha, seed, data_seed):
    rng = np.random.default_rng(data_seed)
    inputs, names = case(rng, n, n_alpha)
    op = CreateOperator("FunHash", names, ["Y"], num_outputs=outs, seed=seed)
    testing.check_reference(op, inputs, forward_loop(outs, seed), atol=0, rtol=0)
    op = CreateOperator("FunHash", names, ["Y"], num_outputs=outs, seed=seed, num_segments=4)
    testing.check_reference(op, inputs, forward_loop(outs, seed, 4), atol=0, rtol=0)
    go = rng.standard_normal((3, outs)).astype(np.float32)
    grad = CreateOperator("FunHashGradient", ["G"] + names,
                          ["W_grad"] + (["A_grad"] if n_alpha else []),
                          num_outputs=outs, seed=seed)
    testing.check_reference(grad, [go] + inputs, gradient_loop(outs, seed), atol=0, rtol=0)


def test_index_rule_differs_from_sparse_fun_hash():
    # one key, weight [1, 10, 100, 1000]: FunHash takes hash % 4, SparseFunHash (hash >> 1) % 4
    inputs = [np.ones(1, np.float32), np.array([0]), np.zeros(1, np.int32),
              np.array([1, 10, 100, 1000], np.float32)]
    for name, want in (("FunHash", 1.0), ("SparseFunHash", 100.0)):
        ws = Workspace()
        for blob, value in zip(["V", "K", "S", "W"], inputs):
            ws.feed_blob(blob, value)
        ws.run_operator_once(CreateOperator(name, ["V", "K", "S", "W"], ["Y"], num_outputs=1))
        assert ws.fetch_blob("Y").tolist() == [[want]]


def test_gradient_maker_and_numeric_gradient():
    op = CreateOperator("FunHash", ["V", "K", "S", "W", "A"], ["Y"], num_outputs=2)
    ops, grads = GradientRegistry.GetBackwardPass([op], {"Y": "Y_grad"})
    assert [(o.type, list(o.input), list(o.output)) for o in ops] == [
        ("FunHashGradient", ["Y_grad", "V", "K", "S", "W", "A"], ["W_grad", "A_grad"])]
    assert (str(grads["W"]), str(grads["A"])) == ("W_grad", "A_grad")
    rng = np.random.default_rng(0)
    val = rng.standard_normal(4).astype(np.float32)
    key = np.array([3, 9, 3, 100])
    seg = np.array([0, 0, 1, 2], np.int32)
    weight = rng.standard_normal(5).astype(np.float32)
    alpha = rng.standard_normal(2).astype(np.float32)
    testing.check_gradient(op, [val, key, seg, weight, alpha], [3, 4])
    plain = CreateOperator("FunHash", ["V", "K", "S", "W"], ["Y"], num_outputs=3)
    testing.check_gradient(plain, [val, key, seg, weight], 3)
    assert registry.GRADIENTS["FunHash"].kind == registry.MAKER
    assert registry.GRADIENTS["FunHashGradient"].kind == registry.NOT_IMPLEMENTED_YET


def test_errors():
    v, k = np.ones(2, np.float32), np.array([1, 2])
    s, w = np.array([0, 1], np.int32), np.ones(3, np.float32)
    op = CreateOperator("FunHash", ["V", "K", "S", "W"], ["Y"])
    testing.check_raises(op, [v, k, s, w], ArgumentError, "Argument `num_outputs` is missing")
    op = CreateOperator("FunHash", ["V", "K", "S", "W"], ["Y"], num_outputs=1, num_segments=1)
    testing.check_raises(op, [v, k, s, w], EnforceError, "Segment id out of range: 1, range 0 to 1")
    grad = CreateOperator("FunHashGradient", ["G", "V", "K", "S", "W"], ["WG"], num_outputs=2)
    testing.check_raises(grad, [np.ones((2, 1), np.float32), v, k, s, w], EnforceError,
                         "output_grad must have a row per segment and num_outputs columns")
