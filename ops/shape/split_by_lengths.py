"""SplitByLengths: split a tensor along an axis into K parts, part i as long as the
sum of the i-th group of len(lengths) / K lengths; its gradient is a Concat."""

from __future__ import annotations

import numpy as np

from caffe2lite.errors import EnforceError
from caffe2lite.schema.checks import check_dtype
from caffe2lite.schema.example import Example
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.registry import register_cpu_operator, register_gradient
from caffe2lite.schema.shapes import TensorShape
from caffe2lite.schema.shapes import canonical_axis as shape_axis

from .._dense import axis_and_add_axis, canonical_axis, dims, enforce_cmp, tensor

_ARGS = [
    Arg("axis", int, None, doc="the axis to split (not with order)"),
    Arg("order", str, None, doc="without axis: NCHW splits axis 1, NHWC axis 3"),
    Arg("use_scaling_lengths", bool, False,
        doc="scale the lengths up when they sum to a divisor of the axis"),
]


def _shape(x: TensorShape, lengths: TensorShape, *, axis: int | None, order: str | None,
           num_outputs: int) -> tuple[TensorShape, ...]:
    ax, _ = axis_and_add_axis(axis, order, 0, "split")
    if x.dims is None:
        return (TensorShape(None, x.dtype),) * num_outputs
    ax = shape_axis(ax, len(x.dims))
    outs = []
    for i in range(num_outputs):
        d = list(x.dims)
        d[ax] = f"split_size[{i}]"
        outs.append(TensorShape(tuple(d), x.dtype))
    return tuple(outs)


@register_cpu_operator(
    "SplitByLengths",
    inputs=["input", "legnths"],
    outputs=["output"],
    num_outputs=(1, None),
    args=_ARGS,
    shape=_shape,
    example=Example({"input": np.array([1, 2, 3, 4, 5, 6], np.float32),
                     "legnths": np.array([1, 2, 3], np.int32)},
                    {"output_0": np.array([1], np.float32),
                     "output_1": np.array([2, 3], np.float32),
                     "output_2": np.array([4, 5, 6], np.float32)}, {"axis": 0}),
    doc="""Split input (any type) along ``axis`` (or the channel axis of ``order``,
NCHW by default; not both) into K outputs: len(legnths) (the 1-D int32 input, its
name spelled as in Caffe2) must be a multiple of K, and output i takes the sum of
the i-th group of len(legnths) / K lengths. The lengths must sum to the axis size, or
with ``use_scaling_lengths`` to a divisor of it, each part then growing by the
quotient. Negative lengths are refused (Caffe2 read out of range).

Example: input=[1, 2, 3, 4, 5, 6], legnths=[1, 2, 3] with axis=0 and three outputs
-> [1], [2, 3], [4, 5, 6]""",
)
def split_by_lengths(x: np.ndarray, lengths: np.ndarray, *, axis: int | None,
                     order: str | None, use_scaling_lengths: bool,
                     num_outputs: int) -> tuple:
    """np.split at the cumulative part sizes."""
    ax, _ = axis_and_add_axis(axis, order, 0, "split")
    tensor(x, "input")
    check_dtype(lengths, "legnths", np.int32)
    if lengths.ndim != 1:
        raise EnforceError("lengths must be 1-D", blob="legnths", expected="1-D",
                           found=f"shape {dims(lengths.shape)}")
    n = lengths.size
    enforce_cmp(n % num_outputs == 0, "lengths_length % OutputSize() == 0",
                n % num_outputs, 0,
                f"len(Lengths) {n}should be divisible by OutputSize() {num_outputs}.",
                blob="legnths")
    ax = canonical_axis(ax, x.ndim)
    if n and lengths.min() < 0:
        raise EnforceError("lengths must be non-negative", blob="legnths",
                           expected="lengths >= 0", found=lengths.tolist())
    channels = x.shape[ax]
    total = int(lengths.sum(dtype=np.int64))
    scale = 1
    if use_scaling_lengths:
        divisor = total or 1
        enforce_cmp(channels % divisor == 0, "input_channels % (sum_lengths ? sum_lengths : "
                    "1) == 0", channels % divisor, 0,
                    f"Input channels {channels} should be divisible by {total}", blob="legnths")
        scale = channels // total if total else 1
    else:
        enforce_cmp(total == channels, "sum_lengths == input_channels", total, channels,
                    "Input channels should be equal to split dimensions sum, "
                    f"{channels} vs {total}", blob="legnths")
    groups = lengths.astype(np.int64).reshape(num_outputs, n // num_outputs).sum(axis=1)
    sizes = groups * scale
    cuts = np.cumsum(sizes)[:-1]
    return tuple(np.ascontiguousarray(p) for p in np.split(x, cuts, axis=ax))


@register_gradient("SplitByLengths")
def split_by_lengths_gradient_maker(g):
    """``Concat([output_i_grad for outputs with a gradient]) -> [input_grad,
    _input_grad_dims]`` (the forward arguments ride along), or nothing."""
    grads = [g.GO(i) for i in range(len(g.def_.output)) if g.GradOut(i) is not None]
    if not grads:
        return []
    return [g.op_def("Concat", grads, [g.GI(0), "_" + g.GI(0) + "_dims"])]
