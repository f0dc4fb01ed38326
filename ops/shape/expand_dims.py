"""ExpandDims: insert dimensions of size 1; its gradient is a Squeeze of the same
``dims``."""

from __future__ import annotations

import numpy as np

from caffe2lite.errors import ArgumentError
from caffe2lite.schema.example import Example
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.registry import register_cpu_operator, register_gradient
from caffe2lite.schema.shapes import TensorShape

from .._dense import enforce_cmp, tensor

DIMS = Arg("dims", "ints", [], doc="the dimension ids (as seen in the expanded tensor)",
           check=lambda dims: len(dims) > 0, check_message="Parameter `dims` must be provided.",
           expected="at least one dimension id")


def sorted_dims(dims: list[int]) -> list[int]:
    """Caffe2's normalisation: sorted, repeats dropped, none negative."""
    if not dims:
        raise ArgumentError("Parameter `dims` must be provided.", arg="dims",
                            expected="at least one dimension id", found=dims)
    unique = sorted(set(dims))
    if unique[0] < 0:
        raise ArgumentError("Dimension ids must be non-negative.", arg="dims",
                            expected="dims >= 0", found=dims)
    return unique


def expanded(shape: tuple, dims: list[int]) -> tuple:
    """``shape`` with a 1 inserted at each of the sorted ``dims``."""
    unique = sorted_dims(dims)
    enforce_cmp(len(shape) + len(unique) >= unique[-1] + 1,
                "input.sizes().size() + dims_.size() >= dims_.back() + 1",
                len(shape) + len(unique), unique[-1] + 1,
                f"Input needs at least {1 + unique[-1] - len(unique)} dimensions given `dims`.",
                blob="data")
    out = list(shape)
    for d in unique:
        out.insert(d, 1)
    return tuple(out)


def _shape(data: TensorShape, *, dims: list[int]) -> tuple[TensorShape]:
    if data.dims is None:
        sorted_dims(dims)
        return (TensorShape(None, data.dtype),)
    return (TensorShape(expanded(data.dims, dims), data.dtype),)


@register_cpu_operator(
    "ExpandDims",
    inputs=["data"],
    outputs=["expanded"],
    args=[DIMS],
    allow_inplace=[(0, 0)],
    shape=_shape,
    example=Example({"data": np.zeros((3, 4, 5), np.float32)},
                    {"expanded": np.zeros((1, 3, 4, 5, 1), np.float32)}, {"dims": [0, 4]}),
    doc="""Insert dimensions of size 1 into data's shape (any type) at the ids in
``dims`` (required, non-negative, counted in the output; repeats are ignored).
In-place use is allowed.

Example: data of shape (3, 4, 5) with dims=[0, 4] -> expanded of shape (1, 3, 4, 5, 1)""",
)
def expand_dims(data: np.ndarray, *, dims: list[int]) -> tuple:
    """A reshape with the new unit dimensions."""
    tensor(data, "data")
    return (data.reshape(expanded(data.shape, dims)),)


@register_gradient("ExpandDims")
def expand_dims_gradient_maker(g):
    """``Squeeze([expanded_grad]) -> [data_grad]`` (dims rides along)."""
    return [g.op_def("Squeeze", [g.GO(0)], [g.GI(0)])]
