"""Helpers shared by XavierFill, MSRAFill and Float16UniformFill: the fan of a weight
shape and float32 uniform draws (the shape rules and shape function of every filler
are in _filler.py). Not an operator module: nothing is registered here.
"""

from __future__ import annotations

import numpy as np

from caffe2lite.errors import ShapeError


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
