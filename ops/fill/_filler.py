"""The output-shape rules shared by Caffe2's filler ops (UniformFill, GaussianFill ...).
Not an operator module: nothing is registered here.

Caffe2's FillerOp takes 0 or 1 shape input. Without an input the shape is the
``shape`` argument; with one, it is the input's shape (or, with ``input_as_shape``,
the input's values), followed by ``extra_shape``. Caffe2 checked the argument
combinations when it created the op; here they are checked when the op runs.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from caffe2lite.schema.checks import check_dtype, enforce
from caffe2lite.errors import ArgumentError, ShapeError
from caffe2lite.schema.opschema import Arg

SHAPE_ARGS = [
    Arg("shape", "any", [], doc="the output shape when there is no input"),
    Arg("extra_shape", "ints", [], doc="dimensions appended to the input's shape"),
    Arg("input_as_shape", bool, False, doc="the 1-D int64 input holds the output shape"),
]


def filler_shape(inputs: Sequence[np.ndarray], shape: Any, extra_shape: Sequence[int],
                 input_as_shape: bool) -> tuple[int, ...]:
    """The output shape of a filler op given its (0 or 1) shape inputs and arguments.

    >>> filler_shape([np.zeros((2, 3))], [], [4], False)
    (2, 3, 4)
    >>> filler_shape([np.array([5, 1], dtype=np.int64)], [], [], True)
    (5, 1)
    >>> filler_shape([], [7], [], False)
    (7,)
    """
    if inputs:
        listed = [] if isinstance(shape, int) else list(shape)  # a scalar reads as no list
        if listed:
            raise ArgumentError("Cannot set the shape argument and pass in an input at the "
                                "same time", arg="shape", expected="no shape with an input",
                                found=listed)
        source = inputs[0]
        if input_as_shape:
            enforce(source.ndim == 1, f"input.dim() == 1. {source.ndim} vs 1. When "
                    "input_as_shape is true, the input must be a 1D tensor of data type "
                    "int64_t", blob="input", expected="a 1-D int64 tensor",
                    found=f"shape {source.shape}")
            enforce(source.size > 0, "input.numel() > 0", blob="input",
                    expected="a non-empty shape", found="an empty tensor")
            check_dtype(source, "input", np.int64)
            dims = [int(d) for d in source]
        else:
            dims = list(source.shape)
        dims += list(extra_shape)
    else:
        if extra_shape:
            raise ArgumentError("Cannot set extra_shape when there is no input",
                                arg="extra_shape", expected="no extra_shape without an input",
                                found=list(extra_shape))
        if input_as_shape:
            raise ArgumentError("An input must be given if input_as_shape is true",
                                arg="input_as_shape", expected="an input", found="no input")
        if isinstance(shape, int):
            raise ArgumentError("Fill 'shape' argument was a scalar, list expected",
                                arg="shape", expected="a list of ints", found=shape)
        if not isinstance(shape, list) or not all(isinstance(d, int) for d in shape):
            raise ArgumentError("Argument shape does not have the right field: expected "
                                "field ints", arg="shape", expected="a list of ints",
                                found=shape)
        dims = list(shape)
    if any(d < 0 for d in dims):
        raise ShapeError("a tensor dimension cannot be negative",
                         blob="input" if inputs else None, expected="dimensions >= 0",
                         found=dims)
    return tuple(dims)


def split_inputs(inputs: Sequence[np.ndarray], op_type: str) -> tuple[list, Any, Any]:
    """(shape inputs, min blob, max blob) of a filler taking 0, 1 or 3 inputs (the
    schema has already rejected 2)."""
    if len(inputs) == 3:
        return [inputs[0]], inputs[1], inputs[2]
    return list(inputs), None, None


def filler_dims(
    inputs: Sequence[Any], shape: Any, extra_shape: Sequence[int], input_as_shape: bool
) -> tuple | None:
    """The output dims of a filler from its shape inputs' TensorShapes (Caffe2's
    FillerTensorInference): the ``shape`` argument; the input's dims followed by
    ``extra_shape``; with ``input_as_shape`` the input's values, which are data
    (symbols ``input[i]``, one per element of the 1-D input). None when unknown."""
    if not inputs:
        return filler_shape([], shape, extra_shape, input_as_shape)
    listed = [] if isinstance(shape, int) else list(shape)
    if listed:
        raise ArgumentError(
            "Cannot set the shape argument and pass in an input at the same time",
            arg="shape",
            expected="no shape with an input",
            found=listed,
        )
    src = inputs[0]
    if src.dims is None:
        return None
    if input_as_shape:
        enforce(
            len(src.dims) == 1,
            f"input.dim() == 1. {len(src.dims)} vs 1. When "
            "input_as_shape is true, the input must be a 1D tensor of data type "
            "int64_t",
            blob="input",
            expected="a 1-D int64 tensor",
            found=f"shape {src.dims}",
        )
        if not isinstance(src.dims[0], int):
            return None
        head: tuple = tuple(f"input[{i}]" for i in range(src.dims[0]))
    else:
        head = tuple(src.dims)
    return head + tuple(extra_shape)


def filler_shape_function(dtype_of: Any, bounded: bool = False) -> Any:
    """A filler op's shape function: :func:`filler_dims` of its shape input (the
    first of three with ``bounded``: UniformFill's min and max blobs follow), of the
    type ``dtype_of(kwargs)`` gives."""

    def shape_fn(*inputs: Any, **kwargs: Any) -> tuple:
        from caffe2lite.schema.shapes import TensorShape

        shape_inputs = inputs[:1] if bounded and len(inputs) == 3 else inputs
        dims = filler_dims(
            shape_inputs,
            kwargs["shape"],
            kwargs["extra_shape"],
            kwargs["input_as_shape"],
        )
        return (TensorShape(dims, dtype_of(kwargs)),)

    return shape_fn
