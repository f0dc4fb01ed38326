"""SparseLabelSplit and its gradient op SparseLabelSplitGradient (Caffe2
label_ops)."""

from __future__ import annotations

import numpy as np

from caffe2lite.errors import ArgumentError, EnforceError, GradientError, ShapeError
from caffe2lite.schema.checks import check_dtype
from caffe2lite.schema.example import Example
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.registry import (
    gradient_not_implemented_yet,
    register_cpu_operator,
    register_gradient,
)
from caffe2lite.schema.shapes import TensorShape

FLOATS = (np.float32, np.float64)  # Caffe2 registered float; float64 is an addition


def label_count(num_labels: int, outputs: int) -> int:
    """The number of labels: the argument (checked against the output count, as
    Caffe2 did when creating the op), else half the outputs."""
    if num_labels == -1:
        return outputs // 2
    if outputs not in (2 * num_labels, 2 * num_labels + 1):
        raise ArgumentError(
            "operator_def.output_size() == 2 * num_labels_ || "
            "operator_def.output_size() == 2 * num_labels_ + 1",
            arg="num_labels",
            expected=f"{2 * num_labels} or {2 * num_labels + 1} outputs",
            found=outputs,
        )
    return num_labels


def _check_lengths(length: np.ndarray, n: int) -> np.ndarray:
    check_dtype(length, "length", np.int32)
    flat = length.reshape(-1)
    total = int(flat.sum(dtype=np.int64))
    if total != n:
        raise EnforceError(
            f"std::accumulate(len_data, len_data + N_len, 0) == N. {total} vs {n}. The "
            "sum of length should be equal to the length of other inputs",
            blob="length",
            expected=n,
            found=total,
        )
    if flat.size and flat.min() < 0:
        raise EnforceError(
            "length must be non-negative",
            blob="length",
            expected=">= 0",
            found=int(flat.min()),
        )
    return flat


def within_label_rank(ind: np.ndarray, labels: int) -> tuple[np.ndarray, np.ndarray]:
    """(the positions sorted by label, stable; each position's rank within its
    label) for label ids already checked to lie in [0, labels)."""
    order = np.argsort(ind, kind="stable")
    counts = np.bincount(ind, minlength=labels)
    starts = np.cumsum(counts) - counts
    rank = np.empty(ind.shape[0], np.int64)
    rank[order] = np.arange(ind.shape[0]) - starts[ind[order]]
    return order, rank


def _shape(length, label_index, label_value, *, num_labels, num_outputs):
    labels = label_count(num_labels, num_outputs)
    out = [
        TensorShape((f"count(label_index == {i})",), label_value.dtype)
        for i in range(labels)
    ]
    out += [
        TensorShape((f"count(label_index == {i})",), np.int32) for i in range(labels)
    ]
    if num_outputs > 2 * labels:
        out.append(TensorShape(label_index.dims, np.int32))
    return tuple(out)


@register_cpu_operator(
    "SparseLabelSplit",
    inputs=["length", "label_index", "label_value"],
    outputs=["label_values", "example_ids", "offset_map"],
    num_outputs=(2, None),
    args=[
        Arg("num_labels", int, -1, doc="the number of labels (default: outputs / 2)")
    ],
    shape=_shape,
    example=Example(
        {
            "length": np.array([2, 0, 2], np.int32),
            "label_index": np.array([1, 0, 1, 1], np.int64),
            "label_value": np.array([5.0, 6.0, 7.0, 8.0], np.float32),
        },
        {
            "label_values_0": np.array([6.0], np.float32),
            "label_values_1": np.array([5.0, 7.0, 8.0], np.float32),
            "example_ids_0": np.array([0], np.int32),
            "example_ids_1": np.array([0, 2, 2], np.int32),
            "offset_map": np.array([0, 0, 1, 2], np.int32),
        },
        args={"num_labels": 2},
    ),
    doc="""Split sparse multi-task labels by task. Example i owns the next length[i]
(label_index, label_value) pairs (length int32, label_index int64, label_value
float32). With r labels (the num_labels argument, else half the number of outputs)
there are 2r outputs and an optional last one: output k < r holds the values whose
label index is k, in their original order; output r + k the matching example ids
(int32); output 2r (when present) the position of each pair within its label's
list (int32), for the gradient. Every label index must lie in [0, r) and
sum(length) must equal len(label_index) == len(label_value).

Example: length=[2, 0, 2], label_index=[1, 0, 1, 1], label_value=[5, 6, 7, 8],
num_labels=2 -> label_values_0=[6], label_values_1=[5, 7, 8], example_ids_0=[0],
example_ids_1=[0, 2, 2], offset_map=[0, 0, 1, 2]""",
)
def sparse_label_split(length, label_index, label_value, *, num_labels, num_outputs):
    """Per-label values and example ids (and the offset map)."""
    labels = label_count(num_labels, num_outputs)
    check_dtype(label_index, "label_index", np.int64)
    check_dtype(label_value, "label_value", *FLOATS)
    ind = label_index.reshape(-1)
    val = label_value.reshape(-1) if label_value.ndim else label_value.reshape(1)
    n = ind.shape[0]
    if val.shape[0] != n:
        raise ShapeError(
            f"label_val.dim(0) == N. {val.shape[0]} vs {n}. label_index should have the "
            "same length as label_value",
            blob="label_value",
            expected=n,
            found=val.shape[0],
        )
    flat_len = _check_lengths(length, n)
    bad = np.flatnonzero((ind < 0) | (ind >= labels))
    if bad.size:
        v = int(ind[bad[0]])
        expr = "label_id < num_labels_" if v >= labels else "label_id >= 0"
        rhs = labels if v >= labels else 0
        raise EnforceError(
            f"{expr}. {v} vs {rhs}. label_index out of range",
            blob="label_index",
            expected=f"0 <= index < {labels}",
            found=v,
        )
    order, rank = within_label_rank(ind, labels)
    counts = np.bincount(ind, minlength=labels)
    eid = np.repeat(np.arange(flat_len.shape[0], dtype=np.int32), flat_len)
    cuts = np.cumsum(counts)[:-1]
    values = np.split(val[order], cuts)
    eids = np.split(eid[order], cuts)
    outs = list(values) + list(eids)
    if num_outputs > 2 * labels:
        outs.append(rank.astype(np.int32))
    return tuple(outs)


@register_gradient("SparseLabelSplit")
def sparse_label_split_gradient_maker(g):
    """SparseLabelSplitGradient([length, label_index, dvalues_0..r-1(, offset_map)])
    -> label_value_grad; the forward op must state num_labels."""
    arg = next((a for a in g.def_.arg if a.name == "num_labels"), None)
    if arg is None or not arg.HasField("i"):
        raise GradientError(
            "arg.has_i()", expected="an int num_labels argument", found="none"
        )
    labels = arg.i
    inputs = [g.I(0), g.I(1)] + [g.GO(i) for i in range(labels)]
    if len(g.def_.output) > 2 * labels:
        inputs.append(g.O(2 * labels))
    return [g.op_def("SparseLabelSplitGradient", inputs, [g.GI(2)])]


def _grad_shape(length, label_index, *rest, num_labels):
    dtype = rest[0].dtype if rest else None
    return (TensorShape(label_index.dims, dtype),)


@register_cpu_operator(
    "SparseLabelSplitGradient",
    inputs=["length", "label_index", "value_grad", "offset_map"],
    outputs=["label_value_grad"],
    num_inputs=(2, None),
    args=[Arg("num_labels", int, 0, doc="the number of labels (required, > 0)")],
    shape=_grad_shape,
    example=Example(
        {
            "length": np.array([2, 0, 2], np.int32),
            "label_index": np.array([1, 0, 1, 1], np.int64),
            "value_grad_0": np.array([60.0], np.float32),
            "value_grad_1": np.array([50.0, 70.0, 80.0], np.float32),
            "offset_map": np.array([0, 0, 1, 2], np.int32),
        },
        {"label_value_grad": np.array([50.0, 60.0, 70.0, 80.0], np.float32)},
        args={"num_labels": 2},
    ),
    doc="""Gradient of SparseLabelSplit for label_value: pair j gets entry
offset[j] of the value gradient of its label, offset[j] read from the optional
offset_map input (after the num_labels value gradients) or else counted in order.
`num_labels` must be positive.

Example: length=[2, 0, 2], label_index=[1, 0, 1, 1], value_grad_0=[60],
value_grad_1=[50, 70, 80], offset_map=[0, 0, 1, 2], num_labels=2
-> label_value_grad=[50, 60, 70, 80]""",
)
def sparse_label_split_gradient(length, label_index, *grads, num_labels):
    """Each pair's entry of its label's value gradient."""
    if num_labels <= 0:
        raise ArgumentError(
            f"num_labels_ > 0. {num_labels} vs 0. num_labels should be positive",
            arg="num_labels",
            expected="> 0",
            found=num_labels,
        )
    check_dtype(label_index, "label_index", np.int64)
    ind = label_index.reshape(-1)
    n = ind.shape[0]
    _check_lengths(length, n)
    if len(grads) < num_labels:
        raise EnforceError(
            "Label index is too large or number of inputs is too few",
            expected=f"{num_labels} value gradients",
            found=len(grads),
        )
    vals = [g.reshape(-1) for g in grads[:num_labels]]
    dtype = vals[0].dtype if vals else np.dtype(np.float32)
    for i, v in enumerate(vals):
        check_dtype(v, f"value_grad_{i}", *FLOATS)
    bad = np.flatnonzero((ind < 0) | (ind >= num_labels))
    if bad.size:  # Caffe2 allowed index == num_labels and read past its inputs
        raise EnforceError(
            f"ind <= num_labels_. {int(ind[bad[0]])} vs {num_labels}. Label index is too "
            "large or number of inputs is too few",
            blob="label_index",
            expected=f"0 <= index < {num_labels}",
            found=int(ind[bad[0]]),
        )
    if len(grads) > num_labels:
        offset = grads[num_labels].reshape(-1).astype(np.int64)
        check_dtype(grads[num_labels], "offset_map", np.int32)
    else:
        offset = within_label_rank(ind, num_labels)[1]
    counts = np.array([v.shape[0] for v in vals], np.int64)
    over = np.flatnonzero((offset >= counts[ind]) | (offset < 0)) if n else []
    if len(over):  # Caffe2 allowed offset == count and read past the gradient
        raise EnforceError(
            f"offset <= n_example_per_task_[ind]. {int(offset[over[0]])} vs "
            f"{int(counts[ind[over[0]]])}. Not enough entries for value gradient",
            blob="value_grad",
            expected="an entry per pair",
            found=int(offset[over[0]]),
        )
    starts = np.cumsum(counts) - counts
    joined = np.concatenate(vals) if vals else np.zeros(0, dtype)
    return (joined[starts[ind] + offset].astype(dtype).reshape(label_index.shape),)


gradient_not_implemented_yet("SparseLabelSplitGradient")
