"""Concat: join tensors along an axis (or stack them along a new one with
``add_axis``); its gradient is a Split op driven by the ``split_info`` output."""

from __future__ import annotations

import numpy as np

from caffe2lite.schema.checks import cpp_type_name
from caffe2lite.errors import DTypeError, GradientError
from caffe2lite.schema.registry import register_cpu_operator, register_gradient
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.example import Example
from caffe2lite.schema import shapes as sh
from caffe2lite.schema.shapes import Cost, TensorShape
from .._dense import (
    axis_and_add_axis,
    canonical_axis,
    dim_from_order,
    dims,
    enforce_cmp,
    tensor,
)


def _concat_axis(
    xs: tuple[TensorShape, ...], axis: int | None, order: str | None, add_axis: int
) -> tuple[int | None, bool]:
    """The axis as Caffe2's TensorInferenceForConcat read it: ``axis`` if given, else
    the channel axis of ``order``. Unlike the kernel (which ignores ``add_axis`` when
    the axis comes from ``order``), it honours ``add_axis`` either way: with
    ``order="NHWC", add_axis=1`` it infers a new axis at 3, [10, 23, 9, 2, 10] for two
    [10, 23, 9, 10] inputs, as Caffe2's shape_inference_test expects."""
    ax = axis if axis is not None else dim_from_order(order or "NCHW")
    add = bool(add_axis)
    ndim = xs[0].ndim
    return (None if ndim is None else sh.canonical_axis(ax, ndim + add)), add


def _concat_shape(
    *xs: TensorShape,
    axis: int | None,
    order: str | None,
    add_axis: int,
    num_outputs: int,
) -> tuple[TensorShape, ...]:
    """Caffe2's TensorInferenceForConcat: the dimensions along the axis add up (or a
    new axis of len(inputs) is inserted); split_info is int32 (len(inputs),). Unknown
    when any input's shape is (Caffe2's NeedsAllInputShapes)."""
    info = (TensorShape((len(xs),), np.int32),)[: num_outputs - 1]
    ax, add = _concat_axis(xs, axis, order, add_axis)
    if ax is None or any(x.dims is None for x in xs):
        return (TensorShape(None, xs[0].dtype),) + info
    first = xs[0].dims
    for j, x in enumerate(xs[1:], start=1):
        enforce_cmp(
            len(x.dims) == len(first),
            "in[0].dims().size() == in[i].dims().size()",
            len(first),
            len(x.dims),
            f"Got different sizes for inputs 0 and {j}",
            blob="X",
        )
        for i, (d0, d) in enumerate(zip(first, x.dims)):
            if (i == ax and not add) or isinstance(d0, str) or isinstance(d, str):
                continue
            enforce_cmp(
                d0 == d,
                "dim == dim_j",
                d0,
                d,
                f"Expect dimension = {d0} got {d} at axis = {i} for input: {j}.",
                blob="X",
            )
    if add:
        dims = first[:ax] + (len(xs),) + first[ax:]
    else:
        along = [x.dims[ax] for x in xs]
        total = (
            sum(along)
            if all(isinstance(d, int) for d in along)
            else "+".join(str(d) for d in along)
        )
        dims = first[:ax] + (total,) + first[ax + 1 :]
    return (TensorShape(dims, xs[0].dtype),) + info


def _concat_cost(
    *xs: TensorShape, axis: int | None, order: str | None, add_axis: int, outputs
) -> Cost:
    """Caffe2's CostInferenceForConcat: no flops; the inputs' elements (plus one, as
    Caffe2 counted) read and the result written, at four bytes each (sizeof of the
    dtype enum)."""
    out = outputs[0]
    if not out.known or not all(x.known for x in xs):
        return Cost()
    return Cost(
        flops=0,
        bytes_read=(1 + sum(sh.numel(x) for x in xs)) * 4,
        bytes_written=sh.numel(out) * 4,
    )


_CONCAT_SCHEMA: dict = dict(
    inputs=["X"],
    outputs=["concat_result", "split_info"],
    num_inputs=(1, None),
    num_outputs=(1, 2),
    args=[
        Arg(
            "axis",
            int,
            None,
            doc="the axis to join along (negative counts from the end)",
        ),
        Arg(
            "order", str, None, doc="without axis: NCHW joins on axis 1, NHWC on axis 3"
        ),
        Arg(
            "add_axis", int, 0, doc="non-zero: insert a new axis at ``axis`` and stack"
        ),
    ],
    shape=_concat_shape,
    cost=_concat_cost,
    example=Example(
        {
            "X1": np.array([[1, 2], [3, 4]], np.float32),
            "X2": np.array([[5, 6]], np.float32),
        },
        {
            "concat_result": np.array([[1, 2], [3, 4], [5, 6]], np.float32),
            "split_info": np.array([2, 1], np.int32),
        },
        {"axis": 0},
    ),
    doc="""Concatenate the inputs along ``axis``: every dimension but that one must
agree, and all inputs must have one type. With ``add_axis`` set, the inputs (all of
one shape) are stacked along a new dimension inserted at ``axis``. The optional
second output ``split_info`` (int32) holds each input's size along the axis (1s
with ``add_axis``), which the gradient's Split uses. Without ``axis`` the axis is
``order``'s channel axis and, as in Caffe2's kernel, ``add_axis`` is ignored; Caffe2's
shape inference still honoured it there, and caffe2lite's does too.

Example: X1=[[1, 2], [3, 4]], X2=[[5, 6]], axis=0 -> concat_result=[[1, 2], [3, 4],
[5, 6]], split_info=[2, 1]""",
)


@register_cpu_operator("Concat", **_CONCAT_SCHEMA)
def concat(
    *xs: np.ndarray, axis: int | None, order: str | None, add_axis: int
) -> tuple:
    """np.concatenate (or np.stack with ``add_axis``) with Caffe2's checks."""
    ax, add = axis_and_add_axis(axis, order, add_axis, "concat")
    x0 = tensor(xs[0], "X")
    ax = canonical_axis(ax, x0.ndim + add)
    for j, x in enumerate(xs[1:], start=1):
        tensor(x, "X")
        if x.dtype != x0.dtype:
            raise DTypeError(
                f"All inputs must have the same type, expected: {cpp_type_name(x0.dtype)} but "
                f"got: {cpp_type_name(x.dtype)} for input: {j}",
                blob="X",
                expected=str(x0.dtype),
                found=str(x.dtype),
            )
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
        enforce_cmp(
            x.ndim == x0.ndim,
            "in[0].dims().size() == in[i].dims().size()",
            x0.ndim,
            x.ndim,
            f"{same}Got different sizes for inputs 0 and {j}",
            blob="X",
        )
    else:
        enforce_cmp(
            x.ndim == x0.ndim,
            "in[0].dims().size() == in[i].dims().size()",
            x0.ndim,
            x.ndim,
            "All inputs of Concat should have same dims except canonical_axis "
            f"dim that is equal to {ax}Got different sizes for inputs 0 and {j}",
            blob="X",
        )
    for i, (d0, d) in enumerate(zip(x0.shape, x.shape)):
        if i == ax and not add:
            continue
        enforce_cmp(
            d0 == d,
            "dim == dim_j",
            d0,
            d,
            f"Expect dimension = {d0} got {d} at axis = {i} for input: {j}. The input "
            "tensors can only have different dimensions when arg 'add_axis' = 0 and "
            f"along the axis = {ax} <{dims(x0.shape)}> vs <{dims(x.shape)}>.",
            blob="X",
        )


@register_gradient("Concat")
def concat_gradient_maker(g):
    """``Split([concat_result_grad, split_info]) -> [X1_grad, X2_grad, ...]`` (the
    forward arguments ride along), or nothing when the result has no gradient."""
    if g.GradOut(0) is None:
        return []
    if len(g.def_.output) < 2:
        raise GradientError(
            "Concat's gradient is a Split driven by the split_info output, but this "
            "Concat op has none",
            blob=g.def_.output[0],
            expected="2 outputs (concat_result, split_info)",
            found="1 output",
        )
    grads = [g.GI(i) for i in range(len(g.def_.input))]
    return [g.op_def("Split", [g.GO(0), g.O(1)], grads)]


# Caffe2's backward-compatible name: the same op
register_cpu_operator(
    "DepthConcat",
    **{**_CONCAT_SCHEMA,
       "doc": "Backward compatible operator name for Concat (the same op).\n\n"
              + _CONCAT_SCHEMA["doc"]},
)(concat)
register_gradient("DepthConcat")(concat_gradient_maker)
