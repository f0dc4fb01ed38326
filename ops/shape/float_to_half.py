"""FloatToHalf: a float tensor converted to float16 (optionally clipped to float16's
finite range); its gradient is a HalfToFloat."""

from __future__ import annotations

import numpy as np

from caffe2lite.schema.example import Example
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.registry import register_cpu_operator, register_gradient
from caffe2lite.schema.shapes import same_as_input

from .._dense import float_tensor

_HALF_MAX = np.float32(65504.0)


@register_cpu_operator(
    "FloatToHalf",
    inputs=["X"],
    outputs=["Y"],
    args=[Arg("clip", bool, False, doc="clip to +-65504 (float16's largest finite value)")],
    shape=same_as_input(0, np.float16),
    example=Example({"X": np.array([1.5, -2.0, 1e5], np.float32)},
                    {"Y": np.array([1.5, -2.0, 65504.0], np.float16)}, {"clip": True}),
    doc="""Convert X (float32; float64 is accepted too) to float16, rounding to nearest
even; values beyond float16's range become infinite unless ``clip`` is set, which
first clamps them to +-65504 (NaN stays NaN).

Example: X=[1.5, -2, 100000] with clip=True -> Y=[1.5, -2, 65504] (float16)""",
)
def float_to_half(x: np.ndarray, *, clip: bool) -> tuple:
    """astype(float16), clamped first with ``clip``."""
    float_tensor(x, "X")
    if clip:
        x = np.clip(x, -_HALF_MAX, _HALF_MAX)
    with np.errstate(over="ignore"):
        return (x.astype(np.float16),)


@register_gradient("FloatToHalf")
def float_to_half_gradient_maker(g):
    """``HalfToFloat([Y_grad]) -> [X_grad]``."""
    return [g.op_def("HalfToFloat", [g.GO(0)], [g.GI(0)])]
