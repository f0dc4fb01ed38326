"""Squeeze: remove dimensions of size 1; its gradient is an ExpandDims of the same
``dims``."""

from __future__ import annotations

import numpy as np

from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import register_cpu_operator, register_gradient
from caffe2lite.schema.shapes import TensorShape

from .._dense import enforce_cmp, tensor
from .expand_dims import DIMS, sorted_dims


def squeezed(shape: tuple, dims: list[int], check_rank: bool = True) -> tuple:
    """``shape`` without the ``dims`` (each of which must be 1)."""
    unique = sorted_dims(dims)
    if check_rank:
        enforce_cmp(len(shape) > unique[-1], "input.dim() > dims_.back()", len(shape),
                    unique[-1], f"Input needs at least {unique[-1] + 1} dimensions.",
                    blob="data")
    for d in unique:
        if d < len(shape) and shape[d] != 1 and not isinstance(shape[d], str):
            enforce_cmp(False, "inputDims[i] == 1", shape[d], 1,
                        f"Dimension {d} of input must be 1 instead of {shape[d]}.", blob="data")
    drop = set(unique)
    return tuple(s for i, s in enumerate(shape) if i not in drop)


def _shape(data: TensorShape, *, dims: list[int]) -> tuple[TensorShape]:
    if data.dims is None:
        sorted_dims(dims)
        return (TensorShape(None, data.dtype),)
    return (TensorShape(squeezed(data.dims, dims, check_rank=False), data.dtype),)


@register_cpu_operator(
    "Squeeze",
    inputs=["data"],
    outputs=["squeezed"],
    args=[DIMS],
    allow_inplace=[(0, 0)],
    shape=_shape,
    example=Example({"data": np.zeros((1, 3, 1, 2), np.int32)},
                    {"squeezed": np.zeros((3, 2), np.int32)}, {"dims": [0, 2]}),
    doc="""Remove the dimensions listed in ``dims`` (required, non-negative, each of
size 1 in data; repeats are ignored) from data's shape (any type): the inverse of
ExpandDims with the same ``dims``. In-place use is allowed.

Example: data of shape (1, 3, 1, 2) with dims=[0, 2] -> squeezed of shape (3, 2)""",
)
def squeeze(data: np.ndarray, *, dims: list[int]) -> tuple:
    """A reshape without the unit dimensions."""
    tensor(data, "data")
    return (data.reshape(squeezed(data.shape, dims)),)


@register_gradient("Squeeze")
def squeeze_gradient_maker(g):
    """``ExpandDims([squeezed_grad]) -> [data_grad]`` (dims rides along)."""
    return [g.op_def("ExpandDims", [g.GO(0)], [g.GI(0)])]
