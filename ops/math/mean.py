"""Mean (the element-wise mean of one or more tensors of one shape) and its gradient op
MeanGradient."""

from __future__ import annotations

import numpy as np

from caffe2lite.errors import DTypeError, ShapeError
from caffe2lite.schema.checks import check_dtype, cpp_type_name
from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import (
    gradient_not_implemented_yet,
    register_cpu_operator,
    register_gradient,
)
from caffe2lite.schema.shapes import same_as_input

from .._dense import FLOATS, dims, tensor


def _f(values) -> np.ndarray:
    return np.array(values, np.float32)


def _float_or_double(x, blob: str) -> np.dtype:
    """Caffe2's ``IsType<float>() / IsType<double>()`` dispatch, with its message."""
    tensor(x, blob)
    if x.dtype not in FLOATS:
        raise DTypeError("Mean operator only supports 32-bit float or 64-bit double, but "
                         f"input was of type {cpp_type_name(x.dtype)}", blob=blob,
                         expected="float32 or float64", found=str(x.dtype))
    return x.dtype


def _one_over(n: int, dtype: np.dtype):
    """Caffe2's scale ``1.0f / n``: computed in float, then used in the data's type."""
    return dtype.type(np.float32(1) / np.float32(n))


@register_cpu_operator(
    "Mean",
    inputs=["X"],
    outputs=["M"],
    num_inputs=(1, None),
    allow_inplace=[(0, 0)],
    shape=same_as_input(0),
    example=Example({"X": _f([[1, 2], [3, 4]]), "Y": _f([[3, 0], [3, 1]]),
                     "Z": _f([[2, 4], [0, 1]])}, {"M": _f([[2, 2], [2, 2]])}),
    doc="""Element-wise mean of one or more tensors of one shape and type (float32 or
float64): M = (X + Y + ...) * (1/n), the inputs added in order and the sum scaled by
1/n as computed in float (so a float64 mean is scaled by float(1/n) too, as in Caffe2).
M has the inputs' shape and type and may overwrite the first input in place.""",
)
def mean(*inputs: np.ndarray) -> tuple:
    """The sum of the inputs times 1/n."""
    first = inputs[0]
    dtype = _float_or_double(first, "X")
    for i, x in enumerate(inputs[1:], start=1):
        tensor(x, f"input {i}")
        if x.shape != first.shape:
            raise ShapeError(
                "Check failed: output->sizes() == Input(i).sizes().Description: Input "
                f"#{i}, input dimension:{dims(x.shape)} should match output dimension: "
                f"{dims(first.shape)}", blob=f"input {i}",
                expected=f"shape {dims(first.shape)}", found=dims(x.shape))
        check_dtype(x, f"input {i}", dtype)
    out = first.copy()
    for x in inputs[1:]:
        np.add(out, x, out=out)
    out *= _one_over(len(inputs), dtype)
    return (out,)


@register_gradient("Mean")
def mean_gradient_maker(g):
    """``MeanGradient([M_grad]) -> [X_grad, Y_grad, ...]``, one output per input."""
    return [g.op_def("MeanGradient", [g.GO(0)], [g.GI(i) for i in range(len(g.def_.input))])]


@register_cpu_operator(
    "MeanGradient",
    inputs=["dY"],
    outputs=["dX"],
    num_outputs=(1, None),
    allow_inplace=[(0, 0)],
    shape=same_as_input(0),
    example=Example({"dY": _f([3, 6])}, {"dX0": _f([1, 2]), "dX1": _f([1, 2]),
                                         "dX2": _f([1, 2])}),
    doc="""Gradient of Mean: every output is dY * (1/n), n the number of outputs (one per
forward input), with dY's shape and type (float32 or float64; 1/n computed in float).""",
)
def mean_gradient(dy: np.ndarray, *, num_outputs: int) -> tuple:
    """dY scaled by 1/n, once per output."""
    dtype = _float_or_double(dy, "dY")
    dx = np.asarray(np.multiply(dy, _one_over(num_outputs, dtype), dtype=dtype))
    return (dx,) + tuple(dx.copy() for _ in range(num_outputs - 1))


gradient_not_implemented_yet("MeanGradient")
