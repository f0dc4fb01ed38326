"""Fused4BitRowwiseQuantizedToFloat / Fused2BitRowwiseQuantizedToFloat against a
per-element loop, edges and errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite.builder.operator import CreateOperator
from caffe2lite.errors import DTypeError, ShapeError
from caffe2lite.testing import check_raises, check_reference

F = np.float32


def op(bits):
    return CreateOperator(f"Fused{bits}BitRowwiseQuantizedToFloat", ["Q"], ["Y"])


def naive(bits):
    def ref(q):
        k = 8 // bits
        out = []
        for row in q.reshape(-1, q.shape[-1]):
            scale, bias = (F(v) for v in np.frombuffer(bytes(row[-4:].tolist()), "<f2"))
            vals = []
            for col in range((len(row) - 4) * k):
                code = (int(row[col // k]) >> ((col % k) * bits)) & ((1 << bits) - 1)
                vals.append(F(F(scale * F(code)) + bias))
            out.append(vals)
        return [np.array(out, F).reshape(q.shape[:-1] + ((q.shape[-1] - 4) * k,))]

    return ref


@pytest.mark.parametrize("bits", [4, 2])
@settings(max_examples=25, deadline=None)
@given(
    shape=st.sampled_from([(1, 5), (3, 8), (2, 3, 6), (0, 6), (4, 4)]),
    seed=st.integers(0, 2**16),
)
def test_matches_loop(bits, shape, seed):
    rng = np.random.default_rng(seed)
    q = rng.integers(0, 256, shape).astype(np.uint8)
    sb = rng.standard_normal(shape[:-1] + (2,)).astype("<f2").view(np.uint8)
    q[..., -4:] = sb
    check_reference(op(bits), [q], naive(bits), atol=0, rtol=0)


def test_errors():
    check_raises(op(4), [np.zeros((2, 3), np.uint8)], ShapeError, "at least 4 bytes")
    check_raises(op(2), [np.zeros((2, 6), np.int8)], DTypeError, "unsigned char")
