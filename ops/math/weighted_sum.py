"""WeightedSum (Y = sum of w_i * X_i, the dense SGD update) and its gradient op.

Training nets use it as ``WeightedSum([param, ONE, grad, LR], [param])``: with the
negative ``base_lr`` that Caffe2's optimizers give LearningRate, this is
``param - |lr| * grad``.
"""

from __future__ import annotations

import numpy as np

from caffe2lite.schema.checks import check_dtype, enforce
from caffe2lite.schema.registry import (
    gradient_not_implemented_yet,
    register_cpu_operator,
    register_gradient,
)
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.example import Example
from caffe2lite.schema.shapes import Cost, TensorShape, numel, same_as_input

_FLOATS = (np.float32, np.float64)
_FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


# Caffe2 states these input counts with a predicate.
_EVEN = (lambda n: n > 0 and n % 2 == 0, "an even number of inputs (at least 2)")
_ODD = (lambda n: n % 2 == 1, "an odd number of inputs (at least 1)")


def _weight(w: np.ndarray, blob: str, name: str, dtype: np.dtype) -> np.generic:
    """The single value of a weight blob, as a scalar of the data's dtype."""
    if type(w) is not np.ndarray or w.dtype not in _FLOAT_DTYPES:
        check_dtype(w, blob, *_FLOATS)
    if w.size != 1:
        enforce(
            False,
            f"{name}.numel() == 1. {w.size} vs 1",
            blob=blob,
            expected="a 1-element tensor",
            found=f"shape {w.shape}",
        )
    return dtype.type(w.reshape(-1)[0])


def _weighted_sum_cost(*inputs: TensorShape, outputs=()) -> Cost:
    """Caffe2's CostInferenceForWeightedSum (four bytes an element: Caffe2 took
    sizeof of the dtype enum)."""
    n, k = numel(inputs[0]), len(inputs)
    return Cost(
        flops=(k - 1) * n,
        bytes_read=(k // 2) * (n + 1) * 4,
        bytes_written=n * 4,
        params_bytes=(k // 2) * 4,
    )


def _weighted_sum_gradient_shape(
    dy: TensorShape, *inputs: TensorShape, grad_on_w: bool
) -> tuple[TensorShape, ...]:
    """dX_i like dY (X_i reshaped); the weights' gradients are 1-element tensors."""
    pairs = len(inputs) // 2
    dxs = [dy] * pairs
    dws = [TensorShape((1,), dy.dtype)] * pairs if grad_on_w else []
    return tuple(dxs + dws)


def _f(values) -> np.ndarray:
    return np.array(values, np.float32)


@register_cpu_operator(
    "WeightedSum",
    inputs=["data_0", "weight_0"],
    outputs=["output"],
    num_inputs=(2, None),
    allowed_inputs=_EVEN,
    allow_inplace=[(0, 0)],
    shape=same_as_input(0),
    cost=_weighted_sum_cost,
    example=Example(
        {
            "X_0": _f([1, 2]),
            "weight_0": _f([2]),
            "X_1": _f([10, 20]),
            "weight_1": _f([0.5]),
        },
        {"output": _f([7, 14])},
    ),
    doc="""Element-wise weighted sum of (X_i, weight_i) pairs: inputs X_0, weight_0,
X_1, weight_1, ... (an even number); every weight_i is a 1-element float tensor and
every X_i has the size of X_0 (only sizes are compared, as in Caffe2). The output has
X_0's shape and type. In-place use is allowed for X_0 only. The gradient is one
WeightedSumGradient op; with ``grad_on_w=1`` on the forward op it also gives the
weights' gradients.

Example: X_0=[1, 2], weight_0=[2], X_1=[10, 20], weight_1=[0.5] -> output=[7, 14]""",
)
def weighted_sum(*inputs: np.ndarray) -> tuple[np.ndarray]:
    """``sum(w_i * X_i)``, accumulated in input order as Caffe2's Scale/Axpby/Axpy."""
    x0 = inputs[0]
    if type(x0) is not np.ndarray or x0.dtype not in _FLOAT_DTYPES:
        check_dtype(x0, "data_0", *_FLOATS)
    if x0.size <= 0:
        enforce(
            False,
            f"X0.numel() > 0. {x0.size} vs 0",
            blob="data_0",
            expected="a non-empty tensor",
            found=f"shape {x0.shape}",
        )
    w0 = _weight(inputs[1], "weight_0", "weight0", x0.dtype)
    pairs = []
    for k in range(2, len(inputs), 2):
        x = inputs[k]
        if type(x) is not np.ndarray or x.dtype != x0.dtype:
            check_dtype(x, f"data_{k // 2}", x0.dtype)
        if x.size != x0.size:
            enforce(
                False,
                f"X{k // 2}.numel() == size. {x.size} vs {x0.size}",
                blob=f"data_{k // 2}",
                expected=f"{x0.size} elements (X_0 has shape {x0.shape})",
                found=f"shape {x.shape}",
            )
        pairs.append(
            (
                x.reshape(x0.shape),
                _weight(inputs[k + 1], f"weight_{k // 2}", f"weight{k // 2}", x0.dtype),
            )
        )
    if not pairs:
        return (w0 * x0,)
    x1, w1 = pairs[0]
    y = w1 * x1
    y += x0 if w0 == 1 else w0 * x0  # 1 * X is X exactly (the SGD update's ONE)
    for x, w in pairs[1:]:
        y += w * x
    return (y,)


@register_gradient("WeightedSum")
def weighted_sum_gradient_maker(g):
    """``WeightedSumGradient([dY, X_0, w_0, X_1, w_1, ...]) -> [dX_0, dX_1, ...]``,
    then ``[dw_0, dw_1, ...]`` when the forward op has ``grad_on_w``."""
    n = len(g.def_.input)
    outputs = [g.GI(i) for i in range(0, n, 2)]
    if g.arg("grad_on_w", False):
        outputs += [g.GI(i) for i in range(1, n, 2)]
    inputs = [g.GO(0)] + [g.I(i) for i in range(n)]
    return [g.op_def("WeightedSumGradient", inputs, outputs)]


@register_cpu_operator(
    "WeightedSumGradient",
    inputs=["dY", "X_0", "weight_0"],
    outputs=["dX_0"],
    num_inputs=(1, None),
    allowed_inputs=_ODD,
    num_outputs=(1, None),
    args=[Arg("grad_on_w", bool, False)],
    shape=_weighted_sum_gradient_shape,
    example=Example(
        {"dY": _f([1, 2]), "X_0": _f([3, 4]), "weight_0": _f([2])},
        {"dX_0": _f([2, 4]), "dweight_0": _f([11])},
        {"grad_on_w": 1},
    ),
    doc="""Gradient of WeightedSum: inputs dY, X_0, weight_0, X_1, weight_1, ...;
outputs dX_i = weight_i * dY for every pair, then (with ``grad_on_w``) dweight_i =
dot(dY, X_i) as 1-element tensors.

Example: dY=[1, 2], X_0=[3, 4], weight_0=[2], grad_on_w=1 -> dX_0=[2, 4], dweight_0=[11]""",
)
def weighted_sum_gradient(
    *inputs: np.ndarray, grad_on_w: bool, num_outputs: int
) -> tuple[np.ndarray, ...]:
    """dX_i = w_i * dY (and dw_i = <dY, X_i> with ``grad_on_w``)."""
    pairs = len(inputs) // 2
    expected = 2 * pairs if grad_on_w else pairs
    if num_outputs != expected:
        enforce(
            False,
            f"OutputSize() == output_size. {num_outputs} vs {expected}",
            expected=f"{expected} outputs",
            found=num_outputs,
        )
    dy = inputs[0]
    check_dtype(dy, "dY", *_FLOATS)
    dxs, dws = [], []
    for i in range(pairs):
        w = _weight(inputs[2 * i + 2], f"weight_{i}", "cur_w", dy.dtype)
        dxs.append(w * dy)
        if grad_on_w:
            x = inputs[2 * i + 1]
            check_dtype(x, f"X_{i}", dy.dtype)
            if x.size != dy.size:
                enforce(
                    False,
                    f"cur_X.numel() == size. {x.size} vs {dy.size}",
                    blob=f"X_{i}",
                    expected=f"{dy.size} elements",
                    found=f"shape {x.shape}",
                )
            dws.append(
                np.array([np.dot(dy.reshape(-1), x.reshape(-1))], dtype=dy.dtype)
            )
    return tuple(dxs + dws)


gradient_not_implemented_yet("WeightedSumGradient")
