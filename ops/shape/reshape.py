"""Reshape: the same data under a new shape (from the ``shape`` argument or a second
input), with the old shape as a second output. Its gradient is a Reshape back to the
old shape."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from caffe2lite.errors import ArgumentError, EnforceError, ShapeError
from caffe2lite.schema.example import Example
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.registry import register_cpu_operator, register_gradient
from caffe2lite.schema.shapes import UNKNOWN, TensorShape

from .._dense import dims, dispatch, tensor

_INT = (np.dtype(np.int32), np.dtype(np.int64))


def resolve_shape(new: Sequence[int], old: Sequence[int], total: int) -> tuple[int, ...]:
    """Caffe2's rules: for a non-empty input a 0 copies the input's dimension at that
    position (positions past its rank stay 0); one -1 takes what is left (0 for an
    empty input). Raises Caffe2's messages where the shape cannot fit."""
    out = [int(d) for d in new]
    if any(d < -1 for d in out):
        raise ArgumentError("The dimensions in argument `shape` must not be a negative "
                            "number.", arg="shape", expected="dimensions >= -1",
                            found=list(new))
    if total != 0:
        for i in range(min(len(out), len(old))):
            if out[i] == 0:
                out[i] = int(old[i])
    missing = [i for i, d in enumerate(out) if d == -1]
    if len(missing) > 1:
        raise ArgumentError("Argument `shape` has more than one missing dimension.",
                            arg="shape", expected="at most one -1", found=list(new))
    size = 1
    for d in out:
        if d != -1:
            size *= d
    if size == 0 and total != 0:
        raise ShapeError(f"Can not reshape a non-zero size ({total}) tensor to zero size.",
                         arg="shape", expected=f"{total} elements", found=list(new))
    if missing:
        if total == 0:
            out[missing[0]] = 0
        elif total % size:
            raise ShapeError(f"Argument `shape` does not agree with the input data. ({total} "
                             f"vs {size})", arg="shape", expected=f"a shape dividing {total} "
                             "elements", found=list(new))
        else:
            out[missing[0]] = total // size
    elif total != size:
        # Caffe2 checked this only for a non-empty input; an empty one came back with
        # `size` uninitialised elements.
        raise ShapeError(f"total_size == size. {total} vs {size}. Argument `shape` does not "
                         f"agree with the input data. ({total} != {size})", arg="shape",
                         expected=f"{total} elements", found=f"{list(new)}: {size} elements")
    return tuple(out)


def _shape(data: TensorShape, new_shape: TensorShape | None = None, *,
           shape: list[int] | None) -> tuple[TensorShape, TensorShape]:
    old_type = np.dtype(np.int64)
    if new_shape is not None and new_shape.dtype == np.dtype(np.int32):
        old_type = new_shape.dtype
    old = TensorShape(None if data.dims is None else (len(data.dims),), old_type)
    if shape is None:
        if new_shape is None:
            raise EnforceError("New shape must be specified by either the input blob or the "
                               "argument `shape`.", arg="shape")
        if new_shape.known and len(new_shape.dims) == 1:
            rank = new_shape.dims[0]
            return TensorShape(tuple(f"new_shape[{i}]" for i in range(rank)), data.dtype), old
        return UNKNOWN.with_dtype(data.dtype), old
    if new_shape is not None:
        raise EnforceError("New shape must not be specified by the input blob and the "
                           "argument `shape` at the same time.", arg="shape")
    if not data.known:
        if data.dims is None and any(d in (0, -1) for d in shape):
            return TensorShape(None, data.dtype), old
        dims = []  # data's size is symbolic: 0 copies its dimension, -1 stays a symbol
        for i, d in enumerate(shape):
            if d == 0 and data.dims is not None and i < len(data.dims):
                d = data.dims[i]
            dims.append("reshaped_rest" if d == -1 else d)
        return TensorShape(tuple(dims), data.dtype), old
    total = 1
    for d in data.dims:
        total *= d
    return TensorShape(resolve_shape(shape, data.dims, total), data.dtype), old


@register_cpu_operator(
    "Reshape",
    inputs=["data", "new_shape"],
    outputs=["reshaped", "old_shape"],
    num_inputs=(1, 2),
    args=[Arg("shape", "ints", None, doc="the new shape (not with the new_shape input)")],
    allow_inplace=[(0, 0)],
    shape=_shape,
    example=Example({"data": np.arange(6, dtype=np.float32)},
                    {"reshaped": np.arange(6, dtype=np.float32).reshape(3, 2),
                     "old_shape": np.array([6], np.int64)}, {"shape": [3, -1]}),
    doc="""Reshape data like numpy.reshape: the new shape comes from the ``shape``
argument or from the 1-D int32/int64 input new_shape (not both). For a non-empty data
a 0 in the new shape copies data's dimension at that position (a 0 past data's rank
stays 0); at most one -1 takes the size left
over (0 when data is empty). old_shape (int64, or int32 when new_shape is int32)
holds data's shape. In-place use (reshaped = data) is allowed. (For an empty data
Caffe2 skipped the size check and returned uninitialised elements; here the sizes
must agree.)

Example: data=[0, 1, 2, 3, 4, 5] with shape=[3, -1] -> reshaped=[[0, 1], [2, 3],
[4, 5]], old_shape=[6]""",
)
def reshape(data: np.ndarray, new_shape: np.ndarray | None = None, *,
            shape: list[int] | None) -> tuple:
    """np.reshape after Caffe2's 0 and -1 rules."""
    tensor(data, "data")
    index_type = np.dtype(np.int64)
    if new_shape is None:
        if shape is None:
            raise ArgumentError("Argument `shape` is missing.", arg="shape",
                                expected="the shape argument or a new_shape input")
        wanted = list(shape)
    else:
        index_type = dispatch(new_shape, "new_shape", _INT)
        if shape is not None:
            raise ArgumentError("New shape is specified by the input blob, do not pass in "
                                "the argument `shape`.", arg="shape",
                                expected="no shape argument with a new_shape input",
                                found=list(shape))
        if new_shape.ndim != 1:
            raise ShapeError("Shape should be 1-D", blob="new_shape", expected="1-D",
                             found=f"shape {dims(new_shape.shape)}")
        wanted = [int(v) for v in new_shape.tolist()]
    out_shape = resolve_shape(wanted, data.shape, data.size)
    old = np.array(data.shape, dtype=index_type)
    return (data.reshape(out_shape), old)


@register_gradient("Reshape", copy_arguments=False)
def reshape_gradient_maker(g):
    """``Reshape([reshaped_grad, old_shape]) -> [data_grad, _data_grad_dims]``: back to
    the old shape; the ``shape`` argument is not copied."""
    grad = g.GI(0)
    return [g.op_def("Reshape", [g.GO(0), g.O(1)], [grad, f"_{grad}_dims"])]
