"""SparseFunHash and its gradient op SparseFunHashGradient (Caffe2
sparse_funhash_op): a hashed fully-connected layer for sparse inputs.

Caffe2 hashed ``XXH64(hash_data.data(), hash_data.size(), seed)`` where hash_data
holds four uint64 (key, output index, alpha index, a magic number) but the length
passed is 4 (elements, taken as bytes): only the low 4 bytes of the key are hashed.
Every output column and every alpha term of a key therefore draws the same weight
with the same sign. caffe2lite computes that same XXH64 of 4 bytes, vectorised.
"""

from __future__ import annotations

import numpy as np

from caffe2lite.errors import ArgumentError, EnforceError, ShapeError
from caffe2lite.schema.checks import check_dtype
from caffe2lite.schema.example import Example
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.registry import (
    gradient_not_implemented_yet,
    register_cpu_operator,
    register_gradient,
)
from caffe2lite.schema.shapes import TensorShape

_P1 = np.uint64(0x9E3779B185EBCA87)
_P2 = np.uint64(0xC2B2AE3D27D4EB4F)
_P3 = np.uint64(0x165667B19E3779F9)
_P5 = np.uint64(0x27D4EB2F165667C5)
_MASK32 = np.uint64(0xFFFFFFFF)


def xxh64_low4(keys: np.ndarray, seed: int) -> np.ndarray:
    """XXH64 of the 4 low bytes (little-endian) of each int64 key, as uint64."""
    low = np.asarray(keys, np.int64).view(np.uint64) & _MASK32
    with np.errstate(over="ignore"):
        h = np.full(low.shape, np.uint64(seed % 2**64) + _P5 + np.uint64(4), np.uint64)
        h ^= low * _P1
        h = ((h << np.uint64(23)) | (h >> np.uint64(41))) * _P2 + _P3
        h ^= h >> np.uint64(33)
        h *= _P2
        h ^= h >> np.uint64(29)
        h *= _P3
        h ^= h >> np.uint64(32)
    return h


def hashed_weights(keys: np.ndarray, seed: int, num_weight: int):
    """(weight index, sign) of each key: index (hash >> 1) % num_weight, negative
    when the hash's lowest bit is set."""
    h = xxh64_low4(keys, seed)
    index = ((h >> np.uint64(1)) % np.uint64(num_weight)).astype(np.int64)
    sign = np.where(h & np.uint64(1), -1, 1).astype(np.int8)
    return index, sign


_ARGS = [
    Arg("num_outputs", int, None, doc="the number of output columns (required)"),
    Arg("num_segments", int, -1, doc="the number of output rows (default: from ids)"),
    Arg("seed", int, 0, doc="the hash seed"),
]


def _check(val, key, seg, weight, alpha, num_outputs):
    if num_outputs is None:
        raise ArgumentError("Argument `num_outputs` is missing.", arg="num_outputs")
    if num_outputs < 0:
        raise ArgumentError(
            "num_outputs must be >= 0",
            arg="num_outputs",
            expected=">= 0",
            found=num_outputs,
        )
    check_dtype(seg, "segment_ids", np.int32)
    check_dtype(weight, "weight", np.float32, np.float64)  # float64: an addition
    if alpha is not None:
        check_dtype(alpha, "alpha", weight.dtype)
    check_dtype(val, "scalars", weight.dtype)
    check_dtype(key, "indices", np.int64)
    for arr, name in ((seg, "segment_ids"), (weight, "weight")) + (
        ((alpha, "alpha"),) if alpha is not None else ()
    ):
        if arr.ndim != 1:
            raise ShapeError(
                f"{name} must be a vector",
                blob=name,
                expected="1-D",
                found=f"shape {arr.shape}",
            )
    n = seg.shape[0]
    for arr, name in ((val, "scalars"), (key, "indices")):
        if arr.ndim != 1 or arr.shape[0] != n:
            # Caffe2 read one scalar and one index per segment id, past the end.
            raise ShapeError(
                f"{name} must have one entry per segment id",
                blob=name,
                expected=f"shape ({n},)",
                found=f"shape {arr.shape}",
            )
    if n and weight.shape[0] == 0:
        raise EnforceError(
            "the weight vector is empty",
            blob="weight",
            expected="at least one weight",
            found=0,
        )


def _segments(seg: np.ndarray, num_segments: int) -> int:
    if num_segments < -1:
        raise ArgumentError(
            "num_segments must be -1 (from the ids) or a count >= 0",
            arg="num_segments",
            expected=">= 0 or -1",
            found=num_segments,
        )
    k = (
        num_segments
        if num_segments != -1
        else int(max(int(seg.max()), -1) + 1 if seg.size else 0)
    )
    bad = np.flatnonzero((seg < 0) | (seg >= k))
    if bad.size:  # Caffe2 wrote outside the output
        raise EnforceError(
            f"Segment id out of range: {int(seg[bad[0]])}, range 0 to {k}",
            blob="segment_ids",
            expected=f"0 <= id < {k}",
            found=int(seg[bad[0]]),
        )
    return k


# The argument `num_outputs` shares its name with the executor's output count, which
# a kernel or shape function declaring that parameter receives instead: the kernels
# read their arguments from **args, and the shape functions leave the column count
# as the symbol "num_outputs".


def _shape(val, key, seg, weight, alpha=None, *, num_segments):
    rows = num_segments if num_segments != -1 else "max(segment_ids)+1"
    return (TensorShape((rows, "num_outputs"), np.float32),)


@register_cpu_operator(
    "SparseFunHash",
    inputs=["scalars", "indices", "segment_ids", "weight", "alpha"],
    outputs=["output"],
    num_inputs=(4, 5),
    args=_ARGS,
    shape=_shape,
    example=Example(
        {
            "scalars": np.array([1.0, 2.0, 0.5], np.float32),
            "indices": np.array([0, 1, 42], np.int64),
            "segment_ids": np.array([0, 0, 1], np.int32),
            "weight": np.array([1.0, 10.0, 100.0, 1000.0], np.float32),
        },
        {"output": np.array([[98, 98], [-0.5, -0.5]], np.float32)},
        args={"num_outputs": 2},
    ),
    doc="""A fully-connected layer over sparse inputs whose weights are drawn from the
`weight` vector by hashing: output[s, i] = sum over the entries j of segment s of
scalars[j] * sign_j * weight[index_j] (times sum(alpha) when the fifth input alpha
is given), where (index_j, sign_j) come from XXH64(low 4 bytes of indices[j],
seed): index = (hash >> 1) % len(weight), sign = -1 when the hash is odd. As in
Caffe2 (which hashed only the first 4 bytes of its key buffer) the hash does not
depend on the output column i nor on the alpha term, so every column of a row is
equal. scalars, weight and alpha are float32 (or all float64, a caffe2lite
addition), indices int64, segment_ids int32
(one per entry, in [0, rows)); the output is float32 (rows, num_outputs), rows =
num_segments or max(segment_ids) + 1. `num_outputs` is required.

Example: scalars=[1, 2, 0.5], indices=[0, 1, 42], segment_ids=[0, 0, 1],
weight=[1, 10, 100, 1000], num_outputs=2 -> output=[[98, 98], [-0.5, -0.5]]
(key 0 draws +weight[2], keys 1 and 42 draw -weight[0])""",
)
def sparse_fun_hash(val, key, seg, weight, *alpha, **args):
    """Hashed sparse x dense product, per segment."""
    num_outputs, num_segments, seed = (
        args[k] for k in ("num_outputs", "num_segments", "seed")
    )
    a = alpha[0] if alpha else None
    _check(val, key, seg, weight, a, num_outputs)
    k = _segments(seg, num_segments)
    out = np.zeros((k, num_outputs), weight.dtype)
    if seg.size == 0 or num_outputs == 0:
        return (out,)
    index, sign = hashed_weights(key, seed, weight.shape[0])
    w = weight[index] * sign.astype(weight.dtype)
    if a is not None:
        w = (
            np.cumsum(w[:, None] * a[None, :], axis=1)[:, -1]
            if a.size
            else np.zeros_like(w)
        )
    per_entry = (w * val).astype(np.float64)
    sums = np.bincount(seg, weights=per_entry, minlength=k).astype(weight.dtype)
    out[:] = sums[:, None]
    return (out,)


@register_gradient("SparseFunHash")
def sparse_fun_hash_gradient_maker(g):
    """SparseFunHashGradient([dY, scalars, indices, segment_ids, weight(, alpha)]) ->
    (weight_grad_values, weight_grad_indices(, alpha_grad)): a sparse weight grad."""
    return hashed_layer_gradient(g, "SparseFunHashGradient", [g.GI_V(3), g.GI_I(3)])


def hashed_layer_gradient(g, op_type: str, weight_grads: list) -> list:
    """The gradient op of a hashed layer: inputs [dY, scalars, indices, segment_ids,
    weight(, alpha)], outputs ``weight_grads`` (then alpha's gradient with alpha)."""
    inputs = [g.GO(0), g.I(0), g.I(1), g.I(2), g.I(3)]
    outputs = list(weight_grads)
    if len(g.def_.input) == 5:
        inputs.append(g.I(4))
        outputs.append(g.GI(4))
    return [g.op_def(op_type, inputs, outputs)]


def _grad_shape(go, val, key, seg, weight, alpha=None):
    size = "len(segment_ids)*num_outputs*len(alpha)"
    out = [TensorShape((size,), np.float32), TensorShape((size,), np.int64)]
    if alpha is not None:
        out.append(TensorShape(alpha.dims, np.float32))
    return tuple(out)


@register_cpu_operator(
    "SparseFunHashGradient",
    inputs=["output_grad", "scalars", "indices", "segment_ids", "weight", "alpha"],
    outputs=["weight_grad_values", "weight_grad_indices", "alpha_grad"],
    num_inputs=(5, 6),
    num_outputs=(2, 3),
    args=_ARGS,
    shape=_grad_shape,
    example=Example(
        {
            "output_grad": np.array([[1.0, 2.0], [3.0, 4.0]], np.float32),
            "scalars": np.array([1.0, 2.0, 0.5], np.float32),
            "indices": np.array([0, 1, 42], np.int64),
            "segment_ids": np.array([0, 0, 1], np.int32),
            "weight": np.array([1.0, 10.0, 100.0, 1000.0], np.float32),
        },
        {
            "weight_grad_values": np.array([1, 2, -2, -4, -1.5, -2], np.float32),
            "weight_grad_indices": np.array([2, 2, 0, 0, 0, 0], np.int64),
        },
        args={"num_outputs": 2},
    ),
    doc="""Gradient of SparseFunHash: for every entry j, output column i and alpha
term k (in that order), a value sign_j * output_grad[segment_ids[j], i] *
scalars[j] (times alpha[k] with alpha) for weight index index_j, i.e. the sparse
gradient of `weight` as (values, indices) with repeats. With alpha, alpha_grad[k]
sums sign_j * output_grad[s, i] * scalars[j] * weight[index_j] over j and i (the
same for every k, as the hash ignores k).

Example: output_grad=[[1, 2], [3, 4]], scalars=[1, 2, 0.5], indices=[0, 1, 42],
segment_ids=[0, 0, 1], weight=[1, 10, 100, 1000], num_outputs=2
-> weight_grad_values=[1, 2, -2, -4, -1.5, -2], weight_grad_indices=[2, 2, 0, 0, 0, 0]""",
)
def sparse_fun_hash_gradient(go, val, key, seg, weight, *alpha, **args):
    """Sparse gradient of the hashed weights (and of alpha)."""
    num_outputs, seed = args["num_outputs"], args["seed"]
    a = alpha[0] if alpha else None
    _check(val, key, seg, weight, a, num_outputs)
    check_dtype(go, "output_grad", weight.dtype)
    n, kk = seg.shape[0], (1 if a is None else a.shape[0])
    if n and (
        go.ndim != 2
        or go.shape[1] < num_outputs
        or seg.max() >= go.shape[0]
        or seg.min() < 0
    ):
        raise ShapeError(
            "output_grad must have a row per segment and num_outputs columns",
            blob="output_grad",
            expected=f"(> {int(seg.max())}, {num_outputs})",
            found=f"shape {go.shape}",
        )
    index, sign = hashed_weights(key, seed, max(weight.shape[0], 1))
    scaled = (
        go[seg, :num_outputs] * val[:, None]
        if n
        else np.zeros((0, num_outputs), weight.dtype)
    )
    scaled = scaled * sign.astype(weight.dtype)[:, None]
    if a is None:
        values = scaled.reshape(-1)
    else:
        values = (scaled[:, :, None] * a[None, None, :]).reshape(-1)
    indices = np.repeat(index, num_outputs * kk)
    result = [values.astype(weight.dtype), indices]
    if a is not None:
        total = float(np.sum(scaled.astype(np.float64) * weight[index][:, None]))
        result.append(np.full(a.shape, total, weight.dtype))
    return tuple(result)


gradient_not_implemented_yet("SparseFunHashGradient")
