"""SumElements, SumElementsInt and SumSqrElements: the sum (or, with ``average``, the
mean) of all of a tensor's elements, or of their squares, as a 0-d tensor; and
SumElementsGradient. One table: the three differ in the types they take and in
squaring."""

from __future__ import annotations

import numpy as np

from caffe2lite.errors import EnforceError
from caffe2lite.schema.checks import check_dtype
from caffe2lite.schema.example import Example
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.registry import (
    gradient_not_implemented_yet,
    register_cpu_operator,
    register_gradient,
    should_not_do_gradient,
)
from caffe2lite.schema.shapes import TensorShape

from .._dense import FLOATS, dims, dispatch

_AVERAGE = [Arg("average", bool, False, doc="divide the sum by the number of elements")]


def _scalar_shape(dtype):
    def shape(x: TensorShape, **_) -> tuple[TensorShape]:
        """A 0-d tensor (Caffe2's ScalarType)."""
        return (TensorShape((), dtype if dtype is not None else x.dtype),)

    return shape


def _mean(total: np.ndarray, n: int, dtype: np.dtype) -> np.ndarray:
    """Caffe2's Scale by float(1) / n, skipped for an empty X (the sum is then 0)."""
    if n == 0:
        return total
    return np.asarray(np.float32(1) / np.float32(n) * total, dtype)


@register_cpu_operator(
    "SumElements",
    inputs=["X"],
    outputs=["sum"],
    args=_AVERAGE,
    shape=_scalar_shape(None),
    example=Example({"X": np.array([[7, 2, 5], [9, 4, 2], [1, 2, 5]], np.float32)},
                    {"sum": np.array(37, np.float32)}),
    doc="""The sum of all of X's elements (float32 as in Caffe2; float64 too, so
gradients can be checked in double precision) as a 0-d tensor of X's type; with
``average`` the sum times float(1) / X's size (an empty X gives 0 either way).

Example: X=[[7, 2, 5], [9, 4, 2], [1, 2, 5]] -> sum=37 (with average: 4.111111)""",
)
def sum_elements(x: np.ndarray, *, average: bool) -> tuple:
    """np.sum, then Caffe2's scaling for the mean."""
    check_dtype(x, "X", *FLOATS)
    total = np.asarray(np.sum(x, dtype=x.dtype), x.dtype)
    return (_mean(total, x.size, x.dtype) if average else total,)


@register_cpu_operator(
    "SumElementsInt",
    inputs=["X"],
    outputs=["sum"],
    shape=_scalar_shape(np.dtype(np.int32)),
    example=Example({"X": np.array([[7, 2, 5], [9, 4, 2]], np.int32)},
                    {"sum": np.array(29, np.int32)}),
    doc="""The sum of all of X's int32 elements as a 0-d int32 tensor (wrapping around
as C++ int arithmetic does).

Example: X=[[7, 2, 5], [9, 4, 2]] -> sum=29""",
)
def sum_elements_int(x: np.ndarray) -> tuple:
    """np.sum in int32."""
    check_dtype(x, "X", np.int32)
    return (np.asarray(np.sum(x, dtype=np.int32), np.int32),)


@register_cpu_operator(
    "SumSqrElements",
    inputs=["X"],
    outputs=["sum"],
    args=_AVERAGE,
    shape=_scalar_shape(None),
    example=Example({"X": np.array([1, -2, 3], np.float32)}, {"sum": np.array(14, np.float32)}),
    doc="""The sum of the squares of X's elements (float32 or float64) as a 0-d tensor
of X's type; with ``average`` times float(1) / X's size (an empty X gives 0).

Example: X=[1, -2, 3] -> sum=14 (with average: 4.6666665)""",
)
def sum_sqr_elements(x: np.ndarray, *, average: bool) -> tuple:
    """np.sum of x * x, then Caffe2's scaling for the mean."""
    dtype = dispatch(x, "X", FLOATS)
    total = np.asarray(np.sum(x * x, dtype=dtype), dtype)
    return (_mean(total, x.size, dtype) if average else total,)


@register_gradient("SumElements")
def sum_elements_gradient_maker(g):
    """``SumElementsGradient([X, sum_grad]) -> [X_grad]`` (average rides along)."""
    return [g.op_def("SumElementsGradient", [g.I(0), g.GO(0)], [g.GI(0)])]


@register_cpu_operator(
    "SumElementsGradient",
    inputs=["X", "sum_grad"],
    outputs=["dX"],
    args=_AVERAGE,
    shape=lambda x, dy, **_: (TensorShape(x.dims, x.dtype),),
    example=Example({"X": np.zeros((2, 2), np.float32), "sum_grad": np.array(3, np.float32)},
                    {"dX": np.full((2, 2), 3, np.float32)}),
    doc="""Gradient of SumElements: dX has X's shape and type, every element
sum_grad (one element), times 1.0 / X's size (in double, as Caffe2) with ``average``.

Example: X of shape (2, 2), sum_grad=3 -> dX=[[3, 3], [3, 3]]""",
)
def sum_elements_gradient(x: np.ndarray, dy: np.ndarray, *, average: bool) -> tuple:
    """A tensor of X's shape filled with sum_grad (divided by X's size for a mean)."""
    check_dtype(x, "X", *FLOATS)
    check_dtype(dy, "sum_grad", x.dtype)
    if dy.size != 1:
        raise EnforceError("sum_grad must hold one element", blob="sum_grad",
                           expected="1 element", found=f"shape {dims(dy.shape)}")
    if x.size == 0:
        return (np.zeros(x.shape, x.dtype),)
    scale = 1.0 / x.size if average else 1.0
    value = x.dtype.type(float(dy.reshape(-1)[0]) * scale)
    return (np.full(x.shape, value, x.dtype),)


should_not_do_gradient("SumElementsInt")
gradient_not_implemented_yet("SumSqrElements")
gradient_not_implemented_yet("SumElementsGradient")
