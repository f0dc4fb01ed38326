"""Fused8BitRowwiseQuantizedToFloat: a per-element loop, the round trip of Caffe2's
test, edges and errors."""

from __future__ import annotations

import struct

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite.builder.operator import CreateOperator
from caffe2lite.errors import DTypeError, ShapeError
from caffe2lite.testing import check_raises, check_reference
from caffe2lite.workspace import Workspace

OP = CreateOperator("Fused8BitRowwiseQuantizedToFloat", ["Q"], ["Y"])
F = np.float32


def naive(q):
    rows = q.reshape(-1, q.shape[-1])
    out = []
    for row in rows:
        scale, bias = struct.unpack("<ff", bytes(row[-8:].tolist()))
        out.append([F(F(F(c) * F(scale)) + F(bias)) for c in row[:-8].tolist()])
    return [np.array(out, np.float32).reshape(q.shape[:-1] + (q.shape[-1] - 8,))]


def fused(codes, scale, bias):
    sb = np.stack([scale, bias], axis=-1).astype("<f4").view(np.uint8)
    return np.concatenate([codes.astype(np.uint8), sb], axis=-1)


@settings(max_examples=30, deadline=None)
@given(
    shape=st.sampled_from([(1, 1), (3, 5), (2, 3, 4), (0, 3), (4, 0)]),
    seed=st.integers(0, 2**16),
)
def test_matches_loop(shape, seed):
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 256, shape)
    scale = rng.random(shape[:-1]).astype(np.float32)
    bias = rng.standard_normal(shape[:-1]).astype(np.float32)
    check_reference(OP, [fused(codes, scale, bias)], naive, atol=0, rtol=0)


def test_round_trip_with_the_quantizer():
    x = np.random.default_rng(3).standard_normal((6, 10)).astype(np.float32)
    ws = Workspace()
    ws.feed_blob("X", x)
    ws.run_operator_once(
        CreateOperator("FloatToFused8BitRowwiseQuantized", ["X"], ["Q"])
    )
    ws.run_operator_once(OP)
    y = ws.fetch_blob("Y")
    step = (x.max(1) - x.min(1)) / 255
    assert y.shape == x.shape and np.all(np.abs(y - x) <= step[:, None] / 2 + 1e-6)


def test_errors():
    check_raises(
        OP,
        [np.zeros((2, 9), np.float32)],
        DTypeError,
        "caller expects elements to be unsigned char",
    )
    check_raises(OP, [np.zeros((2, 7), np.uint8)], ShapeError, "at least 8 bytes")
    check_raises(OP, [np.array(3, np.uint8)], ShapeError, "at least 1")
