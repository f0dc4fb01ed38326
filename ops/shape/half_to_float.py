"""HalfToFloat: a float16 tensor converted to float32; its gradient is a
FloatToHalf."""

from __future__ import annotations

import numpy as np

from caffe2lite.schema.checks import check_dtype
from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import register_cpu_operator, register_gradient
from caffe2lite.schema.shapes import same_as_input


@register_cpu_operator(
    "HalfToFloat",
    inputs=["X"],
    outputs=["Y"],
    shape=same_as_input(0, np.float32),
    example=Example({"X": np.array([1.5, -2.0, 65504.0], np.float16)},
                    {"Y": np.array([1.5, -2.0, 65504.0], np.float32)}),
    doc="""Convert X (float16) to float32, exactly.

Example: X=[1.5, -2, 65504] (float16) -> Y=[1.5, -2, 65504] (float32)""",
)
def half_to_float(x: np.ndarray) -> tuple:
    """astype(float32)."""
    check_dtype(x, "X", np.float16)
    return (x.astype(np.float32),)


@register_gradient("HalfToFloat")
def half_to_float_gradient_maker(g):
    """``FloatToHalf([Y_grad]) -> [X_grad]``."""
    return [g.op_def("FloatToHalf", [g.GO(0)], [g.GI(0)])]
