"""What the tests of the two sparse dropout ops (SparseDropoutWithReplacement,
SparseItemwiseDropoutWithReplacement) share: inputs X (int64 ids) and Lengths
(int32), running one op, and the input errors both ops raise with Caffe2's words."""

from __future__ import annotations

import numpy as np

from caffe2lite.core import CreateOperator
from caffe2lite.errors import DTypeError, EnforceError, SchemaError, ShapeError
from caffe2lite.proto import caffe2_pb2
from caffe2lite.testing import check_raises
from caffe2lite.workspace import Workspace


def ids(lengths, seed=0):
    """Random int64 ids X for the int32 segment ``lengths``; returns (X, Lengths)."""
    lengths = np.asarray(lengths, dtype=np.int32)
    x = np.random.default_rng(seed).integers(-(1 << 40), 1 << 40, int(lengths.sum()))
    return x, lengths


def naive_decisions(rng, count, ratio):
    """The ops' keep decisions, one at a time: decision i reads byte i of the raw
    64-bit words (least significant byte first); with s = 256 * (1 - ratio) a byte
    b keeps when b + 1 <= s, drops when b >= s, and otherwise (b < s < b + 1) is a
    tie, settled after all the bytes, in order, by one rng.random() < s - b.
    ``ratio`` is the float32 an Argument carries."""
    scaled = 256.0 * (1.0 - float(np.float32(ratio)))
    words = rng.bit_generator.random_raw((count + 7) // 8).tolist()
    decisions, tied = [], []
    for i in range(count):
        byte = (words[i // 8] >> (8 * (i % 8))) & 0xFF
        if byte + 1 <= scaled or byte >= scaled:
            decisions.append(byte + 1 <= scaled)
        else:
            decisions.append(None)
            tied.append((i, byte))
    for i, byte in tied:
        decisions[i] = rng.random() < scaled - byte
    return decisions


def run_dropout(op_type, x, lengths, seed=None, **args):
    """Run the op (with ``random_seed`` when ``seed`` is given) on X and Lengths;
    returns (Y, OutputLengths)."""
    ws = Workspace()
    ws.feed_blob("X", x)
    ws.feed_blob("Lengths", lengths)
    if seed is not None:
        args["random_seed"] = seed
    ws.run_operator_once(
        CreateOperator(op_type, ["X", "Lengths"], ["Y", "OutputLengths"], **args)
    )
    return ws.fetch_blob("Y"), ws.fetch_blob("OutputLengths")


def assert_outputs(got, want):
    """Same dtypes, shapes and values, output by output."""
    for g, w in zip(got, want):
        assert g.dtype == w.dtype and g.shape == w.shape
        np.testing.assert_array_equal(g, w)


def dropout_net(name, op, **feeds):
    """A net named ``name`` holding ``op``, and the feeds (with Y and OutputLengths
    already holding something, which a failing run must leave unchanged)."""
    net = caffe2_pb2.NetDef(name=name)
    net.op.append(op)
    feeds.setdefault("Y", np.array([7], dtype=np.int64))
    feeds.setdefault("OutputLengths", np.array([1], dtype=np.int32))
    return net, feeds


def dropout_op(op_type, *outputs, **args):
    """The op reading X and Lengths, writing ``outputs`` (Y, OutputLengths by
    default)."""
    return CreateOperator(
        op_type, ["X", "Lengths"], list(outputs or ["Y", "OutputLengths"]), **args
    )


BAD_INPUTS = [  # (X, Lengths, error type, message) for both ops
    (
        np.zeros((2, 2), np.int64),
        np.array([4], np.int32),
        ShapeError,
        "Input tensor should be 1-D",
    ),
    (
        np.zeros(4, np.int64),
        np.array([[4]], np.int32),
        ShapeError,
        "Lengths tensor should be 1-D",
    ),
    (
        np.zeros(4, np.int32),
        np.array([4], np.int32),
        DTypeError,
        "Tensor type mismatch, caller expects elements to be long while tensor contains int",
    ),
    (
        np.zeros(4, np.int64),
        np.array([4], np.int64),
        DTypeError,
        "Tensor type mismatch, caller expects elements to be int while tensor contains long",
    ),
    (
        np.zeros(4, np.int64),
        np.array([1, 2], np.int32),
        EnforceError,
        r"Inconsistent input data\. Number of elements should match total length\.",
    ),
    (
        np.zeros(4, np.int64),
        np.array([5, -1], np.int32),
        EnforceError,
        "Segment lengths must be non-negative",
    ),
]

WRONG_OUTPUTS = [(["Y"], 1), (["Y", "OL", "Z"], 3)]  # (outputs, how many)


def check_wrong_number_of_outputs(name, op_type, outputs, found):
    """The op with ``outputs`` (``found`` of them, not 2) is refused by its schema."""
    net, feeds = dropout_net(
        name,
        dropout_op(op_type, *outputs),
        X=np.zeros(1, np.int64),
        Lengths=np.array([1], np.int32),
    )
    check_raises(
        net,
        feeds,
        SchemaError,
        f"Output size {found} not matching expected output size, which is 2",
    )
