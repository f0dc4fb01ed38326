"""Split: cut a tensor into pieces along an axis (or unstack it with ``add_axis``);
its gradient is a Concat of the pieces' gradients."""

from __future__ import annotations

import numpy as np

from caffe2lite.schema.checks import check_dtype
from caffe2lite.errors import ShapeError
from caffe2lite.schema.registry import register_cpu_operator, register_gradient
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.example import Example
from caffe2lite.schema import shapes as sh
from caffe2lite.schema.shapes import TensorShape
from .._dense import axis_and_add_axis, canonical_axis, enforce_cmp, tensor

_SUM_CHECK = (
    "(add_axis_ ? OutputSize() : std::accumulate(axis_data, axis_data + "
    "OutputSize(), 0)) == input_channels"
)


def _split_shape(
    x: TensorShape,
    sizes: TensorShape | None = None,
    *,
    axis: int | None,
    split: list[int],
    order: str | None,
    add_axis: int,
    num_outputs: int,
) -> tuple[TensorShape, ...]:
    """Caffe2's TensorInferenceForSplit: the input's shape with the axis cut into the
    sizes (from ``split``, or equal parts), or dropped with ``add_axis``. Sizes read
    from the ``split`` input are data: those dims are the symbols ``split[i]`` (Caffe2
    gave up on the whole shape there)."""
    ax, add = axis_and_add_axis(axis, order, add_axis, "split")
    ax = sh.canonical_axis(ax, x.ndim)
    if ax is None:
        return (TensorShape(None, x.dtype),) * num_outputs
    dims, channels = x.dims, x.dims[ax]
    if add:
        if isinstance(channels, int):
            enforce_cmp(
                channels == num_outputs,
                _SUM_CHECK,
                num_outputs,
                channels,
                f"Sum of split dimensions do not match: should be {channels}",
                blob="input",
            )
        return (TensorShape(dims[:ax] + dims[ax + 1 :], x.dtype),) * num_outputs
    if sizes is not None:
        parts = [f"split[{i}]" for i in range(num_outputs)]
    elif split:
        enforce_cmp(
            len(split) == num_outputs,
            "split_.size() == OutputSize()",
            len(split),
            num_outputs,
            "The number of splits specified should be equal to the number of outputs.",
        )
        parts = list(split)
        if isinstance(channels, int):
            enforce_cmp(
                sum(parts) == channels,
                _SUM_CHECK,
                sum(parts),
                channels,
                f"Sum of split dimensions do not match: should be {channels}",
                blob="input",
            )
    elif isinstance(channels, int):
        enforce_cmp(
            channels % num_outputs == 0,
            "input_channels % OutputSize() == 0",
            channels % num_outputs,
            0,
            "If you did not specify split explicitly, "
            "the number of input channels should be divisible by the output size.",
            blob="input",
        )
        parts = [channels // num_outputs] * num_outputs
    else:
        parts = [f"{channels}/{num_outputs}"] * num_outputs
    return tuple(TensorShape(dims[:ax] + (p,) + dims[ax + 1 :], x.dtype) for p in parts)


_SPLIT_SCHEMA: dict = dict(
    inputs=["input", "split"],
    outputs=["output"],
    num_inputs=(1, 2),
    num_outputs=(1, None),
    args=[
        Arg(
            "axis",
            int,
            None,
            doc="the axis to cut along (negative counts from the end)",
        ),
        Arg("split", "ints", [], doc="each output's size along the axis"),
        Arg("order", str, None, doc="without axis: NCHW cuts axis 1, NHWC axis 3"),
        Arg(
            "add_axis",
            int,
            0,
            doc="non-zero: every output drops the axis (size 1 each)",
        ),
    ],
    shape=_split_shape,
    example=Example(
        {"input": np.array([2, 2, 6, 6, 6, 0, 5, 7, 4], np.int64)},
        {
            "output_0": np.array([2, 2, 6], np.int64),
            "output_1": np.array([6, 6], np.int64),
            "output_2": np.array([0, 5, 7, 4], np.int64),
        },
        {"split": [3, 2, 4], "axis": 0},
    ),
    doc="""Split ``input`` along ``axis`` into the outputs. The sizes come from the
optional int32 input ``split``, else from the ``split`` argument, else the axis is cut
into equal parts; they must add up to the axis length. With ``add_axis`` (Concat's
gradient), the axis has one entry per output and the outputs drop it.

Example: input=[2, 2, 6, 6, 6, 0, 5, 7, 4], split=(3, 2, 4), axis=0 ->
output_0=[2, 2, 6], output_1=[6, 6], output_2=[0, 5, 7, 4]""",
)


@register_cpu_operator("Split", **_SPLIT_SCHEMA)
def split(
    x: np.ndarray,
    sizes: np.ndarray | None = None,
    *,
    axis: int | None,
    split: list[int],
    order: str | None,
    add_axis: int,
    num_outputs: int,
) -> tuple:
    """Views of ``x`` cut along the axis (copied only when not contiguous)."""
    ax, add = axis_and_add_axis(axis, order, add_axis, "split")
    tensor(x, "input")
    ax = canonical_axis(ax, x.ndim)
    channels = x.shape[ax]
    if sizes is not None:
        enforce_cmp(
            not split,
            "split_.size() == 0",
            len(split),
            0,
            "If you set split with an "
            "input blob, do not pass in split in the argument.",
            blob="split",
        )
        check_dtype(sizes, "split", np.int32)
        enforce_cmp(
            sizes.size == num_outputs,
            "split_tensor.numel() == OutputSize()",
            sizes.size,
            num_outputs,
            blob="split",
        )
        parts = [int(s) for s in sizes.reshape(-1)]
    elif not split:
        enforce_cmp(
            channels % num_outputs == 0,
            "input_channels % OutputSize() == 0",
            channels % num_outputs,
            0,
            "If you did not specify split explicitly, the "
            "number of input channels should be divisible by the output size.",
            blob="input",
        )
        parts = [channels // num_outputs] * num_outputs
    else:
        enforce_cmp(
            len(split) == num_outputs,
            "split_.size() == OutputSize()",
            len(split),
            num_outputs,
            "The number of splits specified should be equal to the number of outputs.",
        )
        parts = list(split)
    total = num_outputs if add else sum(parts)
    enforce_cmp(
        total == channels,
        _SUM_CHECK,
        total,
        channels,
        f"Sum of split dimensions do not match: should be {channels}",
        blob="input",
    )
    if add:
        # x[..., i, ...] with an Ellipsis stays an array even when it is 0-d (a shape
        # (3,) input gives three 0-d pieces, as in Caffe2); copy() makes it contiguous.
        front = np.moveaxis(x, ax, 0)
        return tuple(front[i, ...].copy() for i in range(channels))
    if min(parts) < 0:
        raise ShapeError(
            "Split sizes must not be negative",
            blob="split",
            expected="sizes >= 0",
            found=parts,
        )
    cuts = np.cumsum(parts[:-1])
    return tuple(np.ascontiguousarray(p) for p in np.split(x, cuts, axis=ax))


_split = split  # (DepthSplit's ``split`` argument shadows the name)


@register_gradient("Split")
def split_gradient_maker(g):
    """``Concat([output_i_grad for outputs with a gradient]) -> [input_grad,
    _input_grad_dims]``, or nothing when no output has a gradient."""
    grads = [g.GO(i) for i in range(len(g.def_.output)) if g.GradOut(i) is not None]
    if not grads:
        return []
    return [g.op_def("Concat", grads, [g.GI(0), "_" + g.GI(0) + "_dims"])]


# Caffe2's backward-compatible name: the same op (an old ``dimensions`` argument, which
# Caffe2's Split no longer read, is accepted and ignored the same way)
@register_cpu_operator(
    "DepthSplit",
    **{**_SPLIT_SCHEMA,
       "args": _SPLIT_SCHEMA["args"] + [Arg("dimensions", "ints", [],
                                            doc="ignored, as in Caffe2's Split")],
       "doc": "Backward compatible operator name for Split (the same op).\n\n"
              + _SPLIT_SCHEMA["doc"]},
)
def depth_split(x: np.ndarray, sizes: np.ndarray | None = None, *, axis: int | None,
                split: list[int], order: str | None, add_axis: int, num_outputs: int,
                dimensions: list[int]) -> tuple:
    """Split under its old name."""
    return _split(x, sizes, axis=axis, split=split, order=order, add_axis=add_axis,
                  num_outputs=num_outputs)


register_gradient("DepthSplit")(split_gradient_maker)
