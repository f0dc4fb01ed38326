"""Mean (the element-wise mean of one or more tensors) and its gradient op MeanGradient."""

from __future__ import annotations

import numpy as np

from caffe2lite.errors import DTypeError, EnforceError, ShapeError
from caffe2lite.schema.checks import check_dtype, cpp_type_name
from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import (
    gradient_not_implemented_yet,
    register_cpu_operator,
    register_gradient,
)
from caffe2lite.schema.shapes import TensorShape, broadcast_shapes, same_as_input

from .._dense import FLOATS, dims


def _f(values) -> np.ndarray:
    return np.array(values, np.float32)


def _float_input(x, blob: str) -> np.dtype:
    """Caffe2's ``IsType<float>()`` test (float64 accepted too)."""
    check_dtype(x, blob, *FLOATS)  # a non-tensor raises here
    return x.dtype


def _type_error(x, blob: str) -> DTypeError:
    return DTypeError("Mean operator only supports 32-bit float, but input was of type "
                      f"{cpp_type_name(x.dtype)}", blob=blob, expected="float32 or float64",
                      found=str(x.dtype))


def _broadcast_dims(shapes) -> tuple[int, ...]:
    """Caffe2's ComputeBroadcastDims for Mean: numpy-style alignment from the right; a
    0 anywhere in a column gives 0."""
    ndim = max(len(s) for s in shapes)
    out = []
    for k in range(1, ndim + 1):
        best = -1
        for s in shapes:
            if k > len(s):
                continue
            d = s[-k]
            if not (best in (-1, 1) or d == best or d == 1):
                raise ShapeError(
                    "max_dim == -1 || max_dim == 1 || input_dims[i][isz] == max_dim || "
                    "input_dims[i][isz] == 1", expected="shapes that broadcast",
                    found=", ".join(dims(t) for t in shapes))
            best = 0 if d == 0 else max(best, d)
        out.append(best)
    return tuple(reversed(out))


def _mean_shape(*inputs: TensorShape) -> tuple[TensorShape]:
    """The broadcast of every input's shape, the first input's type."""
    out = inputs[0].dims
    for s in inputs[1:]:
        out = broadcast_shapes(out, s.dims, "Mean inputs")
    return (TensorShape(out, inputs[0].dtype),)


@register_cpu_operator(
    "Mean",
    inputs=["X"],
    outputs=["M"],
    num_inputs=(1, None),
    allow_inplace=[(0, 0)],
    shape=_mean_shape,
    example=Example({"X": _f([[1, 2], [3, 4]]), "Y": _f([[3, 0], [3, 1]]),
                     "Z": _f([[2, 4], [0, 1]])}, {"M": _f([[2, 2], [2, 2]])}),
    doc="""Element-wise mean of one or more tensors of one type (float32 or float64): M =
(X + Y + ...) / n, the inputs added in order, then scaled by 1/n. Shapes broadcast
numpy-style; M may overwrite the first input in place when it has the broadcast shape
("Cannot broadcast output to the first input." otherwise).""",
)
def mean(*inputs: np.ndarray, op_def) -> tuple:
    """The sum of the inputs, broadcast, times 1/n."""
    first = inputs[0]
    if not isinstance(first, np.ndarray) or first.dtype not in FLOATS:
        if isinstance(first, np.ndarray):
            raise _type_error(first, "X")
        _float_input(first, "X")
    for i, x in enumerate(inputs[1:], start=1):
        check_dtype(x, f"input {i}", first.dtype)
    shape = _broadcast_dims([x.shape for x in inputs])
    if op_def.output[0] == op_def.input[0] and shape != first.shape:
        raise EnforceError("Cannot broadcast output to the first input.", blob="X",
                           expected=f"the broadcast shape {dims(shape)}",
                           found=dims(first.shape))
    out = np.array(np.broadcast_to(first, shape), dtype=first.dtype)
    for x in inputs[1:]:
        np.add(out, x, out=out)
    scale = np.float32(1) / np.float32(len(inputs)) if first.dtype == np.float32 \
        else 1.0 / len(inputs)
    out *= first.dtype.type(scale)
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
    doc="""Gradient of Mean: every output is dY / n (n the number of outputs, one per
forward input), with dY's shape and type (float32 or float64). As in Caffe2, an input
that Mean broadcast gets a gradient of the broadcast shape, not its own.""",
)
def mean_gradient(dy: np.ndarray, *, num_outputs: int) -> tuple:
    """dY scaled by 1/n, once per output."""
    if not isinstance(dy, np.ndarray) or dy.dtype not in FLOATS:
        if isinstance(dy, np.ndarray):
            raise _type_error(dy, "dY")
        _float_input(dy, "dY")
    scale = np.float32(1) / np.float32(num_outputs) if dy.dtype == np.float32 \
        else 1.0 / num_outputs
    dx = np.asarray(dy * dy.dtype.type(scale), dy.dtype)
    return (dx,) + tuple(dx.copy() for _ in range(num_outputs - 1))


gradient_not_implemented_yet("MeanGradient")
