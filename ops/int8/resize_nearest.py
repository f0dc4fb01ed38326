"""Int8ResizeNearest: nearest-neighbour resize of an NHWC uint8 Int8 tensor."""

from __future__ import annotations

import numpy as np

from caffe2lite.errors import ArgumentError, ShapeError
from caffe2lite.io.int8 import Int8Tensor
from caffe2lite.schema.example import Example
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.registry import (
    gradient_not_implemented_yet,
    register_cpu_operator,
)
from caffe2lite.schema.shapes import TensorShape

from ._q8 import Y_ARGS, int8_input
from ._same_q import same_quantisation

MAX_ELEMENTS = 1 << 31


def _out_size(size: int, scale: float) -> int:
    return int(np.float32(size) * np.float32(scale))


def _scales(output_size, h, w, height_scale: float, width_scale: float):
    """The scales, replaced by output_size // input size when output_size is given."""
    if not output_size:
        return height_scale, width_scale
    if len(output_size) != 2:
        raise ArgumentError(
            f"2 == output_dims.size(). 2 vs {len(output_size)}. Int8ResizeNearest expects "
            "2 dim output size",
            arg="output_size",
            expected="[height, width]",
            found=list(output_size),
        )
    if h == 0 or w == 0:
        raise ShapeError(
            "output_size needs a non-empty input image",
            blob="X",
            expected="H, W > 0",
            found=[h, w],
        )
    return float(output_size[0] // h), float(output_size[1] // w)


def _shape(
    x: TensorShape, *, width_scale: float, height_scale: float, output_size=(), **kwargs
):
    u8 = np.dtype(np.uint8)
    if x.dims is None or len(x.dims) != 4:
        return (TensorShape(None, u8),)
    n, h, w, c = x.dims
    if output_size and isinstance(h, int) and isinstance(w, int):
        height_scale, width_scale = _scales(
            output_size, h, w, height_scale, width_scale
        )
    oh = _out_size(h, height_scale) if isinstance(h, int) else f"{h}*{height_scale}"
    ow = _out_size(w, width_scale) if isinstance(w, int) else f"{w}*{width_scale}"
    return (TensorShape((n, oh, ow, c), u8),)


def _positive(name: str):
    return Arg(
        name,
        float,
        1.0,
        doc=f"scale of the {name.split('_')[0]} dimension",
        check=lambda v: v > 0,
        check_message=f"{name}_ > 0",
        expected="a positive scale",
    )


@register_cpu_operator(
    "Int8ResizeNearest",
    inputs=["X"],
    outputs=["Y"],
    args=Y_ARGS
    + [
        _positive("width_scale"),
        _positive("height_scale"),
        Arg(
            "output_size",
            "ints",
            (),
            doc="[height, width]: the scales become "
            "height // H and width // W (integer division, as Caffe2)",
        ),
    ],
    shape=_shape,
    example=Example(
        {"X": Int8Tensor(np.array([1, 2, 3, 4], np.uint8).reshape(1, 2, 2, 1), 0.5, 3)},
        {
            "Y": Int8Tensor(
                np.array([1, 1, 2, 1, 1, 2, 3, 3, 4, 3, 3, 4], np.uint8).reshape(
                    1, 4, 3, 1
                ),
                0.5,
                3,
            )
        },
        {"width_scale": 1.5, "height_scale": 2.0, "Y_scale": 0.5, "Y_zero_point": 3},
    ),
    doc="""Nearest-neighbour resize of an NHWC uint8 Int8 tensor: the output is
(N, int(H * height_scale), int(W * width_scale), C) and output pixel (y, x) copies
input pixel (min(int(y / height_scale), H - 1), min(int(x / width_scale), W - 1)),
in float32 as Caffe2 computed it. Y keeps X's scale and zero point; the Y_scale and
Y_zero_point arguments must equal them.

Example: X=[[[[1], [2]], [[3], [4]]]] with width_scale=1.5, height_scale=2 ->
Y=[[[[1], [1], [2]], [[1], [1], [2]], [[3], [3], [4]], [[3], [3], [4]]]]""",
)
def int8_resize_nearest(
    x,
    *,
    Y_scale: float,
    Y_zero_point: int,
    width_scale: float,
    height_scale: float,
    output_size=(),
) -> tuple:
    q = int8_input(x, "X")
    if q.data.ndim != 4:
        raise ShapeError(
            f"4 == X.t.dim(). 4 vs {q.data.ndim}",
            blob="X",
            expected="an NHWC tensor of rank 4",
            found=list(q.data.shape),
        )
    same_quantisation(q, Y_scale, Y_zero_point)
    n, h, w, c = q.data.shape
    height_scale, width_scale = _scales(output_size, h, w, height_scale, width_scale)
    oh, ow = _out_size(h, height_scale), _out_size(w, width_scale)
    if n * oh * ow * c > MAX_ELEMENTS:
        raise ArgumentError(
            "the resized tensor would be too large",
            arg="width_scale",
            expected=f"at most {MAX_ELEMENTS} elements",
            found=[n, oh, ow, c],
        )
    ys = np.minimum(
        (np.arange(oh, dtype=np.float32) / np.float32(height_scale)).astype(np.int64),
        h - 1,
    )
    xs = np.minimum(
        (np.arange(ow, dtype=np.float32) / np.float32(width_scale)).astype(np.int64),
        w - 1,
    )
    y = (
        q.data[:, ys[:, None], xs[None, :], :]
        if oh and ow
        else np.zeros((n, oh, ow, c), np.uint8)
    )
    return (Int8Tensor(np.ascontiguousarray(y), q.scale, q.zero_point),)


gradient_not_implemented_yet("Int8ResizeNearest")
