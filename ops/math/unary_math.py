"""Caffe2's one-input element-wise math ops, one table row each: Exp, Log, Log1p, Sqr,
Sqrt, RSqrt (and Rsqrt, its name in later Caffe2), Reciprocal, Cube, Cbrt, Abs, Negative,
Sign, Sin, Cos, Acos, Asin, Atan, Tan, Erf, Ceil, Floor, Tanh, Softsign, Softplus, and
the dedicated gradient ops some of them have (Log1pGradient, RSqrtGradient /
RsqrtGradient, ReciprocalGradient, CubeGradient, CbrtGradient, AbsGradient, SinGradient,
CosGradient, AcosGradient, AsinGradient, AtanGradient, TanGradient, ErfGradient,
TanhGradient, SoftsignGradient, SoftplusGradient).

Every forward op maps X to Y of X's shape and type. Caffe2 registered most of them for
float only; float64 is accepted as well (as everywhere in caffe2lite) so gradients can
be checked in double precision. Cube, Negative and Sign also take int32 and int64
(Caffe2's NumericTypes); Sqrt took float and double.

The gradients are Caffe2's: some ops differentiate through other ops (Exp through
``Mul``, Log through ``Div``, Sqr through ``Scale`` and ``Mul``, Sqrt through ``Scale``
and ``Div``, Negative through ``Negative``), the others through a gradient op of their
own, fed the forward input or output and the output gradient in Caffe2's order.
A gradient op reads its two inputs element by element; Caffe2 did not check that they
have one shape (it read past the smaller one), caffe2lite raises instead.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from caffe2lite.errors import GradientError
from caffe2lite.schema.checks import check_dtype
from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import (
    gradient_not_implemented_yet,
    register_cpu_operator,
    register_gradient,
    should_not_do_gradient,
)
from caffe2lite.schema.shapes import same_as_input

from .._dense import FLOATS, NUMERIC, dims, dispatch, enforce_that


@dataclass(frozen=True)
class GradOp:
    """A dedicated gradient op: its type, its two inputs as (schema name, source) with
    source ``"I"`` (forward input), ``"O"`` (forward output) or ``"GO"`` (output
    gradient), dX as a function of those two arrays, its in-place pairs, its doc and
    example values (the two inputs, then dX), and the message with which the maker
    refuses an in-place forward op (empty: no refusal)."""

    type: str
    inputs: tuple[tuple[str, str], tuple[str, str]]
    fn: Callable[[np.ndarray, np.ndarray], np.ndarray]
    inplace: Sequence[tuple[int, int]]
    doc: str
    example: tuple[list, list, list]
    refuse_inplace: str = ""


@dataclass(frozen=True)
class Row:
    """One forward op: its type, Y = fn(X), the types it takes, whether Y may be X, its
    doc, its example (X, Y, of ``example_dtype``), its gradient (a GradOp, or a maker
    emitting other ops, ``None`` for Caffe2's SHOULD_NOT_DO_GRADIENT, or
    NOT_IMPLEMENTED for its GRADIENT_NOT_IMPLEMENTED_YET), and the
    schema's names of its input and output (most are X and Y; a few kept Caffe2's older
    "input" and "output"). ``typed_read`` marks ops whose Caffe2 kernels read their
    tensors as float directly instead of dispatching on the type, so that a wrong type
    gets Caffe2's "Tensor type mismatch" message rather than "Unsupported type"."""

    type: str
    fn: Callable[[np.ndarray], np.ndarray]
    types: tuple[np.dtype, ...]
    inplace: bool
    doc: str
    example: tuple[list, list]
    grad: GradOp | Callable | str | None
    io: tuple[str, str] = ("X", "Y")
    example_dtype: type = np.float32
    typed_read: bool = False


NOT_IMPLEMENTED = "gradient_not_implemented_yet"  # a row's grad: Caffe2 declared none yet


def _f(values, dtype=np.float32) -> np.ndarray:
    return np.array(values, dtype)


# -- gradients that are other ops -----------------------------------------------------


def _exp_grad(g):
    """``Mul([Y, Y_grad]) -> [X_grad]``: d exp(x) = exp(x) dx."""
    return [g.op_def("Mul", [g.O(0), g.GO(0)], [g.GI(0)])]


def _log_grad(g):
    """``Div([Y_grad, X]) -> [X_grad]``."""
    return [g.op_def("Div", [g.GO(0), g.I(0)], [g.GI(0)])]


def _sqr_grad(g):
    """``Scale([Y_grad]) -> [Y_grad]`` with scale=2 (in place on the output gradient,
    as Caffe2 did), then ``Mul([Y_grad, X]) -> [X_grad]``."""
    return [g.op_def("Scale", [g.GO(0)], [g.GO(0)], scale=2.0),
            g.op_def("Mul", [g.GO(0), g.I(0)], [g.GI(0)])]


def _sqrt_grad(g):
    """``Scale([Y_grad]) -> [X_grad]`` with scale=0.5, then ``Div([X_grad, Y]) ->
    [X_grad]``."""
    return [g.op_def("Scale", [g.GO(0)], [g.GI(0)], scale=0.5),
            g.op_def("Div", [g.GI(0), g.O(0)], [g.GI(0)])]


def _negative_grad(g):
    """``Negative([Y_grad]) -> [X_grad]``."""
    return [g.op_def("Negative", [g.GO(0)], [g.GI(0)])]


# -- kernels ---------------------------------------------------------------------------


def _quiet(fn: Callable) -> Callable:
    """``fn`` with numpy's floating-point warnings off (log(0) is -inf, 1/0 is inf in
    Caffe2 too)."""

    def run(*arrays):
        with np.errstate(all="ignore"):
            return fn(*arrays)

    return run


_SERIES_TERMS = 40  # erf series: later terms below 1e-17 of the sum for |x| < 1.5
_FRACTION_TERMS = 400  # erfc continued fraction: converged in double for |x| >= 1.5


def _erf(x: np.ndarray) -> np.ndarray:
    """erf in float64, element-wise (numpy has none): for |x| < 1.5 the series
    2/sqrt(pi) * x * exp(-x^2) * sum (2x^2)^n / (1*3*...*(2n+1)), of positive terms, so
    small x keep their relative precision; beyond, 1 - erfc(|x|) with erfc's continued
    fraction; the sign of x restored (erf is odd)."""
    t = np.abs(np.asarray(x, np.float64))
    out = np.empty_like(t)
    small = t < 1.5
    ts = t[small]
    term, total = np.ones_like(ts), np.ones_like(ts)
    for n in range(1, _SERIES_TERMS):
        term = term * (2.0 * ts * ts) / (2 * n + 1)
        total += term
    out[small] = 2.0 / np.sqrt(np.pi) * ts * np.exp(-ts * ts) * total
    tl = t[~small]
    frac = tl.copy()
    for k in range(_FRACTION_TERMS, 0, -1):
        frac = tl + (k / 2.0) / frac
    with np.errstate(under="ignore"):
        out[~small] = 1.0 - np.exp(-tl * tl) / (np.sqrt(np.pi) * frac)
    return np.where(np.signbit(x), -out, out)


def _erf_grad(x: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """Caffe2's T(2) / sqrtf(PI) * exp(-X^2) * dY, in X's type."""
    two_over_root_pi = x.dtype.type(np.float32(2) / np.sqrt(np.float32(np.pi)))
    return two_over_root_pi * np.exp(-(x * x)) * dy


def _sign(x: np.ndarray) -> np.ndarray:
    return (x > 0).astype(x.dtype) - (x < 0).astype(x.dtype)


def _abs_grad(x: np.ndarray, dy: np.ndarray) -> np.ndarray:
    return np.where(x == 0, x.dtype.type(0), np.where(x > 0, dy, -dy))


ROWS = [
    Row("Exp", np.exp, FLOATS, True,
        "Y = exp(X), element-wise.", ([0, 1, -1], [1, 2.7182817, 0.36787945]), _exp_grad),
    Row("Log", np.log, FLOATS, True,
        "Y = ln(X), the natural logarithm, element-wise (ln 0 = -inf, ln of a negative "
        "number is NaN). Its gradient reads X, so, as in Caffe2, it is wrong after an "
        "in-place Log.", ([1, 2.7182817, 0.5], [0, 1, -0.6931472]), _log_grad),
    Row("Log1p", np.log1p, FLOATS, False,
        "Y = ln(1 + X), element-wise.", ([0, 1, -0.5], [0, 0.6931472, -0.6931472]),
        GradOp("Log1pGradient", (("X", "I"), ("dY", "GO")), lambda x, dy: dy / (1 + x), (),
               "dX = dY / (1 + X).", ([0, 1, 3], [1, 1, 2], [1, 0.5, 0.5])),
        ("input", "output")),
    Row("Sqr", np.square, FLOATS, True,
        "Y = X * X, element-wise. Its gradient reads X, so, as in Caffe2, it is wrong "
        "after an in-place Sqr.", ([-2, 0, 3], [4, 0, 9]), _sqr_grad),
    Row("Sqrt", np.sqrt, FLOATS, True,
        "Y = sqrt(X), element-wise (NaN for negative X).", ([4, 0, 2], [2, 0, 1.4142135]),
        _sqrt_grad),
    *(Row(name, lambda x: 1 / np.sqrt(x), FLOATS, True,
          f"Y = 1 / sqrt(X), element-wise. ({name} is the name Caffe2 {era} registered; "
          f"{other} is the same op under the other name.)", ([4, 1, 0.25], [0.5, 1, 2]),
          GradOp(f"{name}Gradient", (("dY", "GO"), ("Y", "O")),
                 lambda dy, y: dy * (y * y * y) * y.dtype.type(-0.5), [(0, 0)],
                 "dX = dY * Y^3 * -0.5 (from the forward output Y).",
                 ([1, 2, 1], [0.5, 1, 2], [-0.0625, -1, -4])))
      for name, era, other in (("RSqrt", "first", "Rsqrt"), ("Rsqrt", "later", "RSqrt"))),
    Row("Reciprocal", lambda x: 1 / x, FLOATS, True,
        "Y = 1 / X, element-wise (1 / 0 = inf).", ([4, -0.5, 1], [0.25, -2, 1]),
        GradOp("ReciprocalGradient", (("Y", "O"), ("dY", "GO")),
               lambda y, dy: dy * -(y * y), [(1, 0)],
               "dX = -dY * Y^2 (from the forward output Y).",
               ([0.5, -2, 1], [1, 1, 3], [-0.25, -4, -3]))),
    Row("Cube", lambda x: x * x * x, NUMERIC, False,
        "Y = X^3, element-wise (int32 and int64 wrap around as in C++).",
        ([-2, 0, 3], [-8, 0, 27]),
        GradOp("CubeGradient", (("dY", "GO"), ("X", "I")),
               lambda dy, x: dy * (x * x) * x.dtype.type(3), (),
               "dX = dY * 3 * X^2.", ([1, 2, 1], [-2, 0, 3], [12, 0, 27])),
        example_dtype=np.int32),
    Row("Cbrt", np.cbrt, FLOATS, True,
        "Y = X^(1/3), the real cube root, element-wise.", ([-8, 0, 27], [-2, 0, 3]),
        GradOp("CbrtGradient", (("dY", "GO"), ("Y", "O")),
               lambda dy, y: dy / (y * y * y.dtype.type(3)), [(0, 0)],
               "dX = dY / (3 * Y^2) (from the forward output Y; inf where Y = 0).",
               ([3, 12, 1], [-1, 2, 0.5], [1, 1, 1.3333334]))),
    Row("Abs", np.abs, FLOATS, False,
        "Y = |X|, element-wise.", ([-1.5, 0, 2], [1.5, 0, 2]),
        GradOp("AbsGradient", (("X", "I"), ("dY", "GO")), _abs_grad, (),
               "dX = dY where X > 0, -dY where X < 0, 0 where X = 0.",
               ([-1.5, 0, 2], [3, 3, 3], [-3, 0, 3]))),
    Row("Negative", np.negative, NUMERIC, True,
        "Y = -X, element-wise (int32 and int64 as in C++).", ([-1.5, 0, 2], [1.5, 0, -2]),
        _negative_grad),
    Row("Sign", _sign, NUMERIC, False,
        "Y = -1, 0 or 1 by the sign of each element of X, in X's type (NaN gives 0).",
        ([-1.5, 0, 2], [-1, 0, 1]), None),
    Row("Sin", np.sin, FLOATS, False,
        "Y = sin(X), element-wise.", ([0, 1.5707964, -0.5], [0, 1, -0.47942555]),
        GradOp("SinGradient", (("X", "I"), ("dY", "GO")), lambda x, dy: dy * np.cos(x), (),
               "dX = dY * cos(X).", ([0, 3.1415927, 1], [2, 1, 0], [2, -1, 0]))),
    Row("Cos", np.cos, FLOATS, False,
        "Y = cos(X), element-wise.", ([0, 3.1415927, 1], [1, -1, 0.5403023]),
        GradOp("CosGradient", (("X", "I"), ("dY", "GO")), lambda x, dy: -dy * np.sin(x), (),
               "dX = -dY * sin(X).", ([0, 1.5707964, -0.5], [2, 1, 0], [0, -1, 0]))),
    Row("Acos", np.arccos, FLOATS, False,
        "Y = arccos(X), element-wise (NaN outside [-1, 1]).",
        ([0, 1, -0.5], [1.5707964, 0, 2.0943952]),
        GradOp("AcosGradient", (("X", "I"), ("dY", "GO")),
               lambda x, dy: -dy * (1 / np.sqrt(1 - x * x)), (),
               "dX = -dY / sqrt(1 - X^2) (Caffe2's -dY * rsqrt(1 - X^2)).",
               ([0, 0.6, -0.8], [1, 2, 3], [-1, -2.5, -5])),
        ("input", "output")),
    Row("Asin", np.arcsin, FLOATS, False,
        "Y = arcsin(X), element-wise (NaN outside [-1, 1]).",
        ([0, 1, -0.5], [0, 1.5707964, -0.5235988]),
        GradOp("AsinGradient", (("dY", "GO"), ("X", "I")),
               lambda dy, x: dy * (1 / np.sqrt(1 - x * x)), (),
               "dX = dY / sqrt(1 - X^2) (Caffe2's dY * rsqrt(1 - X^2)).",
               ([1, 2, 3], [0, 0.6, -0.8], [1, 2.5, 5])),
        ("input", "output")),
    Row("Atan", np.arctan, FLOATS, False,
        "Y = arctan(X), element-wise.", ([0, 1, -1], [0, 0.7853982, -0.7853982]),
        GradOp("AtanGradient", (("X", "I"), ("dY", "GO")),
               lambda x, dy: dy / (1 + x * x), (),
               "dX = dY / (1 + X^2).", ([0, 1, -2], [1, 2, 5], [1, 1, 1])),
        ("input", "output")),
    Row("Tan", np.tan, FLOATS, False,
        "Y = tan(X), element-wise.", ([0, 0.7853982, -0.5], [0, 1, -0.5463025]),
        GradOp("TanGradient", (("X", "I"), ("dY", "GO")),
               lambda x, dy: dy / np.square(np.cos(x)), (),
               "dX = dY / cos(X)^2.", ([0, 1, -0.5], [1, 1, 2], [1, 3.425519, 2.5968928])),
        ("input", "output")),
    Row("Erf", _erf, FLOATS, False,
        "Y = erf(X), the error function, element-wise (computed in double and rounded "
        "to X's type).", ([0, 0.5, -2], [0, 0.5204999, -0.9953223]),
        GradOp("ErfGradient", (("X", "I"), ("dY", "GO")), _erf_grad, (),
               "dX = 2 / sqrt(pi) * exp(-X^2) * dY (Caffe2's float constant 2 / sqrtf(pi)).",
               ([0, 1, -1], [1, 1, 2], [1.1283791, 0.41510746, 0.8302149])),
        ("input", "output")),
    Row("Ceil", np.ceil, FLOATS, True,
        "Y = ceil(X), element-wise (Caffe2 wrote no gradient for it).",
        ([1.5, -1.5, 2], [2, -1, 2]), NOT_IMPLEMENTED, typed_read=True),
    Row("Floor", np.floor, FLOATS, True,
        "Y = floor(X), element-wise (Caffe2 wrote no gradient for it).",
        ([1.5, -1.5, 2], [1, -2, 2]), NOT_IMPLEMENTED, typed_read=True),
    Row("Tanh", np.tanh, FLOATS, True,
        "Y = tanh(X), element-wise.", ([0, 1, -0.5], [0, 0.7615942, -0.46211717]),
        GradOp("TanhGradient", (("Y", "O"), ("dY", "GO")), lambda y, dy: dy * (1 - y * y),
               [(1, 0)], "dX = dY * (1 - Y^2) (from the forward output Y).",
               ([0, 0.5, -1], [2, 2, 5], [2, 1.5, 0])),
        ("input", "output")),
    Row("Softsign", lambda x: x / (1 + np.abs(x)), FLOATS, True,
        "Y = X / (1 + |X|), element-wise.", ([0, 1, -3], [0, 0.5, -0.75]),
        GradOp("SoftsignGradient", (("X", "I"), ("dY", "GO")),
               lambda x, dy: dy / np.square(1 + np.abs(x)), [(1, 0)],
               "dX = dY / (1 + |X|)^2. Caffe2 refused to build it for an in-place "
               "Softsign (the forward input is gone).",
               ([0, 1, -3], [2, 2, 16], [2, 0.5, 1]),
               "I(0) != O(0). Cannot compute softsign gradient if you choose to do an "
               "in-place calculation."),
        ("input", "output")),
    Row("Softplus", lambda x: np.logaddexp(x.dtype.type(0), x), FLOATS, True,
        "Y = ln(exp(X) + 1), element-wise, computed as numpy's logaddexp(0, X): where "
        "exp(X) overflows Caffe2 gave inf and caffe2lite the finite value (about X); "
        "for very negative X Caffe2 rounded to 0 and caffe2lite keeps the tiny value.",
        ([0, 1, -1], [0.6931472, 1.3132616, 0.31326169]),
        GradOp("SoftplusGradient", (("Y", "O"), ("dY", "GO")),
               lambda y, dy: dy * (1 - np.exp(-y)), [(1, 0)],
               "dX = dY * (1 - exp(-Y)) (from the forward output Y).",
               ([0, 0.6931472, 2], [1, 2, 0], [0, 1, 0])),
        typed_read=True),
]


# -- registration ----------------------------------------------------------------------


def _input_type(x, name: str, row: Row) -> np.dtype:
    """The first input's type, checked as the row's Caffe2 kernel checked it."""
    if row.typed_read:
        check_dtype(x, name, *row.types)
        return x.dtype
    return dispatch(x, name, row.types)


def _register_forward(row: Row) -> None:
    kinds = "float32 or float64" if row.types == FLOATS else "int32, int64, float32 or float64"
    x_ex, y_ex = row.example
    ex_dtype = row.example_dtype
    fn = _quiet(row.fn)

    x_name, y_name = row.io

    def kernel(x: np.ndarray) -> tuple:
        dtype = _input_type(x, x_name, row)
        return (np.asarray(fn(x), dtype=dtype),)

    kernel.__name__ = kernel.__qualname__ = row.type.lower()
    kernel.__doc__ = f"{row.type}: {row.doc}"
    register_cpu_operator(
        row.type,
        inputs=[x_name],
        outputs=[y_name],
        allow_inplace=[(0, 0)] if row.inplace else (),
        shape=same_as_input(0),
        example=Example({x_name: _f(x_ex, ex_dtype)}, {y_name: _f(y_ex, ex_dtype)}),
        doc=f"""{row.doc} Y has X's shape and type ({kinds}).{
            " Y may overwrite X in place." if row.inplace else ""}""" + (
            f" (Caffe2 named X {x_name!r} and Y {y_name!r}.)" if row.io != ("X", "Y") else ""),
    )(kernel)


def _register_gradient_op(row: Row, grad: GradOp) -> None:
    (a_name, _), (b_name, _) = grad.inputs
    a_ex, b_ex, dx_ex = grad.example
    ex_dtype = row.example_dtype
    fn = _quiet(grad.fn)

    def kernel(a: np.ndarray, b: np.ndarray) -> tuple:
        dtype = _input_type(a, a_name, row)
        check_dtype(b, b_name, dtype)
        if a.shape != b.shape:  # the message is built only on failure
            enforce_that(False, f"{a_name}.sizes() == {b_name}.sizes()", blob=b_name,
                         expected=f"{a_name}'s shape {dims(a.shape)}", found=dims(b.shape))
        return (np.asarray(fn(a, b), dtype=dtype),)

    kernel.__name__ = kernel.__qualname__ = grad.type[0].lower() + grad.type[1:]
    kernel.__doc__ = f"{grad.type}: {grad.doc}"
    register_cpu_operator(
        grad.type,
        inputs=[a_name, b_name],
        outputs=["dX"],
        allow_inplace=list(grad.inplace),
        shape=same_as_input(0),
        example=Example({a_name: _f(a_ex, ex_dtype), b_name: _f(b_ex, ex_dtype)},
                        {"dX": _f(dx_ex, ex_dtype)}),
        doc=f"Gradient of {row.type}: {grad.doc} {a_name} and {b_name} have one shape and "
            "type; dX has it too.",
    )(kernel)
    gradient_not_implemented_yet(grad.type)


def _maker_for(row: Row, grad: GradOp) -> Callable:
    (_, a_src), (_, b_src) = grad.inputs

    def name(g, src: str) -> str:
        return {"I": g.I, "O": g.O, "GO": g.GO}[src](0)

    def maker(g):
        if grad.refuse_inplace and g.I(0) == g.O(0):
            raise GradientError(grad.refuse_inplace)
        return [g.op_def(grad.type, [name(g, a_src), name(g, b_src)], [g.GI(0)])]

    maker.__name__ = f"{row.type.lower()}_gradient_maker"
    maker.__doc__ = f"``{grad.type}`` fed ({grad.inputs[0][0]}, {grad.inputs[1][0]})."
    return maker


for _row in ROWS:
    _register_forward(_row)
    if _row.grad is None:
        should_not_do_gradient(_row.type)
    elif _row.grad == NOT_IMPLEMENTED:
        gradient_not_implemented_yet(_row.type)
    elif isinstance(_row.grad, GradOp):
        _register_gradient_op(_row, _row.grad)
        register_gradient(_row.type)(_maker_for(_row, _row.grad))
    else:
        register_gradient(_row.type)(_row.grad)
