"""Sum: the element-wise sum of one or more tensors of one shape and type."""

from __future__ import annotations

import numpy as np

from caffe2lite.schema.checks import check_dtype, cpp_type_name
from caffe2lite.errors import DTypeError, ShapeError
from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import register_cpu_operator, register_gradient
from caffe2lite.schema.shapes import Cost, TensorShape, same_as_input
from ._elementwise import first_input_pointwise_cost

_SUPPORTED = (
    np.dtype(np.float32),
    np.dtype(np.float64),
    np.dtype(np.int32),
    np.dtype(np.int64),
)


def _sum_cost(*inputs: TensorShape, outputs=()) -> Cost:
    """Caffe2's CostInferenceForSum: the point-wise cost with one flop per element
    for each input after the first."""
    c = first_input_pointwise_cost(1)(*inputs)
    return Cost(c.flops * (len(inputs) - 1), c.bytes_read, c.bytes_written, 0)


@register_cpu_operator(
    "Sum",
    inputs=["data_0"],
    outputs=["sum"],
    num_inputs=(1, None),
    allow_inplace=[(0, 0)],
    shape=same_as_input(0),
    cost=_sum_cost,
    example=Example(
        {
            "data_0": np.array([1, 2, 3], np.float32),
            "data_1": np.array([10, 20, 30], np.float32),
            "data_2": np.array([100, 200, 300], np.float32),
        },
        {"sum": np.array([111, 222, 333], np.float32)},
    ),
    doc="""Element-wise sum of each of the input tensors. The first input tensor can be
used in-place as the output tensor (only input 0). All inputs and the output have
the same shape and data type (float32, float64, int32 or int64). Integer sums wrap
around on overflow as in C++.

Example: data_0=[1, 2, 3], data_1=[10, 20, 30], data_2=[100, 200, 300]
-> sum=[111, 222, 333]""",
)
def sum_op(*inputs: np.ndarray) -> tuple:
    """data_0 + data_1 + ..., added left to right (the rounding of Caffe2's loop)."""
    first = inputs[0]
    check_dtype(first, "data_0", first.dtype if isinstance(first, np.ndarray) else None)
    if first.dtype not in _SUPPORTED:
        raise DTypeError(
            "Sum operator only supports 32-bit float, 64-bit double and ints, but input "
            f"was of type {cpp_type_name(first.dtype)}",
            blob="data_0",
            expected="float32, float64, int32 or int64",
            found=str(first.dtype),
        )
    if len(inputs) == 1:
        return (first,)
    for i, x in enumerate(inputs[1:], start=1):
        if not isinstance(x, np.ndarray) or x.shape != first.shape:
            dims = list(np.shape(x)) if isinstance(x, np.ndarray) else type(x).__name__
            raise ShapeError(
                "Check failed: output->sizes() == Input(i).sizes().Description: Input "
                f"#{i}, input dimension:{dims} should match output dimension: "
                f"{list(first.shape)}",
                blob=f"data_{i}",
                expected=f"shape {tuple(first.shape)}",
                found=f"shape {np.shape(x)}",
            )
        check_dtype(x, f"data_{i}", first.dtype)
    out = np.add(first, inputs[1], out=np.empty_like(first))
    for x in inputs[2:]:
        np.add(out, x, out=out)
    return (out,)


@register_gradient("Sum")
def sum_gradient(g):
    """No ops: the output gradient is every input's gradient (SetDense)."""
    for i in range(len(g.def_.input)):
        g.SetDense(i, g.GO(0))
    return []
