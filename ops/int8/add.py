"""Int8Add, Int8AddRelu and their aliases Int8Sum, Int8SumRelu: element-wise sum of two
Int8 tensors of one shape, in gemmlowp fixed point (int8_utils.h) as Caffe2's
TensorFlow Lite derived kernel computed it."""

from __future__ import annotations

import numpy as np

from caffe2lite.errors import EnforceError, ShapeError
from caffe2lite.io.int8 import Int8Tensor
from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import (
    gradient_not_implemented_yet,
    register_cpu_operator,
)
from caffe2lite.schema.shapes import TensorShape

from .._dense import dims
from ._q8 import (
    Y_ARGS,
    int8_input,
    multiply_by_quantized_multiplier,
    quantize_multiplier_smaller_than_one,
    relu_floor,
)

LEFT_SHIFT = 20


def _shape(a: TensorShape, *rest: TensorShape, **kwargs) -> tuple[TensorShape]:
    return (TensorShape(a.dims, np.dtype(np.uint8)),)


def int8_add_forward(
    a: Int8Tensor, b: Int8Tensor, y_scale: float, y_zp: int, relu: bool
) -> Int8Tensor:
    if a.data.shape != b.data.shape:
        raise ShapeError(
            "Int8Add has no broadcast support: B must have A's shape",
            blob="B",
            expected=dims(a.data.shape),
            found=dims(b.data.shape),
        )
    for q, name in ((a, "A"), (b, "B")):
        if not -256 < -q.zero_point < 256:
            raise EnforceError(
                f"Check failed: X_offset > -256 ({-q.zero_point} vs. -256)",
                blob=name,
                expected="a zero point in (-256, 256)",
                found=q.zero_point,
            )
    sa, sb, sy = (float(np.float32(s)) for s in (a.scale, b.scale, y_scale))
    twice_max = float(np.float32(2 * max(np.float32(sa), np.float32(sb))))
    ma, sha = quantize_multiplier_smaller_than_one(sa / twice_max)
    mb, shb = quantize_multiplier_smaller_than_one(sb / twice_max)
    my, shy = quantize_multiplier_smaller_than_one(
        twice_max / float(np.float32((1 << LEFT_SHIFT) * np.float32(sy)))
    )
    xa = (a.data.astype(np.int64) - a.zero_point) << LEFT_SHIFT
    xb = (b.data.astype(np.int64) - b.zero_point) << LEFT_SHIFT
    raw = multiply_by_quantized_multiplier(
        xa, ma, sha
    ) + multiply_by_quantized_multiplier(xb, mb, shb)
    y = multiply_by_quantized_multiplier(raw, my, shy) + y_zp
    low = relu_floor(y_scale, y_zp) if relu else 0
    return Int8Tensor(np.clip(y, low, 255).astype(np.uint8), sy, int(y_zp))


_A = Int8Tensor(np.array([10, 20, 0], np.uint8), 0.5, 0)
_B = Int8Tensor(np.array([4, 6, 0], np.uint8), 1.0, 2)

_DOC = """Element-wise sum of two Int8 tensors of the same shape (no broadcasting), {what}
Each input is taken relative to its zero point, scaled to the larger input scale in
gemmlowp fixed point (values shifted left by 20 bits, multipliers from
QuantizeMultiplierSmallerThanOne, rounding doubling high multiply, rounding right
shift), summed, and brought to Y_scale the same way, then Y_zero_point is added and
the result saturated to [{low}, 255]. Y is uint8 of A's shape with Y_scale and
Y_zero_point. Caffe2 read past a smaller B; here a shape mismatch is an error.

Example: A=[10, 20, 0] (scale 0.5), B=[4, 6, 0] (scale 1, zero point 2) with
Y_scale=1 -> Y=[{y}] (5 + 2, 10 + 4, 0 - 2{clamp})"""


def _register(op_type: str, relu: bool, n_inputs, what: str) -> None:
    ex = Example(
        {"A": _A, "B": _B},
        {"C": Int8Tensor(np.array([7, 14, 0], np.uint8), 1.0, 0)},
        {"Y_scale": 1.0, "Y_zero_point": 0},
    )
    doc = _DOC.format(
        what=what,
        low="the quantised 0 (Relu)" if relu else "0",
        y="7, 14, 0",
        clamp=" saturated to 0",
    )
    inputs = ["A", "B"]

    @register_cpu_operator(
        op_type,
        inputs=inputs,
        outputs=["C"],
        num_inputs=n_inputs,
        args=Y_ARGS,
        allow_inplace=[(0, 0), (1, 0)],
        shape=_shape,
        example=ex,
        doc=doc,
    )
    def kernel(*xs, Y_scale: float, Y_zero_point: int):
        if len(xs) != 2:
            raise EnforceError(
                f"Inputs().size() == 2. {len(xs)} vs 2", expected=2, found=len(xs)
            )
        a, b = int8_input(xs[0], "A"), int8_input(xs[1], "B")
        return (int8_add_forward(a, b, Y_scale, Y_zero_point, relu),)

    kernel.__name__ = kernel.__qualname__ = "int8_" + op_type[4:].lower()
    gradient_not_implemented_yet(op_type)


_register("Int8Add", False, 2, "C = A + B.")
_register("Int8AddRelu", True, 2, "C = max(A + B, 0).")
_register(
    "Int8Sum",
    False,
    (1, None),
    "C = A + B (Caffe2 defined Int8Sum as an alias of Int8Add: its schema takes 1 or "
    "more inputs, but the kernel enforces exactly two).",
)
_register(
    "Int8SumRelu",
    True,
    (1, None),
    "C = max(A + B, 0) (an alias of Int8AddRelu: 1 or more inputs in the schema, "
    "exactly two at run time).",
)
