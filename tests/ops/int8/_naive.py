"""Scalar references for the Int8 tests: Python integers, one element at a time."""

from __future__ import annotations

import math
import struct


def f32(v: float) -> float:
    return struct.unpack("<f", struct.pack("<f", v))[0]


def quantize_one(value: float, scale: float, zp: int) -> int:
    q = f32(f32(value) / f32(scale))
    r = zp + round(q)  # round() ties to even, as nearbyint
    return min(255, max(0, r))


def qnnp_one(acc: int, scale: float, zp: int, lo: int = 0, hi: int = 255) -> int:
    """QNNPACK q31 requantisation of one accumulator, from the float's fields."""
    mantissa, exponent = math.frexp(f32(scale))  # scale = mantissa * 2**exponent
    multiplier = int(mantissa * (1 << 31))  # exact: 24 significant bits
    shift = -exponent  # scale = multiplier * 2**-31 * 2**-shift
    prod = acc * multiplier
    q31 = (prod + (1 << 30)) // (1 << 31)  # round half up
    # round q31 / 2**shift to nearest, ties away from zero
    if shift == 0:
        out = q31
    else:
        half = 1 << (shift - 1)
        magnitude = (abs(q31) + half) // (1 << shift)
        out = magnitude if q31 >= 0 else -magnitude
    return min(hi - zp, max(lo - zp, out)) + zp


def srdhm(a: int, b: int) -> int:
    if a == b == -(1 << 31):
        return (1 << 31) - 1
    ab = a * b
    nudge = (1 << 30) if ab >= 0 else 1 - (1 << 30)
    t = ab + nudge
    return t // (1 << 31) if t >= 0 else -((-t) // (1 << 31))


def rdbpot(x: int, e: int) -> int:
    mask = (1 << e) - 1
    rem = x & mask
    thr = (mask >> 1) + (1 if x < 0 else 0)
    return (x >> e) + (1 if rem > thr else 0)


def qmul(real: float):
    if real == 0:
        return 0, 0
    q, e = math.frexp(real)
    m = round(q * 2**31)
    s = -e
    if m == 2**31:
        m //= 2
        s -= 1
    return m, s


def check_raises_int8(op, inputs, error, match):
    """caffe2lite.testing.check_raises for ops with Int8 blobs (which it cannot compare):
    the error and its message, and every blob unchanged afterwards."""
    import re

    import numpy as np
    import pytest

    from caffe2lite.io.int8 import Int8Tensor
    from caffe2lite.workspace import Workspace

    ws = Workspace()
    for name, value in zip(op.input, inputs):
        ws.feed_blob(name, value)
    before = {}
    for name in op.input:
        v = ws.fetch_blob(name)
        before[name] = (
            (v.data.copy(), v.scale, v.zero_point)
            if isinstance(v, Int8Tensor)
            else v.copy()
        )
    with pytest.raises(error) as info:
        ws.run(op)
    assert re.search(match, str(info.value)), str(info.value)
    for name, want in before.items():
        got = ws.fetch_blob(name)
        if isinstance(got, Int8Tensor):
            np.testing.assert_array_equal(got.data, want[0])
            assert (got.scale, got.zero_point) == want[1:]
        else:
            np.testing.assert_array_equal(got, want)
    return info.value
