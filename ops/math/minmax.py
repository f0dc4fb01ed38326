"""Max and Min (the element-wise maximum / minimum of one or more tensors of one shape)
and their gradient ops MaxGradient and MinGradient: one table row each."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from caffe2lite.errors import ShapeError
from caffe2lite.schema.checks import check_dtype
from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import (
    gradient_not_implemented_yet,
    register_cpu_operator,
    register_gradient,
)
from caffe2lite.schema.shapes import UNKNOWN, TensorShape, same_as_input

from .._dense import FLOATS, dims, enforce_that


def _f(values) -> np.ndarray:
    return np.array(values, np.float32)


def _same_shapes(inputs, first: np.ndarray) -> None:
    """Every input has the first one's shape, with Caffe2's message."""
    for i, x in enumerate(inputs[1:], start=1):
        check_dtype(x, f"X{i}", first.dtype)
        if x.shape != first.shape:
            raise ShapeError(
                f"X{i}.sizes() == Y->sizes(). {dims(x.shape)} vs {dims(first.shape)}. "
                f"Description: Input #{i}, input dimension:{dims(x.shape)} should match "
                f"output dimension: {dims(first.shape)}", blob=f"X{i}",
                expected=f"shape {dims(first.shape)}", found=dims(x.shape))


def _gradient_shape(*inputs: TensorShape, num_outputs: int = 1) -> tuple[TensorShape, ...]:
    """dX_i has X_i's shape (input i + 2) and dY's type."""
    dtype = inputs[1].dtype if len(inputs) > 1 else None
    return tuple(TensorShape(inputs[i + 2].dims, dtype) if i + 2 < len(inputs) else UNKNOWN
                 for i in range(num_outputs))


def _register(op_type: str, word: str, ufunc: Callable, x_ex, y_ex, grad_ex) -> None:
    def kernel(*inputs: np.ndarray) -> tuple:
        first = inputs[0]
        check_dtype(first, "X0", *FLOATS)
        _same_shapes(inputs, first)
        out = first.copy()
        for x in inputs[1:]:
            ufunc(out, x, out=out)
        return (out,)

    kernel.__name__ = kernel.__qualname__ = op_type.lower()
    kernel.__doc__ = f"The element-wise {word} of the inputs, folded left to right."
    register_cpu_operator(
        op_type,
        inputs=["X"],
        outputs=["M"],
        num_inputs=(1, None),
        allow_inplace=[(0, 0)],
        shape=same_as_input(0),
        example=Example({f"X{i}": _f(v) for i, v in enumerate(x_ex)}, {"M": _f(y_ex)}),
        doc=f"""Element-wise {word} of one or more input tensors of one shape and type
(float32 or float64); M has their shape and type. NaN propagates as numpy's
``{ufunc.__name__}`` does. M may overwrite the first input in place. Caffe2 did not
check the second input's shape (it compared the first input with the output); a
mismatch there raises here as for the later inputs.""",
    )(kernel)

    grad_type = op_type + "Gradient"

    def gradient(y: np.ndarray, dy: np.ndarray, *xs: np.ndarray, num_outputs: int) -> tuple:
        check_dtype(y, "Y", *FLOATS)
        check_dtype(dy, "dY", y.dtype)
        if dy.shape != y.shape:
            enforce_that(False, "dY.sizes() == Y.sizes()", blob="dY",
                         expected=f"Y's shape {dims(y.shape)}", found=dims(dy.shape))
        if num_outputs != len(xs):
            enforce_that(False, "OutputSize() == InputSize() - 2",
                         f"{grad_type} gives one gradient per forward input", blob=None,
                         expected=f"{len(xs)} outputs", found=num_outputs)
        out = []
        for i, x in enumerate(xs):
            check_dtype(x, f"X{i}", y.dtype)
            if x.shape != y.shape:
                enforce_that(False, f"X{i}.sizes() == Y.sizes()", blob=f"X{i}",
                             expected=f"Y's shape {dims(y.shape)}", found=dims(x.shape))
            out.append(np.where(x == y, dy, y.dtype.type(0)))
        return tuple(out)

    gradient.__name__ = gradient.__qualname__ = f"{op_type.lower()}_gradient"
    y_g, dy_g, xs_g, dxs_g = grad_ex
    register_cpu_operator(
        grad_type,
        inputs=["Y", "dY", "X"],
        outputs=["dX"],
        num_inputs=(3, None),
        num_outputs=(1, None),
        shape=_gradient_shape,
        example=Example({"Y": _f(y_g), "dY": _f(dy_g),
                         **{f"X{i}": _f(v) for i, v in enumerate(xs_g)}},
                        {f"dX{i}": _f(v) for i, v in enumerate(dxs_g)}),
        doc=f"""Gradient of {op_type} from its output Y: dX_i = dY where X_i equals Y, else 0
(every input that ties for the {word} gets the whole gradient). Inputs: Y, dY, then
the forward inputs; one output per forward input.""",
    )(gradient)
    gradient_not_implemented_yet(grad_type)

    def maker(g):
        n = len(g.def_.input)
        return [g.op_def(grad_type, [g.O(0), g.GO(0)] + [g.I(i) for i in range(n)],
                         [g.GI(i) for i in range(n)])]

    maker.__name__ = f"{op_type.lower()}_gradient_maker"
    maker.__doc__ = f"``{grad_type}([M, M_grad, X0, X1, ...]) -> [X0_grad, X1_grad, ...]``."
    register_gradient(op_type)(maker)


_register("Max", "maximum", np.maximum,
          ([1, 5, 3], [4, 2, 3], [0, 6, 1]), [4, 6, 3],
          ([4, 6, 3], [1, 2, 3], ([1, 5, 3], [4, 2, 3]), ([0, 0, 3], [1, 0, 3])))
_register("Min", "minimum", np.minimum,
          ([1, 5, 3], [4, 2, 3], [0, 6, 1]), [0, 2, 1],
          ([1, 2, 3], [1, 2, 3], ([1, 5, 3], [4, 2, 3]), ([1, 0, 3], [0, 2, 3])))
