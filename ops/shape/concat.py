"""Concat: join tensors along an axis (or stack them along a new one with
``add_axis``); its gradient is a Split op driven by the ``split_info`` output."""

from __future__ import annotations

import numpy as np

from caffe2lite.schema.checks import cpp_type_name
from caffe2lite.errors import DTypeError, GradientError
from caffe2lite.schema.registry import register_cpu_operator, register_gradient
from caffe2lite.schema.opschema import Arg
from .._dense import axis_and_add_axis, canonical_axis, dims, enforce_cmp, tensor


@register_cpu_operator(
    "Concat",
    inputs=["X"],
    outputs=["concat_result", "split_info"],
    num_inputs=(1, None),
    num_outputs=(1, 2),
    args=[
        Arg("axis", int, None, doc="the axis to join along (negative counts from the end)"),
        Arg("order", str, None, doc="without axis: NCHW joins on axis 1, NHWC on axis 3"),
        Arg("add_axis", int, 0, doc="non-zero: insert a new axis at ``axis`` and stack"),
    ],
    doc="""Concatenate the inputs along ``axis``: every dimension but that one must
agree, and all inputs must have one type. With ``add_axis`` set, the inputs (all of
one shape) are stacked along a new dimension inserted at ``axis``. The optional
second output ``split_info`` (int32) holds each input's size along the axis (1s
with ``add_axis``), which the gradient's Split uses.

Example: X1=[[1, 2], [3, 4]], X2=[[5, 6]], axis=0 -> concat_result=[[1, 2], [3, 4],
[5, 6]], split_info=[2, 1]""",
)
def concat(*xs: np.ndarray, axis: int | None, order: str | None, add_axis: int) -> tuple:
    """np.concatenate (or np.stack with ``add_axis``) with Caffe2's checks."""
    ax, add = axis_and_add_axis(axis, order, add_axis, "concat")
    x0 = tensor(xs[0], "X")
    ax = canonical_axis(ax, x0.ndim + add)
    for j, x in enumerate(xs[1:], start=1):
        tensor(x, "X")
        if x.dtype != x0.dtype:
            raise DTypeError(
                f"All inputs must have the same type, expected: {cpp_type_name(x0.dtype)} but "
                f"got: {cpp_type_name(x.dtype)} for input: {j}", blob="X",
                expected=str(x0.dtype), found=str(x.dtype))
        _check_dims(x0, x, j, ax, add)
    if add:
        out = np.stack(xs, axis=ax)
        sizes = np.ones(len(xs), dtype=np.int32)
    else:
        out = np.concatenate(xs, axis=ax)
        sizes = np.array([x.shape[ax] for x in xs], dtype=np.int32)
    return (out, sizes)


def _check_dims(x0: np.ndarray, x: np.ndarray, j: int, ax: int, add: bool) -> None:
    if add:
        same = "All inputs of Concat should have same dims when add_axis = 1. "
        enforce_cmp(x.ndim == x0.ndim, "in[0].dims().size() == in[i].dims().size()", x0.ndim,
                    x.ndim, f"{same}Got different sizes for inputs 0 and {j}", blob="X")
    else:
        enforce_cmp(x.ndim == x0.ndim, "in[0].dims().size() == in[i].dims().size()", x0.ndim,
                    x.ndim, "All inputs of Concat should have same dims except canonical_axis "
                    f"dim that is equal to {ax}Got different sizes for inputs 0 and {j}",
                    blob="X")
    for i, (d0, d) in enumerate(zip(x0.shape, x.shape)):
        if i == ax and not add:
            continue
        enforce_cmp(d0 == d, "dim == dim_j", d0, d,
                    f"Expect dimension = {d0} got {d} at axis = {i} for input: {j}. The input "
                    "tensors can only have different dimensions when arg 'add_axis' = 0 and "
                    f"along the axis = {ax} <{dims(x0.shape)}> vs <{dims(x.shape)}>.", blob="X")


@register_gradient("Concat")
def concat_gradient_maker(g):
    """``Split([concat_result_grad, split_info]) -> [X1_grad, X2_grad, ...]`` (the
    forward arguments ride along), or nothing when the result has no gradient."""
    if g.GradOut(0) is None:
        return []
    if len(g.def_.output) < 2:
        raise GradientError(
            "Concat's gradient is a Split driven by the split_info output, but this "
            "Concat op has none", blob=g.def_.output[0],
            expected="2 outputs (concat_result, split_info)", found="1 output")
    grads = [g.GI(i) for i in range(len(g.def_.input))]
    return [g.op_def("Split", [g.GO(0), g.O(1)], grads)]
