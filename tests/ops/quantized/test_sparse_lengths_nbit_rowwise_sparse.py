"""SparseLengths{Sum,WeightedSum,Mean}{8,4,2}BitRowwiseSparse and
SparseLengthsSumSparseLookup on Caffe2's test cases (lengths_reducer_fused_nbit_rowwise_ops_test:
the pruned lookup equals, bit for bit, the unpruned lookup on the table whose pruned
rows are zeroed; the mapping [0] falls back to the unpruned lookup), edges and errors."""

from __future__ import annotations

import re

import numpy as np
import pytest
from c2l_test_support.kernels import embedding_kernels  # noqa: F401 (autouse)
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite.builder.operator import CreateOperator
from caffe2lite.errors import DTypeError, EnforceError
from caffe2lite.inference import infer_op
from caffe2lite.schema import registry
from caffe2lite.schema.shapes import TensorShape
from caffe2lite.testing import check_raises
from caffe2lite.workspace import Workspace

REDUCERS = ["Sum", "WeightedSum", "Mean"]


def inputs_of(reducer):
    return ["D", "W", "I", "L"] if reducer == "WeightedSum" else ["D", "I", "L"]


def sparse_op(reducer, bits):
    return CreateOperator(f"SparseLengths{reducer}{bits}BitRowwiseSparse",
                          inputs_of(reducer) + ["M"], ["Y"])


def dense_op(reducer, bits):
    return CreateOperator(f"SparseLengths{reducer}Fused{bits}BitRowwise",
                          inputs_of(reducer), ["Y"])


def quantized(x, bits):
    ws = Workspace()
    ws.feed_blob("X", x)
    ws.run_operator_once(CreateOperator(f"FloatToFused{bits}BitRowwiseQuantized", ["X"], ["Q"]))
    return ws.fetch_blob("Q")


def run(op, **blobs):
    ws = Workspace()
    for name, value in blobs.items():
        ws.feed_blob(name, value)
    ws.run_operator_once(op)
    return ws.fetch_blob("Y")


def lookup_case(rng, num_rows, blocksize, empty):
    """Caffe2's test data: lengths of equal size, ids over the whole table."""
    if empty:
        return np.zeros(num_rows, np.int32), 0
    num_indices = int(rng.integers(len(range(num_rows))))
    split = int(np.clip(num_indices // 2, 1, 10))
    lengths = np.full(num_indices // split, split, np.int32)
    return lengths, num_indices // split * split


@settings(max_examples=60, deadline=None)
@given(num_rows=st.integers(1, 20), blocksize=st.sampled_from([8, 12, 16, 32, 64, 96, 128]),
       reducer=st.sampled_from(REDUCERS), empty=st.booleans(), bits=st.sampled_from([2, 4, 8]),
       index_type=st.sampled_from([np.int32, np.int64]), seed=st.integers(0, 2**32 - 1))
def test_pruned_lookup_equals_the_lookup_on_the_zeroed_table(num_rows, blocksize, reducer,
                                                             empty, bits, index_type, seed):
    rng = np.random.default_rng(seed)
    data = quantized(rng.random((num_rows, blocksize), dtype=np.float32), bits)
    lengths, n = lookup_case(rng, num_rows, blocksize, empty)
    indices = rng.integers(0, num_rows, n).astype(index_type)
    weights = rng.uniform(size=n).astype(np.float32)
    mapping = np.zeros(num_rows, np.int32)
    kept = []
    for i in range(num_rows):
        if rng.uniform() < 0.7:
            mapping[i] = -1
            data[i, :] = 0
        else:
            mapping[i] = len(kept)
            kept.append(i)
    feeds = {"I": indices, "L": lengths}
    if reducer == "WeightedSum":
        feeds["W"] = weights
    want = run(dense_op(reducer, bits), D=data, **feeds)
    got = run(sparse_op(reducer, bits), D=data[kept], M=mapping, **feeds)
    np.testing.assert_array_equal(got, want)
    assert got.dtype == np.float32 and got.shape == want.shape


@pytest.mark.parametrize("bits", [2, 4, 8])
@pytest.mark.parametrize("reducer", REDUCERS)
def test_the_mapping_0_means_not_pruned(bits, reducer):
    rng = np.random.default_rng(bits)
    data = quantized(rng.standard_normal((7, 16)).astype(np.float32), bits)
    feeds = {"I": np.array([6, 0, 3, 3, 1], np.int64), "L": np.array([2, 0, 3], np.int32)}
    if reducer == "WeightedSum":
        feeds["W"] = np.array([0.5, 2, 1, -1, 3], np.float32)
    want = run(dense_op(reducer, bits), D=data, **feeds)
    got = run(sparse_op(reducer, bits), D=data, M=np.array([0], np.int32), **feeds)
    np.testing.assert_array_equal(got, want)


def test_a_mean_counts_the_pruned_ids():
    # rows de-quantise to [-1, 0] and [4, 6]; id 1 is pruned: segment 0 is [4, 6] / 2,
    # segment 2 holds only the pruned id
    data = np.array([[32, 0, 56, 0, 188], [100, 0, 60, 0, 0]], np.uint8)
    out = run(sparse_op("Mean", 4), D=data, I=np.array([0, 1, 2, 1], np.int32),
              L=np.array([2, 1, 1], np.int32), M=np.array([1, -1, 0], np.int32))
    np.testing.assert_array_equal(out, np.array([[2, 3], [-1, 0], [0, 0]], np.float32))


def test_errors_change_nothing():
    data = quantized(np.ones((2, 8), np.float32), 4)
    base = {"D": data, "I": np.array([0, 2], np.int64), "L": np.array([2], np.int32),
            "M": np.array([1, -1, 0], np.int32)}
    check_raises(sparse_op("Sum", 4), {**base, "I": np.array([0, 3], np.int64)},
                 EnforceError, "Index 1 is out of bounds: 3, range 0 to 3")
    check_raises(sparse_op("Sum", 4), {**base, "M": np.array([1, -1, 2], np.int32)},
                 EnforceError, re.escape("COMPRESSED_INDICES_MAPPING maps id 2 (index 1) to "
                                         "row 2, which DATA does not have (2 rows)"))
    check_raises(sparse_op("Sum", 4), {**base, "M": np.array([1, -1, 0], np.int64)},
                 DTypeError, "COMPRESSED_INDICES_MAPPING")
    check_raises(sparse_op("Sum", 4), {**base, "L": np.array([3], np.int32)},
                 EnforceError, "current < index_size")
    weighted = {"D": base["D"], "W": np.ones(3, np.float32), "I": base["I"], "L": base["L"],
                "M": base["M"]}  # (in the op's input order)
    check_raises(sparse_op("WeightedSum", 4), weighted,
                 EnforceError, "WEIGHTS should have the same length as INDICES")


@pytest.mark.parametrize("bits, cols, width", [(8, 12, 4), (4, 12, 16), (2, 12, 32)])
def test_shape_inference(bits, cols, width):
    f = np.dtype(np.float32)
    shapes = [TensorShape((5, cols), np.dtype(np.uint8)), TensorShape((9,), np.dtype(np.int64)),
              TensorShape((3,), np.dtype(np.int32)), TensorShape((40,), np.dtype(np.int32))]
    assert infer_op(sparse_op("Sum", bits), shapes) == [TensorShape((3, width), f)]


def lookup(with_weights, num_outputs=None):
    inputs = ["I", "L", "M"] + (["W"] if with_weights else [])
    outputs = ["I2", "L2", "W2"][: num_outputs or (3 if with_weights else 2)]
    return CreateOperator("SparseLengthsSumSparseLookup", inputs, outputs)


@pytest.mark.parametrize("index_type", [np.int32, np.int64])
def test_sparse_lookup_feeds_the_float_lookup_on_the_pruned_table(index_type):
    rng = np.random.default_rng(3)
    table = rng.standard_normal((10, 4)).astype(np.float32)
    mapping = np.array([-1, 0, 1, -1, -1, 2, 3, -1, 4, -1], np.int32)
    zeroed = np.where((mapping == -1)[:, None], np.float32(0), table)
    pruned = table[mapping != -1]
    indices = rng.integers(0, 10, 30).astype(index_type)
    lengths = np.array([5, 0, 10, 15], np.int32)
    weights = rng.standard_normal(30).astype(np.float32)
    ws = Workspace()
    for name, value in {"I": indices, "L": lengths, "M": mapping, "W": weights}.items():
        ws.feed_blob(name, value)
    ws.run_operator_once(lookup(True))
    i2, l2, w2 = (ws.fetch_blob(n) for n in ("I2", "L2", "W2"))
    keep = mapping[indices] != -1
    np.testing.assert_array_equal(i2, mapping[indices][keep])
    assert i2.dtype == index_type and l2.dtype == np.int32 and w2.dtype == np.float32
    np.testing.assert_array_equal(w2, weights[keep])
    assert l2.tolist() == [int(keep[a:b].sum()) for a, b in [(0, 5), (5, 5), (5, 15), (15, 30)]]
    ws.feed_blob("T", pruned)
    ws.feed_blob("Z", zeroed)
    ws.run_operator_once(CreateOperator("SparseLengthsWeightedSum", ["T", "W2", "I2", "L2"], ["A"]))
    ws.run_operator_once(CreateOperator("SparseLengthsWeightedSum", ["Z", "W", "I", "L"], ["B"]))
    np.testing.assert_array_equal(ws.fetch_blob("A"), ws.fetch_blob("B"))


def test_sparse_lookup_without_weights_and_its_errors():
    feeds = {"I": np.array([2, 0, 1], np.int64), "L": np.array([1, 2], np.int32),
             "M": np.array([1, -1, 0], np.int32)}
    ws = Workspace()
    for name, value in feeds.items():
        ws.feed_blob(name, value)
    ws.run_operator_once(lookup(False))
    assert ws.fetch_blob("I2").tolist() == [0, 1] and ws.fetch_blob("L2").tolist() == [1, 1]
    check_raises(lookup(False), {**feeds, "I": np.array([2, 0, 3], np.int64)},
                 EnforceError, "Index 2 is out of bounds: 3, range 0 to 3")
    check_raises(lookup(False, 3), feeds, EnforceError, "output_weights needs WEIGHTS")
    check_raises(lookup(True), {**feeds, "W": np.ones(2, np.float32)},
                 EnforceError, "WEIGHTS should have the same length as INDICES")


@pytest.mark.parametrize("name", [f"SparseLengths{r}{b}BitRowwiseSparse" for r in REDUCERS
                                  for b in (8, 4, 2)] + ["SparseLengthsSumSparseLookup"])
def test_no_gradient(name):
    assert registry.GRADIENTS[name].kind == registry.NO_GRADIENT
