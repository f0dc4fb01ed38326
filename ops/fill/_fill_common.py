"""Helpers shared by the filler ops added beside UniformFill and GaussianFill
(XavierFill, MSRAFill, RangeFill, DiagonalFill, the given-tensor fills of uint8 and
float16): their shape/type function, the fan of a weight shape, and float32 uniform
draws. Not an operator module: nothing is registered here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from caffe2lite.errors import ShapeError
from caffe2lite.schema.shapes import TensorShape


def filler_dims(
    inputs: Sequence[TensorShape],
    shape: Any,
    extra_shape: Sequence[int],
    input_as_shape: bool,
) -> tuple | None:
    """The output dims of a FillerOp, as far as shapes tell: the ``shape`` argument
    without an input; the input's dims plus ``extra_shape`` with one; with
    ``input_as_shape`` one symbol per entry of the 1-D input (its values decide)."""
    if not inputs:
        return tuple(shape) if isinstance(shape, list) else None
    source = inputs[0]
    if source.dims is None:
        return None
    if input_as_shape:
        if len(source.dims) != 1 or not isinstance(source.dims[0], int):
            return None
        dims: tuple = tuple(f"input[{i}]" for i in range(source.dims[0]))
    else:
        dims = tuple(source.dims)
    return dims + tuple(extra_shape)


def filler_shape_function(dtype: Any) -> Callable[..., tuple[TensorShape]]:
    """A shape function for a FillerOp whose output type is ``dtype``. (Caffe2's own
    FillerTensorInference forgot ``extra_shape``; this one appends it, as the kernel
    does.)"""
    out_dtype = np.dtype(dtype)

    def shape_fn(
        *inputs: TensorShape, shape: Any, extra_shape: list[int], input_as_shape: bool
    ) -> tuple[TensorShape]:
        dims = filler_dims(inputs, shape, extra_shape, input_as_shape)
        return (TensorShape(dims, out_dtype),)

    shape_fn.__name__ = f"filler_shape_{out_dtype.name}"
    return shape_fn


def fan(out_shape: tuple[int, ...], axis: int, op_type: str, what: str) -> int:
    """``size // out_shape[axis]`` (Caffe2's integer fan_in / fan_out). The output needs
    dimension ``axis`` and it must not be 0 (Caffe2 divided by it: undefined)."""
    if len(out_shape) <= axis:
        raise ShapeError(
            f"{op_type} computes {what} = size / shape[{axis}], so its output needs at "
            f"least {axis + 1} dimension{'s' if axis else ''}",
            expected=f"a shape of rank >= {axis + 1}",
            found=list(out_shape),
        )
    if out_shape[axis] == 0:
        raise ShapeError(
            f"{op_type} computes {what} = size / shape[{axis}], which is undefined when "
            f"shape[{axis}] is 0",
            expected=f"shape[{axis}] > 0",
            found=list(out_shape),
        )
    size = int(np.prod(out_shape, dtype=np.int64))
    return size // out_shape[axis]


def uniform_floats(
    rng: np.random.Generator, shape: tuple[int, ...], lo: np.float32, hi: np.float32
) -> np.ndarray:
    """float32 samples of U[lo, hi) (a rounding up to ``hi`` is pulled back below it)."""
    out = rng.random(shape, dtype=np.float32)
    out *= hi - lo
    out += lo
    if hi > lo:
        np.minimum(out, np.nextafter(hi, lo), out=out)
    return out
