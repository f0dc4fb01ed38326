"""Checks and row bookkeeping shared by the optimizer operators (Adagrad, Adam,
MomentumSGD and their sparse forms), with Caffe2's messages. Not an operator module:
nothing is registered here.

The sparse optimizers are in place on their parameter and state blobs (Caffe2's
EnforceInplace). Their kernels write into those blobs' arrays, so that an update costs
time in proportion to the indices, not to the table, but only after every check has
passed, and only when the workspace alone holds the array (``owned`` in
ops/_sparse_update_native.py, asked at the top of the kernel); otherwise they update a
copy, which the executor stores in its place.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from caffe2lite.errors import DTypeError, EnforceError, ShapeError
from caffe2lite.schema.checks import check_dtype, cpp_type_name
from caffe2lite.schema.shapes import TensorShape, dim_product

from .._inplace import owned, writable  # noqa: F401  (the kernels' import)

F32 = np.float32


def float_input(x: Any, blob: str) -> np.ndarray:
    """A float32 tensor (Caffe2's ``data<float>()``; anything else is a type mismatch)."""
    check_dtype(x, blob, F32)
    return x


def index_input(x: Any, blob: str = "indices") -> np.ndarray:
    """Caffe2's DispatchHelper over int32 / int64 indices."""
    if not isinstance(x, np.ndarray) or x.dtype not in (np.int32, np.int64):
        found = cpp_type_name(x.dtype) if isinstance(x, np.ndarray) else type(x).__name__
        raise DTypeError(f"Unsupported type of tensor: {found}", blob=blob,
                         expected="int32 or int64", found=found)
    return x


def eq(lhs: int, rhs: int, expr: str, message: str = "", *, blob: str | None = None,
       error: type[EnforceError] = ShapeError) -> None:
    """Caffe2's ``CAFFE_ENFORCE_EQ(lhs, rhs, message)``: ``"expr. lhs vs rhs. message"``."""
    if lhs != rhs:
        text = f"{expr}. {lhs} vs {rhs}" + (f". {message}" if message else "")
        raise error(text, blob=blob, expected=rhs, found=lhs)


def that(ok: bool, expr: str, *, blob: str | None = None, expected: Any = None,
         found: Any = None, error: type[EnforceError] = ShapeError) -> None:
    """Caffe2's ``CAFFE_ENFORCE(cond)``: the condition's text."""
    if not ok:
        raise error(expr, blob=blob, expected=expected, found=found)


def first_lr(lr: np.ndarray, blob: str = "lr") -> F32:
    """The learning rate Caffe2 reads (``lr[0]``); an empty lr blob is an error here
    (Caffe2 read past its end)."""
    float_input(lr, blob)
    if lr.size == 0:
        raise ShapeError("the learning rate blob is empty", blob=blob,
                         expected="at least 1 element", found="0 elements")
    return lr.reshape(-1)[0]


def size_from(shape: tuple[int, ...], axis: int) -> int:
    return int(np.prod(shape[axis:], dtype=np.int64))


def check_row_bounds(idx: np.ndarray, n_rows: int, block: int, numel: int,
                     param: str = "param") -> None:
    """Every index must name a whole row of ``param``: Caffe2's check (a debug-build
    check in some of the ops, whose release builds read and wrote out of bounds; here
    always an error)."""
    if idx.size == 0:
        return
    bad = (idx < 0) | (idx >= n_rows)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        value = int(idx[i])
        raise EnforceError(
            f"Input(PARAM).numel() >= block_size + offsetIdx. {numel} vs "
            f"{block + value * block}. {param}, out of bound,  idx:{value} for input "
            f"i:{i} and block size:{block} max size:{numel}",
            blob="indices", expected=f"0 <= index < {n_rows}", found=value)


def occurrence_levels(idx: np.ndarray) -> Iterator[np.ndarray]:
    """Positions into ``idx`` in groups that each name every row at most once, in an
    order that applies the occurrences of one row in their order in ``idx``, as
    Caffe2's loop over the indices does. One group when no row repeats."""
    k = idx.size
    if k == 0:
        return
    order = np.argsort(idx, kind="stable")
    ordered = idx[order]
    starts = np.ones(k, dtype=bool)
    starts[1:] = ordered[1:] != ordered[:-1]
    if starts.all():
        yield np.arange(k)
        return
    group_start = np.maximum.accumulate(np.where(starts, np.arange(k), 0))
    rank = np.arange(k) - group_start
    for level in range(int(rank.max()) + 1):
        yield order[rank == level]


def writable_rows(arr: np.ndarray, block: int, in_place: bool
                  ) -> tuple[np.ndarray, np.ndarray]:
    """``(target, rows)``: the array the update goes into and a ``(n, block)`` view of
    its first ``n * block`` elements. ``target`` is ``arr`` itself when ``in_place``
    (``ops/_inplace.owned``: the workspace alone holds it, so the update is
    in place, as in Caffe2), a fresh copy otherwise."""
    target = writable(arr, in_place)
    flat = target.reshape(-1)
    n = flat.size // block if block else 0
    return target, flat[: n * block].reshape(n, block)


def same_shapes(*indices: int):
    """A shape function: output i has input ``indices[i]``'s shape and type
    (Caffe2's in-place optimizer ops)."""

    def shape(*inputs: TensorShape, num_outputs: int = 1) -> tuple[TensorShape, ...]:
        return tuple(inputs[i] if i < len(inputs) else TensorShape() for i in indices)[
            :num_outputs]

    return shape


def numel_of(shape: TensorShape) -> int:
    """Elements of a fully known shape (0 otherwise)."""
    return int(dim_product(shape.dims)) if shape.known else 0


def itemsize(shape: TensorShape, default: int = 4) -> int:
    return shape.dtype.itemsize if shape.dtype is not None else default


def iteration(it: Any, blob: str = "iter") -> int:
    """The iteration count Caffe2 reads (``iter[0]``, int64)."""
    check_dtype(it, blob, np.int64)
    if it.size == 0:
        raise ShapeError("the iteration blob is empty", blob=blob,
                         expected="at least 1 element", found="0 elements")
    return int(it.reshape(-1)[0])


def adam_correction(beta1: float, beta2: float, t: int, wide: bool = False) -> Any:
    """sqrt(1 - beta2**t) / (1 - beta1**t), as Caffe2 computes it: the float betas
    raised to the integer t in double (std::pow); passed on as a float (or, with
    ``wide``, kept a double as some of Caffe2's loops did)."""
    b1, b2 = float(F32(beta1)), float(F32(beta2))
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.sqrt(np.float64(1.0) - b2 ** t) / (np.float64(1.0) - b1 ** t)
    return np.float64(value) if wide else F32(value)


def momentum_step(g: np.ndarray, m: np.ndarray, rate: F32, momentum: float,
                  nesterov: int) -> tuple[np.ndarray, np.ndarray]:
    """``(adjusted_gradient, new_momentum)`` of Caffe2's momentum_sgd_update, in float."""
    mu = F32(momentum)
    if not nesterov:
        adjusted = rate * g + mu * m
        return adjusted, adjusted
    new_m = mu * m + rate * g
    return (F32(1) + mu) * new_m - mu * m, new_m


def fma32(a: float, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``std::fma(a, x, y)`` in float: ``a * x + y`` rounded once (the float32
    product is exact in float64)."""
    return (np.float64(F32(a)) * x.astype(np.float64) + y).astype(F32)


def row_sum(x: np.ndarray) -> np.ndarray:
    """Sum of each row accumulated left to right in float32, as Caffe2's loop
    (numpy's sum would add pairwise)."""
    if x.shape[1] == 0:
        return np.zeros(x.shape[0], F32)
    return np.cumsum(x, axis=1, dtype=F32)[:, -1]
