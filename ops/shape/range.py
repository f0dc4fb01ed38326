"""Range: the values start, start + step, ... below stop (numpy's arange), from one
to three scalar inputs."""

from __future__ import annotations

import math

import numpy as np

from caffe2lite.errors import EnforceError
from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import no_gradient, register_cpu_operator
from caffe2lite.schema.shapes import TensorShape

from .._dense import NUMERIC, dispatch, enforce_cmp, float_tensor

MAX_LENGTH = 2**31 - 1  # Caffe2 counted the length in an int


def _shape(*inputs: TensorShape) -> tuple[TensorShape]:
    return (TensorShape(("range_length",), inputs[0].dtype if inputs else None),)


def range_length(start, stop, step, integral: bool) -> int:
    """Caffe2's length: for integers trunc(diff / step), plus one when that falls
    short of diff (so a negative step can lose the last value, as in Caffe2); for
    floats ceil(diff / step) in the input's precision."""
    if integral:
        diff, step = int(stop) - int(start), int(step)
        length = abs(diff) // abs(step) * (1 if (diff >= 0) == (step > 0) else -1)
        if length * step < diff:
            length += 1
        return length
    ratio = float((stop - start) / step)
    if not math.isfinite(ratio):
        raise EnforceError("the range has no finite length", blob="stop",
                           expected="finite start, stop and step", found=ratio)
    return math.ceil(ratio)


@register_cpu_operator(
    "Range",
    inputs=["start", "stop", "step"],
    outputs=["output"],
    num_inputs=(1, 3),
    shape=_shape,
    example=Example({"start": np.array(4, np.int32), "stop": np.array(17, np.int32),
                     "step": np.array(2, np.int32)},
                    {"output": np.array([4, 6, 8, 10, 12, 14, 16], np.int32)}),
    doc="""A 1-D tensor over the half-open interval [start, stop) in steps of step:
one input is stop (start 0, step 1), two are start and stop, three add step. Every
input holds exactly one element of one type (int32, int64, float32 or float64),
which is the output's type; step must not be 0. A non-positive length gives an empty
output. (For integer types Caffe2 computed the length as trunc((stop - start) / step)
plus one if that fell short, which can drop the last value of a negative-step range;
that is kept.)

Example: start=4, stop=17, step=2 -> output=[4, 6, 8, 10, 12, 14, 16]""",
)
def range_op(*inputs: np.ndarray) -> tuple:
    """start + step * arange(length) in the inputs' type."""
    dtype = dispatch(inputs[0], "start" if len(inputs) > 1 else "stop", NUMERIC)
    names = ("stop",) if len(inputs) == 1 else ("start", "stop", "step")[:len(inputs)]
    for i, (value, name) in enumerate(zip(inputs, names)):
        float_tensor(value, name, dtype)
        enforce_cmp(value.size == 1, f"Input({i}).numel() == 1", value.size, 1,
                    "All inputs must be scalar/1D tensor.", blob=name)
    values = [dtype.type(v.reshape(-1)[0]) for v in inputs]
    start, step = dtype.type(0), dtype.type(1)
    if len(values) == 1:
        stop = values[0]
    else:
        start, stop = values[0], values[1]
        if len(values) == 3:
            step = values[2]
    enforce_cmp(step != 0, "step != 0", step, 0, "Step size cannot be 0.", blob="step")
    with np.errstate(over="ignore", invalid="ignore"):
        length = range_length(start, stop, step, dtype.kind == "i")
    if length > MAX_LENGTH:
        raise EnforceError("the range is too long", blob="stop",
                           expected=f"at most {MAX_LENGTH} values", found=length)
    if length <= 0:
        return (np.zeros(0, dtype),)
    out = np.arange(length, dtype=dtype) * step + start
    return (out.astype(dtype, copy=False),)


no_gradient("Range")
