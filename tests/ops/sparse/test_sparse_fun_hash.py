"""SparseFunHash and SparseFunHashGradient: the hash against XXH64 values computed
with the reference xxHash library, the op against a literal port of Caffe2's loops
(a pure-Python XXH64 over the first 4 bytes of the 32-byte key buffer), errors, the
gradient maker and a numeric gradient."""

from __future__ import annotations

import struct

import numpy as np
from c2l_test_support.xxh64 import MAGIC, M, xxh64
from caffe2lite.ops.sparse.sparse_fun_hash import xxh64_low4
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import ArgumentError, DTypeError, EnforceError
from caffe2lite.schema import registry

# From the reference xxHash library (python-xxhash 3.x): XXH64 of the 4 low bytes
# of each key, seeds 0 and 17.
KEYS = [0, 1, 42, -1, 2**33 + 5]
LIBRARY = {
    0: [
        4246796580750024372,
        17595444997414146897,
        15516826743637085169,
        9185342943168159635,
        14111056568482183481,
    ],
    17: [
        15295676857678589712,
        16808057784050844497,
        6699225193368046239,
        15841169996336356546,
        12743290656037324090,
    ],
}


def test_hash_matches_the_xxhash_library():
    assert xxh64(b"", 0) == 0xEF46DB3751D8E999  # the library's empty-input vector
    for seed, want in LIBRARY.items():
        assert xxh64_low4(np.array(KEYS), seed).tolist() == want
        assert [xxh64(struct.pack("<q", k)[:4], seed) for k in KEYS] == want


def caffe2_loop(num_outputs, seed, num_segments=-1):
    """The forward loop of Caffe2's SparseFunHashOp, literally."""

    def ref(val, key, seg, weight, *alpha):
        n_alpha = alpha[0].shape[0] if alpha else 1
        k_seg = num_segments if num_segments != -1 else (max([-1] + seg.tolist()) + 1)
        out = np.zeros((k_seg, num_outputs), np.float32)
        for j in range(seg.shape[0]):
            for i in range(num_outputs):
                total = np.float32(0)
                for k in range(n_alpha):
                    buf = struct.pack("<QQQQ", int(key[j]) & M, i, k, MAGIC)
                    h = xxh64(buf[:4], seed % 2**64)  # hash_data.size() == 4 bytes
                    w = weight[(h >> 1) % weight.shape[0]]
                    w = -w if h & 1 else w
                    total += w * alpha[0][k] if alpha else w
                out[seg[j], i] += total * val[j]
        return [out]

    return ref


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(0, 8),
    outs=st.integers(1, 3),
    n_alpha=st.sampled_from([0, 1, 3]),
    seed=st.sampled_from([0, 5, 2**40]),
    data_seed=st.integers(0, 2**16),
)
def test_matches_caffe2_loop(n, outs, n_alpha, seed, data_seed):
    rng = np.random.default_rng(data_seed)
    val = rng.standard_normal(n).astype(np.float32)
    key = rng.integers(-(2**40), 2**40, n)
    seg = np.sort(rng.integers(0, 3, n)).astype(np.int32)
    weight = rng.standard_normal(7).astype(np.float32)
    inputs = [val, key, seg, weight]
    names = ["V", "K", "S", "W"]
    if n_alpha:
        inputs.append(rng.standard_normal(n_alpha).astype(np.float32))
        names.append("A")
    op = CreateOperator("SparseFunHash", names, ["Y"], num_outputs=outs, seed=seed)
    testing.check_reference(op, inputs, caffe2_loop(outs, seed), atol=1e-5)
    op = CreateOperator(
        "SparseFunHash", names, ["Y"], num_outputs=outs, seed=seed, num_segments=4
    )
    testing.check_reference(op, inputs, caffe2_loop(outs, seed, 4), atol=1e-5)


def test_errors():
    v, k = np.ones(2, np.float32), np.array([1, 2])
    s, w = np.array([0, 1], np.int32), np.ones(3, np.float32)
    op = CreateOperator("SparseFunHash", ["V", "K", "S", "W"], ["Y"], num_outputs=2)
    testing.check_raises(
        CreateOperator("SparseFunHash", ["V", "K", "S", "W"], ["Y"]),
        [v, k, s, w],
        ArgumentError,
        "Argument `num_outputs` is missing.",
    )
    testing.check_raises(
        op, [v, k.astype(np.int32), s, w], DTypeError, "caller expects"
    )
    testing.check_raises(
        op, [v, k, s.astype(np.int64), w], DTypeError, "caller expects"
    )
    testing.check_raises(
        op,
        [v, k, np.array([0, -1], np.int32), w],
        EnforceError,
        "Segment id out of range",
    )
    testing.check_raises(op, [v[:1], k, s, w], Exception, "one entry per segment id")


def test_gradient_maker_and_numeric_gradient():
    op = CreateOperator(
        "SparseFunHash", ["V", "K", "S", "W", "A"], ["Y"], num_outputs=2
    )
    ops, grads = GradientRegistry.GetBackwardPass([op], {"Y": "Y_grad"})
    assert [(o.type, list(o.input), list(o.output)) for o in ops] == [
        (
            "SparseFunHashGradient",
            ["Y_grad", "V", "K", "S", "W", "A"],
            ["W_grad_values", "W_grad_indices", "A_grad"],
        )
    ]
    assert (str(grads["W"].indices), str(grads["W"].values)) == (
        "W_grad_indices",
        "W_grad_values",
    )
    assert str(grads["A"]) == "A_grad"
    rng = np.random.default_rng(0)
    val = rng.standard_normal(4).astype(np.float32)
    key = np.array([3, 9, 3, 100])
    seg = np.array([0, 0, 1, 2], np.int32)
    weight = rng.standard_normal(5).astype(np.float32)
    alpha = rng.standard_normal(2).astype(np.float32)
    testing.check_gradient(op, [val, key, seg, weight, alpha], [3, 4])
    plain = CreateOperator("SparseFunHash", ["V", "K", "S", "W"], ["Y"], num_outputs=3)
    testing.check_gradient(plain, [val, key, seg, weight], 3)


def test_gradient_decisions():
    assert registry.GRADIENTS["SparseFunHash"].kind == registry.MAKER
    assert (
        registry.GRADIENTS["SparseFunHashGradient"].kind == registry.NOT_IMPLEMENTED_YET
    )


def test_negative_sizes_are_argument_errors():
    v, k = np.ones(2, np.float32), np.array([1, 2])
    s, w = np.array([0, 1], np.int32), np.ones(3, np.float32)
    for kw, msg in (
        ({"num_outputs": -1}, "num_outputs must be >= 0"),
        ({"num_outputs": 1, "num_segments": -2}, "num_segments must be"),
    ):
        op = CreateOperator("SparseFunHash", ["V", "K", "S", "W"], ["Y"], **kw)
        testing.check_raises(op, [v, k, s, w], ArgumentError, msg)
