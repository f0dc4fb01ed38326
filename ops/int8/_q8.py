"""What the Int8 operators share: Caffe2's Int8TensorCPU blob checks, quantisation of
floats (QuantizeUint8), the gemmlowp fixed-point multipliers of int8_utils.h
(QuantizeMultiplierSmallerThanOne, MultiplyByQuantizedMultiplierSmallerThanOne) and
QNNPACK's requantisation of int32 accumulators (the q31 multiplier taken from the
float scale's bits). Not an operator module: nothing is registered here.

All arithmetic is vectorised over int64 arrays that hold exactly the int32 values
Caffe2's C++ computed.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from caffe2lite.errors import DTypeError, EnforceError
from caffe2lite.io.int8 import Int8Tensor
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.shapes import TensorShape

INT8_TYPE = "caffe2::int8::Int8TensorCPU"
INT32_MIN = -(1 << 31)
INT32_MAX = (1 << 31) - 1

Y_ARGS = [
    Arg("Y_scale", float, 1.0, doc="output tensor quantization scale"),
    Arg("Y_zero_point", int, 0, doc="output tensor quantization offset"),
]


def blob_type(value: Any) -> str:
    if isinstance(value, Int8Tensor):
        return INT8_TYPE
    if isinstance(value, np.ndarray):
        return "caffe2::Tensor"
    if isinstance(value, bytes):
        return "std::string"
    return type(value).__name__


def int8_input(value: Any, blob: str, dtype: Any = np.uint8) -> Int8Tensor:
    """``value`` must be an Int8TensorCPU blob whose data has ``dtype``; Caffe2's
    Blob::Get message otherwise."""
    if not isinstance(value, Int8Tensor):
        found = blob_type(value)
        raise DTypeError(
            f"wrong type for the Blob instance. Blob contains {found} while caller expects "
            f"{INT8_TYPE}",
            blob=blob,
            expected=INT8_TYPE,
            found=found,
        )
    if not isinstance(value.data, np.ndarray) or value.data.dtype != np.dtype(dtype):
        found = getattr(value.data, "dtype", type(value.data).__name__)
        raise DTypeError(
            f"Tensor type mismatch, caller expects elements to be {np.dtype(dtype).name}, "
            f"while tensor contains {found}.",
            blob=blob,
            expected=f"{np.dtype(dtype).name} data",
            found=found,
        )
    return value


def float_input(x: Any, blob: str) -> np.ndarray:
    """A float32 tensor (Caffe2's ``X.data<float>()``)."""
    if not isinstance(x, np.ndarray) or x.dtype != np.float32:
        found = getattr(x, "dtype", blob_type(x))
        raise DTypeError(
            f"Tensor type mismatch, caller expects elements to be float, while tensor "
            f"contains {found}.",
            blob=blob,
            expected="float32",
            found=found,
        )
    return x


def int8_shape(shape: TensorShape, dtype: Any = np.uint8) -> TensorShape:
    return TensorShape(shape.dims, np.dtype(dtype))


def quantize_uint8(x: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """QuantizeUint8: zero_point + nearbyint(x / scale) in float32 arithmetic (ties to
    even), saturated to [0, 255]."""
    q = np.asarray(x, np.float32) / np.float32(scale)
    with np.errstate(invalid="ignore"):
        q = np.rint(np.clip(q, -(2.0**31), 2.0**31 - 128))  # NaN stays NaN
    q = np.nan_to_num(q, nan=0.0).astype(np.int64) + int(zero_point)
    return np.clip(q, 0, 255).astype(np.uint8)


def relu_floor(scale: float, zero_point: int) -> int:
    """The lowest uint8 of a Relu-fused output (activationLimits RELU): 0 quantised."""
    return int(quantize_uint8(np.zeros(1, np.float32), scale, zero_point)[0])


# -- gemmlowp fixed point (int8_utils.h) -----------------------------------------------


def quantize_multiplier_smaller_than_one(real: float) -> tuple[int, int]:
    """(quantized_multiplier, right_shift) with real = m * 2**-31 * 2**-shift."""
    if not (0.0 <= real < 1.0):
        raise EnforceError(
            f"Check failed: double_multiplier < 1. (the real multiplier is {real})",
            expected="a multiplier in [0, 1)",
            found=real,
        )
    if real == 0.0:
        return 0, 0
    q, exponent = math.frexp(real)
    shift = -exponent
    q_fixed = round(q * (1 << 31))  # Python's round is nearbyint's ties-to-even
    if q_fixed == 1 << 31:
        q_fixed //= 2
        shift -= 1
    if shift < 0:
        raise EnforceError(
            f"Check failed: *right_shift >= 0 ({shift} vs. 0)",
            expected="right shift >= 0",
            found=shift,
        )
    return int(q_fixed), int(shift)


def quantize_multipliers(real: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """QuantizeMultiplierSmallerThanOne over an array of real multipliers."""
    real = np.asarray(real, np.float64)
    if real.size and not ((real >= 0) & (real < 1)).all():
        bad = float(real[~((real >= 0) & (real < 1))][0])
        raise EnforceError(
            f"Check failed: double_multiplier < 1. (the real multiplier is {bad})",
            expected="a multiplier in [0, 1)",
            found=bad,
        )
    q, exponent = np.frexp(real)
    q_fixed = np.rint(q * float(1 << 31)).astype(np.int64)  # nearbyint: ties to even
    shift = -exponent.astype(np.int64)
    full = q_fixed == (1 << 31)
    q_fixed = np.where(full, q_fixed // 2, q_fixed)
    shift = np.where(full, shift - 1, shift)
    zero = real == 0
    return np.where(zero, 0, q_fixed), np.where(zero, 0, shift)


def _trunc_div_pow2(x: np.ndarray, bits: int) -> np.ndarray:
    """x / 2**bits rounded towards zero (C integer division)."""
    return np.where(x >= 0, x >> bits, -((-x) >> bits))


def saturating_rounding_doubling_high_mul(a: np.ndarray, b) -> np.ndarray:
    """gemmlowp's SaturatingRoundingDoublingHighMul; ``b`` a multiplier or an array of
    them broadcasting against ``a``."""
    a = np.asarray(a, np.int64)
    b = np.asarray(b, np.int64)
    ab = a * b
    nudge = np.where(ab >= 0, np.int64(1 << 30), np.int64(1 - (1 << 30)))
    out = _trunc_div_pow2(ab + nudge, 31)
    return np.where((a == INT32_MIN) & (b == INT32_MIN), INT32_MAX, out)


def rounding_divide_by_pot(x: np.ndarray, exponent) -> np.ndarray:
    """gemmlowp's RoundingDivideByPOT (``exponent`` a shift or an array of them)."""
    exponent = np.asarray(exponent, np.int64)
    mask = (np.int64(1) << exponent) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (x < 0)
    return (x >> exponent) + (remainder > threshold)


def multiply_by_quantized_multiplier(
    x: np.ndarray, multiplier: int, shift: int
) -> np.ndarray:
    """MultiplyByQuantizedMultiplierSmallerThanOne, element-wise over int64 ``x``."""
    return rounding_divide_by_pot(
        saturating_rounding_doubling_high_mul(x, multiplier), shift
    )


def wrap_int32(x: np.ndarray) -> np.ndarray:
    """The int32 that two's complement arithmetic leaves of ``x``."""
    return ((np.asarray(x, np.int64) + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)


# -- QNNPACK requantisation of accumulators --------------------------------------------


def _check_scale(value: float, what: str, failure: str) -> None:
    v = np.float32(value)
    if not (v > 0 and np.isfinite(v) and abs(v) >= np.finfo(np.float32).tiny):
        raise EnforceError(
            failure, expected=f"a positive normal {what} scale", found=value
        )


def qnnp_scale(
    input_scale: float,
    kernel_scale: float,
    output_scale: float,
    failure: str,
    what: str,
) -> np.float32:
    """QNNPACK's requantisation scale in float32 (input * kernel / output), checked as
    QNNPACK checked it when creating the operator (Caffe2 then raised ``failure``)."""
    for value, name in (
        (input_scale, "input"),
        (kernel_scale, "kernel"),
        (output_scale, "output"),
    ):
        _check_scale(value, name, failure)
    scale = np.float32(np.float32(input_scale) * np.float32(kernel_scale)) / np.float32(
        output_scale
    )
    if not scale < 1.0:
        raise EnforceError(
            failure,
            expected=f"{what} scale < 1.0 (input scale * kernel scale / output scale)",
            found=float(scale),
        )
    if scale < np.float32(2.0**-32):
        raise EnforceError(
            failure, expected=f"{what} scale >= 2**-32", found=float(scale)
        )
    return scale


def qnnp_requantize(
    acc: np.ndarray, scale: np.float32, zero_point: int, qmin: int, qmax: int
) -> np.ndarray:
    """QNNPACK's q31 requantisation of int32 accumulators to uint8: the multiplier is
    the float scale's mantissa, rounding to nearest with ties away from zero."""
    bits = int(np.float32(scale).view(np.uint32))
    multiplier = ((bits & 0x007FFFFF) | 0x00800000) << 7
    shift = 127 + 31 - 32 - (bits >> 23)
    acc = np.asarray(acc, np.int64)
    q31 = wrap_int32((acc * multiplier + (1 << 30)) >> 31)
    mask = (1 << shift) - 1
    remainder = (q31 & mask) - (acc < 0)
    out = (q31 >> shift) + (remainder > (mask >> 1))
    out = np.clip(out, qmin - zero_point, qmax - zero_point) + zero_point
    return out.astype(np.uint8)
