"""FunHash and its gradient op FunHashGradient (Caffe2 experiments/funhash_op): the
hashed fully-connected layer of SparseFunHash with a dense weight gradient.

Caffe2 hashed ``XXH64(hash_data.data(), hash_data.size(), seed)`` twice per weight,
once with INDEX_MAGIC (index = hash % len(weight)) and once with SIGN_MAGIC (the
weight negated when the hash is odd), on a buffer of four uint64 (key, output index,
alpha index, magic) but with the length 4 (elements, taken as bytes): only the low 4
bytes of the key are hashed, so both hashes are one value and every output column
and alpha term of a key draws the same weight with the same sign. (SparseFunHash
took its index from ``hash >> 1`` instead.) The sums run in the weight's type, entry
after entry, as Caffe2's loops did.
"""

from __future__ import annotations

import numpy as np

from caffe2lite.errors import ShapeError
from caffe2lite.schema.checks import check_dtype
from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import (
    gradient_not_implemented_yet,
    register_cpu_operator,
    register_gradient,
)
from caffe2lite.schema.shapes import TensorShape

from .sparse_fun_hash import (
    _ARGS,
    _check,
    _segments,
    _shape,
    hashed_layer_gradient,
    xxh64_low4,
)

_EXAMPLE_INPUTS = {
    "scalars": np.array([1.0, 2.0, 0.5], np.float32),
    "indices": np.array([0, 1, 42], np.int64),
    "segment_ids": np.array([0, 0, 1], np.int32),
    "weight": np.array([1.0, 10.0, 100.0, 1000.0], np.float32),
}


def hashed(keys: np.ndarray, seed: int, num_weight: int) -> tuple[np.ndarray, np.ndarray]:
    """(weight index, sign) of each key: hash % num_weight, -1 when the hash is odd."""
    h = xxh64_low4(keys, seed)
    index = (h % np.uint64(max(num_weight, 1))).astype(np.int64)
    sign = np.where(h & np.uint64(1), -1, 1).astype(np.int8)
    return index, sign


def _entry_weights(weight: np.ndarray, index: np.ndarray, sign: np.ndarray,
                   alpha: np.ndarray | None) -> np.ndarray:
    """Each entry's signed weight, summed over the alpha terms in order (Caffe2's
    ``sum += cur_weight * alpha[k]``, in the weight's type)."""
    w = weight[index] * sign.astype(weight.dtype)
    if alpha is None:
        return w
    total = np.zeros_like(w)
    for a in alpha:  # one pass per alpha term keeps Caffe2's order of additions
        total += w * a
    return total


@register_cpu_operator(
    "FunHash",
    inputs=["scalars", "indices", "segment_ids", "weight", "alpha"],
    outputs=["output"],
    num_inputs=(4, 5),
    args=_ARGS,
    shape=_shape,
    example=Example(dict(_EXAMPLE_INPUTS),
                    {"output": np.array([[-19, -19], [-5, -5]], np.float32)},
                    args={"num_outputs": 2}),
    doc="""A fully-connected layer over sparse inputs whose weights are drawn from the
`weight` vector by hashing: output[s, i] = sum over the entries j of segment s of
scalars[j] * sign_j * weight[index_j] (times sum(alpha) when the fifth input alpha
is given), where index_j = XXH64(low 4 bytes of indices[j], seed) % len(weight)
and sign_j = -1 when that hash is odd. As in Caffe2 (which hashed only the first 4
bytes of its key buffer) the draw does not depend on the output column nor on the
alpha term, so every column of a row is equal. scalars, weight and alpha are float32
(or all float64, a caffe2lite addition), indices int64, segment_ids int32 (one per
entry, in [0, rows)); the output has the weight's type and shape (rows,
num_outputs), rows = num_segments or max(segment_ids) + 1. `num_outputs` is
required. Its gradient is dense (FunHashGradient); SparseFunHash is the same layer
with a sparse gradient and another index rule.

Example: scalars=[1, 2, 0.5], indices=[0, 1, 42], segment_ids=[0, 0, 1],
weight=[1, 10, 100, 1000], num_outputs=2 -> output=[[-19, -19], [-5, -5]]
(key 0 draws +weight[0], keys 1 and 42 draw -weight[1])""",
)
def fun_hash(val, key, seg, weight, *alpha, **args):
    """Hashed sparse x dense product, per segment, summed entry after entry."""
    num_outputs, num_segments, seed = (args[k] for k in ("num_outputs", "num_segments", "seed"))
    a = alpha[0] if alpha else None
    _check(val, key, seg, weight, a, num_outputs)
    k = _segments(seg, num_segments)
    out = np.zeros((k, num_outputs), weight.dtype)
    if seg.size == 0 or num_outputs == 0:
        return (out,)
    index, sign = hashed(key, seed, weight.shape[0])
    terms = _entry_weights(weight, index, sign, a) * val
    column = np.zeros(k, weight.dtype)
    np.add.at(column, seg, terms)  # in entry order, in the weight's type
    out[:] = column[:, None]
    return (out,)


@register_gradient("FunHash")
def fun_hash_gradient_maker(g):
    """FunHashGradient([dY, scalars, indices, segment_ids, weight(, alpha)]) ->
    (weight_grad(, alpha_grad)): a dense weight gradient."""
    return hashed_layer_gradient(g, "FunHashGradient", [g.GI(3)])


def _grad_shape(go, val, key, seg, weight, alpha=None):
    out = [TensorShape(weight.dims, weight.dtype)]
    if alpha is not None:
        out.append(TensorShape(alpha.dims, alpha.dtype))
    return tuple(out)


@register_cpu_operator(
    "FunHashGradient",
    inputs=["output_grad", "scalars", "indices", "segment_ids", "weight", "alpha"],
    outputs=["weight_grad", "alpha_grad"],
    num_inputs=(5, 6),
    num_outputs=(1, 2),
    args=_ARGS,
    shape=_grad_shape,
    example=Example(
        {"output_grad": np.array([[1.0, 2.0], [3.0, 4.0]], np.float32), **_EXAMPLE_INPUTS},
        {"weight_grad": np.array([3, -9.5, 0, 0], np.float32)},
        args={"num_outputs": 2},
    ),
    doc="""Gradient of FunHash: weight_grad (like weight) gets, for every entry j, output
column i and alpha term k in that order, sign_j * output_grad[segment_ids[j], i] *
scalars[j] (times alpha[k] with alpha) added at index_j; with alpha, alpha_grad[k]
gets that value (without alpha[k]) times weight[index_j]. The sums run in the
weight's type in that order, as Caffe2's loop did.

Example: output_grad=[[1, 2], [3, 4]], scalars=[1, 2, 0.5], indices=[0, 1, 42],
segment_ids=[0, 0, 1], weight=[1, 10, 100, 1000], num_outputs=2
-> weight_grad=[3, -9.5, 0, 0] (key 0 adds 1 + 2 at index 0; key 1 adds -2 * (1 + 2)
at index 1 and key 42 adds -0.5 * (3 + 4) there)""",
)
def fun_hash_gradient(go, val, key, seg, weight, *alpha, **args):
    """Dense gradient of the hashed weights (and of alpha)."""
    num_outputs, seed = args["num_outputs"], args["seed"]
    a = alpha[0] if alpha else None
    _check(val, key, seg, weight, a, num_outputs)
    check_dtype(go, "output_grad", weight.dtype)
    n = seg.shape[0]
    if n and (go.ndim != 2 or go.shape[1] < num_outputs or int(seg.max()) >= go.shape[0]
              or int(seg.min()) < 0):
        raise ShapeError("output_grad must have a row per segment and num_outputs columns",
                         blob="output_grad",
                         expected=f"(> {int(seg.max())}, {num_outputs})",
                         found=f"shape {go.shape}")
    grad = np.zeros_like(weight)
    alphas = np.ones(1, weight.dtype) if a is None else a
    grad_alpha = np.zeros(alphas.shape, weight.dtype)
    if n and num_outputs:
        index, sign = hashed(key, seed, weight.shape[0])
        scale = go[seg, :num_outputs] * val[:, None]  # (entries, columns)
        scale = scale * sign.astype(weight.dtype)[:, None]
        # the additions of Caffe2's loop, in its order: entry, column, alpha term
        order_values = (scale[:, :, None] * alphas[None, None, :]).reshape(-1)
        order_index = np.repeat(index, num_outputs * alphas.shape[0])
        np.add.at(grad, order_index, order_values)
        if a is not None:  # alpha_grad[k] += scale[j, i] * weight[index_j], same order
            by_column = (scale * weight[index][:, None]).reshape(-1)
            np.add.at(grad_alpha, np.tile(np.arange(alphas.shape[0]), by_column.size),
                      np.repeat(by_column, alphas.shape[0]))
    return (grad,) if a is None else (grad, grad_alpha)


gradient_not_implemented_yet("FunHashGradient")
