"""Iter: the iteration counter of a training net, incremented on every run."""

from __future__ import annotations

import numpy as np

from caffe2lite.schema.checks import check_dtype, enforce
from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import no_gradient, register_cpu_operator
from caffe2lite.schema.shapes import TensorShape

_INT64_MAX = np.iinfo(np.int64).max


def increment_iter(counter: np.ndarray, blob: str) -> np.ndarray:
    """``counter + 1`` as a new array, with Caffe2's IncrementIter checks.

    >>> increment_iter(np.array([4], dtype=np.int64), "iter")
    array([5])
    """
    check_dtype(counter, blob, np.int64)
    enforce(
        counter.size == 1,
        "The output of IterOp exists, but not of the right size.",
        blob=blob,
        expected="1 element",
        found=f"shape {counter.shape}",
    )
    value = int(counter.reshape(-1)[0])
    enforce(
        value >= 0,
        "Previous iteration number is negative.",
        blob=blob,
        expected="iter >= 0",
        found=value,
    )
    enforce(
        value < _INT64_MAX,
        "Overflow will happen!",
        blob=blob,
        expected=f"iter < {_INT64_MAX}",
        found=value,
    )
    return np.full(counter.shape, value + 1, dtype=np.int64)


def iter_shape(counter: TensorShape | None = None) -> tuple[TensorShape]:
    """The counter: a 1-element int64 tensor (the input's shape when there is one)."""
    dims = (1,) if counter is None or counter.dims is None else counter.dims
    return (TensorShape(dims, np.int64),)


@register_cpu_operator(
    "Iter",
    inputs=["iter"],
    outputs=["iter"],
    shape=iter_shape,
    example=Example(
        {"iter": np.array([7], np.int64)}, {"iter": np.array([8], np.int64)}
    ),
    num_inputs=(0, 1),
    enforce_inplace=[(0, 0)],
    doc="""Stores a single integer that is incremented on each run: the iteration count
of SGD. The counter is an int64 tensor of one element, given as input and output (in
place), usually created by the init net with ConstantFill(shape=[1], value=0,
dtype=INT64); it must be >= 0. Without an input (Caffe2's deprecated form) the operator
keeps the counter itself: it starts from 0, so the first run outputs [1], and each run
of the same operator instance (a created net run again) adds one. Caffe2 instead read
the output blob, so there a counter fed or changed by others, or a new instance (each
RunOperatorOnce), continued from the blob's value; here it does not.

Example: iter=[7] -> iter=[8]""",
)
def iter_op(counter: np.ndarray | None = None, *, state: dict) -> tuple[np.ndarray]:
    """``counter + 1``; without an input, one more than this op's previous output."""
    if counter is None:
        counter = state.get("iter", np.zeros(1, dtype=np.int64))
        state["iter"] = increment_iter(counter, "iter")
        return (state["iter"],)
    return (increment_iter(counter, "iter"),)


no_gradient("Iter")
