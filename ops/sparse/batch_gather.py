"""BatchGather (Gather along axis 1) and BatchGatherGradient, the dense gradient of
Gather along any axis other than 0 (Caffe2 batch_gather_ops)."""

from __future__ import annotations

import numpy as np

from caffe2lite.schema.checks import check_dtype
from caffe2lite.errors import EnforceError, ShapeError
from caffe2lite.schema.registry import (
    gradient_not_implemented_yet,
    register_cpu_operator,
    register_gradient,
)
from caffe2lite.schema.example import Example
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.shapes import TensorShape

from .gather import gather, gather_shape


@register_cpu_operator(
    "BatchGather",
    inputs=["DATA", "INDICES"],
    outputs=["OUTPUT"],
    shape=gather_shape,
    example=Example(
        {
            "DATA": np.array([[1, 2, 3], [4, 5, 6]], np.float32),
            "INDICES": np.array([2, 0], np.int32),
        },
        {"OUTPUT": np.array([[3, 1], [6, 4]], np.float32)},
    ),
    args=[Arg("axis", int, 1), Arg("match_outer", bool, False)],
    doc="""Gather along axis 1 (or `axis`): OUTPUT has shape DATA.shape[:axis] +
INDICES.shape + DATA.shape[axis+1:]; negative indices are errors (no wrapping).

Example: DATA=[[1, 2, 3], [4, 5, 6]], INDICES=[2, 0] -> OUTPUT=[[3, 1], [6, 4]]""",
)
def batch_gather(data, indices, *, axis, match_outer):
    """Gather with Caffe2's BatchGather defaults (axis 1, no index wrapping)."""
    return gather(
        data,
        indices,
        axis=axis,
        wrap_indices=False,
        match_outer=match_outer,
        dense_gradient=True,
    )


@register_gradient("BatchGather")
def batch_gather_gradient_maker(g):
    """BatchGatherGradient([DATA, INDICES, dOUT]) -> DATA_grad."""
    return [g.op_def("BatchGatherGradient", [g.I(0), g.I(1), g.GO(0)], [g.GI(0)])]


@register_cpu_operator(
    "BatchGatherGradient",
    inputs=["DATA", "INDICES", "GRAD"],
    outputs=["DATA_grad"],
    shape=lambda data, indices, grad: (TensorShape(data.dims, grad.dtype),),
    example=Example(
        {
            "DATA": np.zeros((2, 3), np.float32),
            "INDICES": np.array([2, 2], np.int32),
            "GRAD": np.array([[1, 2], [3, 4]], np.float32),
        },
        {"DATA_grad": np.array([[0, 0, 3], [0, 0, 7]], np.float32)},
        {"axis": 1},
    ),
    args=[Arg("axis", int, 1), Arg("match_outer", bool, False)],
    doc="""The dense gradient of a gather along `axis`: zeros shaped like DATA, with
each slice of GRAD added at the position its index names (repeats accumulate).

Example: DATA shape (2, 3), INDICES=[2, 2], GRAD=[[1, 2], [3, 4]], axis=1
-> DATA_grad=[[0, 0, 3], [0, 0, 7]]""",
)
def batch_gather_gradient(data, indices, grad, *, axis, match_outer):
    """Scatter-add GRAD into zeros shaped like DATA along ``axis``."""
    check_dtype(indices, "INDICES", np.int32, np.int64)
    ax = axis + data.ndim if axis < 0 else axis
    if not 0 <= ax < data.ndim:
        raise ShapeError(
            "DATA should be at least [axis+1]-D",
            blob="DATA",
            expected=f"rank >= {axis + 1}",
            found=f"shape {data.shape}",
        )
    outer = int(np.prod(data.shape[:ax], dtype=np.int64))
    dim = data.shape[ax]
    inner = int(np.prod(data.shape[ax + 1 :], dtype=np.int64))
    index_shape = indices.shape[ax:] if match_outer else indices.shape
    want = data.shape[:ax] + tuple(index_shape) + data.shape[ax + 1 :]
    if grad.shape != want:
        raise ShapeError(
            "GRAD must have the shape of the gather's output",
            blob="GRAD",
            expected=f"shape {want}",
            found=f"shape {grad.shape}",
        )
    flat = indices.reshape(-1).astype(np.int64)
    flat = np.where(flat < 0, flat + dim, flat)
    if flat.size and (flat.min() < 0 or flat.max() >= dim):
        bad = int(flat[np.flatnonzero((flat < 0) | (flat >= dim))[0]])
        raise EnforceError(
            f"INDICES element is out of DATA bounds, id={bad} axis_dim={dim}",
            blob="INDICES",
            expected=f"0 <= index < {dim}",
            found=bad,
        )
    out = np.zeros((outer, dim, inner), dtype=grad.dtype)
    if match_outer:
        picked = flat.reshape(outer, -1)
        np.add.at(
            out, (np.arange(outer)[:, None], picked), grad.reshape(outer, -1, inner)
        )
    else:
        np.add.at(out, (slice(None), flat), grad.reshape(outer, flat.size, inner))
    return (out.reshape(data.shape),)


gradient_not_implemented_yet("BatchGatherGradient")
