"""UniformFill: a float tensor of uniform samples in [min, max)."""

from __future__ import annotations

from typing import Any

import numpy as np

from caffe2lite.schema.checks import check_dtype, enforce
from caffe2lite.schema.registry import no_gradient, register_cpu_operator
from caffe2lite.schema.opschema import Arg

from caffe2lite.schema.example import Example

from ._filler import (
    SHAPE_ARGS,
    filler_shape,
    filler_shape_function,
    split_inputs,
)


def uniform_range(
    op_type: str,
    inputs: tuple,
    lo: Any,
    hi: Any,
    dtype: type,
    default_hi: Any,
    fmt: str,
) -> tuple[list, Any, Any, bool]:
    """(shape inputs, min, max, empty) for UniformFill / UniformIntFill.

    With 3 inputs the bounds come from the 1-element min and max blobs (and the
    arguments must be unset); ``empty`` is then ``min > max``, which Caffe2 answered
    with an output whose first dimension is 0. Otherwise min < max is required.
    """
    shape_inputs, lo_blob, hi_blob = split_inputs(inputs, op_type)
    if lo_blob is None:
        lo = dtype(0) if lo is None else dtype(lo)
        hi = dtype(default_hi) if hi is None else dtype(hi)
        enforce(
            lo < hi,
            f"min_ < max_. {lo:{fmt}} vs {hi:{fmt}}. Max value should be bigger "
            "than min value.",
            arg="max",
            expected=f"max > min = {lo:{fmt}}",
            found=hi,
        )
        return shape_inputs, lo, hi, False
    enforce(
        lo is None,
        "Cannot set both min arg and min input blob",
        arg="min",
        expected="no min argument with 3 inputs",
        found=lo,
    )
    enforce(
        hi is None,
        "Cannot set both max arg and max input blob",
        arg="max",
        expected="no max argument with 3 inputs",
        found=hi,
    )
    for blob, name in ((lo_blob, "min"), (hi_blob, "max")):
        check_dtype(blob, name, dtype)
        enforce(
            blob.size == 1,
            f"1 == Input({1 if name == 'min' else 2}).numel(). 1 vs "
            f"{blob.size}. {name} blob must be scalar",
            blob=name,
            expected="1 element",
            found=f"shape {blob.shape}",
        )
    lo, hi = lo_blob.reshape(-1)[0], hi_blob.reshape(-1)[0]
    return shape_inputs, lo, hi, bool(lo > hi)


def empty_first_dim(shape: tuple[int, ...]) -> tuple[int, ...]:
    """The shape with its first dimension set to 0 (``(0,)`` for a scalar shape)."""
    return (0,) + shape[1:]


@register_cpu_operator(
    "UniformFill",
    inputs=["input", "min", "max"],
    outputs=["output"],
    shape=filler_shape_function(lambda kw: np.dtype(np.float32), bounded=True),
    example=Example(
        {},
        {"output": np.array([[0.27, -0.91, 0.55], [-0.33, 0.08, 0.72]], np.float32)},
        {"shape": [2, 3], "min": -1.0, "max": 1.0},
        exact=False,
    ),
    allowed_inputs={0, 1, 3},
    allow_inplace=[(0, 0)],
    args=[
        Arg("min", float, None, doc="lower bound, inclusive (default 0)"),
        Arg("max", float, None, doc="upper bound, exclusive (default 1)"),
    ]
    + SHAPE_ARGS,
    doc="""Fill a float32 tensor with samples drawn uniformly from [min, max). The shape
follows the filler rules: the ``shape`` argument without an input; the input's shape
(or its int64 values with ``input_as_shape``) followed by ``extra_shape`` with one.
With 3 inputs (input, min, max) the bounds are the 1-element float min and max blobs
(the min/max arguments must then be unset), and min > max gives an output whose first
dimension is 0. Without them min < max is required. Random draws come from the
operator's generator, seeded by ``device_option.random_seed``.

Example: shape=[2, 3], min=-1, max=1 -> output=[[0.27, -0.91, 0.55], [-0.33, 0.08, 0.72]]
(any values in [-1, 1), shape (2, 3))""",
)
def uniform_fill(
    *inputs: np.ndarray,
    min: float | None,
    max: float | None,
    shape: Any,
    extra_shape: list[int],
    input_as_shape: bool,
    rng: np.random.Generator,
) -> tuple[np.ndarray]:
    """Uniform float32 samples in [min, max) of the filler shape."""
    shape_inputs, lo, hi, empty = uniform_range(
        "UniformFill", inputs, min, max, np.float32, 1.0, "g"
    )
    out_shape = filler_shape(shape_inputs, shape, extra_shape, input_as_shape)
    if empty:
        return (np.empty(empty_first_dim(out_shape), dtype=np.float32),)
    out = rng.random(out_shape, dtype=np.float32)
    out *= hi - lo
    out += lo
    if hi > lo:  # float rounding of u * (max - min) + min may reach max
        np.minimum(out, np.nextafter(hi, lo), out=out)
    return (out,)


no_gradient("UniformFill")
