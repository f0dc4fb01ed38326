"""Pow (Y = X ^ exponent, the exponent an argument or a second tensor); its gradient is
built from other ops (Pow, Mul, Scale; with a tensor exponent also ConstantFill, Sub,
Log and SumReduceLike), as Caffe2 built it."""

from __future__ import annotations

import numpy as np

from caffe2lite.errors import EnforceError, GradientError
from caffe2lite.io.arguments import make_argument
from caffe2lite.schema.checks import check_dtype
from caffe2lite.schema.example import Example
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.registry import register_cpu_operator, register_gradient
from caffe2lite.schema.shapes import same_as_input

from .._dense import dims, dispatch, enforce_cmp
from . import _elementwise as ew

_NO_INPUT_MESSAGE = ("Only a tensor with an argument or two input tensors are supported as "
                     "input to pow operator.")


@register_cpu_operator(
    "Pow",
    inputs=["X", "exponent"],
    outputs=["Y"],
    num_inputs=(1, 2),
    args=[
        Arg("exponent", float, None, doc="the exponent, when there is no second input"),
        Arg("broadcast", bool, False, doc="1 turns on legacy broadcasting of the exponent"),
        Arg("axis", int, -1, doc="legacy broadcasting: X's dimension where its shape starts"),
        Arg("axis_str", str, "", doc="legacy broadcasting: the axis as a letter of order"),
        Arg("order", str, "NCHW", doc="the storage order axis_str refers to"),
    ],
    allow_inplace=[(0, 0), (1, 0)],
    shape=same_as_input(0),
    example=Example({"X": np.array([1, 2, 3, -2], np.float32)},
                    {"Y": np.array([1, 4, 9, 4], np.float32)}, {"exponent": 2.0}),
    doc="""Element-wise power Y = X ^ exponent; Y has X's shape and type (float32 or
float64). The exponent is either the float argument ``exponent`` (with one input) or a
second tensor of X's type. Without ``broadcast`` that tensor has X's exact shape; with
``broadcast=1`` it is a single element or matches a contiguous run of X's dimensions
starting at ``axis`` (or at the axis ``axis_str`` names in ``order``; by default the
run ends at X's last dimension), as in legacy broadcasting. Y may overwrite X, or the
exponent tensor when not broadcasting. The gradient is built from other ops; with an
exponent tensor it starts with a ConstantFill, which makes float32, so (as in Caffe2,
where Pow was float only) that gradient runs on float32 data only.""",
)
def pow_op(*inputs: np.ndarray, exponent: float | None, broadcast: bool, axis: int,
           axis_str: str, order: str, op_def) -> tuple:
    """X ** exponent (the argument) or X ** E (the second input)."""
    if len(inputs) == 1:
        if exponent is None:
            raise EnforceError(_NO_INPUT_MESSAGE, arg="exponent",
                               expected="an exponent argument or a second input",
                               found="neither")
        x = inputs[0]
        dtype = dispatch(x, "X")
        with np.errstate(all="ignore"):
            return (np.asarray(np.power(x, dtype.type(exponent)), dtype),)
    x, e = inputs
    if broadcast:
        ax = ew.legacy_axis(axis, axis_str, order)
    elif axis != -1 or axis_str:
        raise EnforceError("axis_ == -1 && axis_str_.empty(). Do not specify axis or "
                           "axis_str if broadcast is not enabled.", arg="axis",
                           expected="no axis without broadcast", found=axis)
    dtype = dispatch(x, "X")
    if broadcast and len(op_def.output) and op_def.output[0] == op_def.input[1]:
        raise EnforceError("!IsInputOutputAlias(1, 0) || !enable_broadcast_. In-place is "
                           "allowed only with the first tensor when broadcasting",
                           blob="exponent", expected="Y not written over the exponent",
                           found="Y == exponent")
    check_dtype(e, "exponent", dtype)
    if not broadcast:
        if x.shape != e.shape:
            enforce_cmp(False, "A.sizes() == B.sizes()", dims(x.shape),
                        dims(e.shape), "Dimension mismatch - did you forget to set broadcast=1?",
                        blob="exponent")
        x_dims, e_dims = x.shape, e.shape
    elif e.size == 1:
        x_dims, e_dims = x.shape, ()
    else:
        pre, n, post = ew.legacy_sizes(x.shape, e.shape, ax)
        x_dims, e_dims = (pre, n, post), (n, 1)
    with np.errstate(all="ignore"):
        y = np.power(x.reshape(x_dims), e.reshape(e_dims))
    return (np.asarray(y, dtype).reshape(x.shape),)


def _f32(value: float) -> float:
    """``value`` rounded to C++ float (Caffe2 computed the gradient's arguments in
    float)."""
    return float(np.float32(value))


def _arg_or(g, name: str, default):
    """The forward op's Argument ``name`` as given, or a new one holding ``default``."""
    for a in g.def_.arg:
        if a.name == name:
            copy = type(a)()
            copy.CopyFrom(a)
            return copy
    return make_argument(name, default)


def _with_args(op, args):
    op.arg.extend(args)
    return op


@register_gradient("Pow", copy_arguments=False)
def pow_gradient_maker(g):
    """With the ``exponent`` argument e: ``Pow([X]) -> [X_grad]`` (exponent e - 1, or
    (e - 1) / e when Pow ran in place and X holds Y), ``Mul([X_grad, Y_grad])``,
    ``Scale([X_grad])`` (scale e). With an exponent tensor E: X_grad = E * X^(E-1) * dY
    through ConstantFill, Sub, Pow and two Muls, and E_grad = ln(X) * Y * dY through
    Log and two Muls (then SumReduceLike when ``broadcast`` was given). The forward
    arguments are not copied."""
    names = {a.name for a in g.def_.arg}
    if "exponent" in names:
        e = _f32(g.arg("exponent", 0.0))
        if g.I(0) != g.O(0):
            power = _f32(np.float32(e) - np.float32(1))
        else:
            if not abs(e) > 1e-12:
                raise GradientError("std::fabs(exponent) > kEps", expected="exponent != 0",
                                    found=e)
            power = _f32((np.float32(e) - np.float32(1)) / np.float32(e))
        return [g.op_def("Pow", [g.I(0)], [g.GI(0)], exponent=power),
                g.op_def("Mul", [g.GI(0), g.GO(0)], [g.GI(0)]),
                g.op_def("Scale", [g.GI(0)], [g.GI(0)], scale=e)]
    if g.def_.input[0] == g.def_.output[0] or g.def_.input[1] == g.def_.output[0]:
        raise GradientError("Gradient computation cannot be carried out if Pow uses in-place "
                            f"computation: {g.def_}")
    bflag = "broadcast" in names
    bargs = ([_arg_or(g, "broadcast", 0), _arg_or(g, "axis", -1),
              _arg_or(g, "axis_str", ""), _arg_or(g, "order", "NCHW")] if bflag else [])
    pre = g.GI(1) + "_autogen_pre_red"
    ops = [
        g.op_def("ConstantFill", [g.I(1)], [g.GI(1)], value=1.0),
        g.op_def("Sub", [g.I(1), g.GI(1)], [g.GI(1)]),
        _with_args(g.op_def("Pow", [g.I(0), g.GI(1)], [g.GI(0)]), bargs),
        g.op_def("Mul", [g.GI(0), g.GO(0)], [g.GI(0)]),
        _with_args(g.op_def("Mul", [g.GI(0), g.I(1)], [g.GI(0)]), bargs),
        g.op_def("Log", [g.I(0)], [pre]),
        g.op_def("Mul", [pre, g.O(0)], [pre]),
    ]
    if bflag:
        ops += [g.op_def("Mul", [pre, g.GO(0)], [pre]),
                _with_args(g.op_def("SumReduceLike", [pre, g.I(1)], [g.GI(1)]), bargs[1:])]
    else:
        ops.append(g.op_def("Mul", [pre, g.GO(0)], [g.GI(1)]))
    return ops
