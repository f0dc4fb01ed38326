"""Shapes and types without data: what an operator's shape function works on.

Every operator states its outputs' shapes and types from its inputs' shapes, types
and arguments (Caffe2's ``TensorInferenceFunction``), and may state its cost (Caffe2's
``CostInferenceFunction``). Both are plain functions registered beside the kernel,
called like it: input :class:`TensorShape` objects positionally, the op's arguments
as keyword-only parameters (a function receives just the arguments it declares, or
all of them with ``**kwargs``; ``num_outputs`` too when it declares it).

A dimension is an ``int`` or, where the data decide it, a ``str`` symbol (the
dropout ops' output length is ``"sum(OutputLengths)"``). A whole shape is unknown
(``dims is None``) where even the rank cannot be known; a dtype is ``None`` where
the type cannot be known.

>>> x = TensorShape((2, 3), np.float32)
>>> broadcast_shapes(x.dims, (3,))
(2, 3)
>>> x.with_dims(("N", 3)).dims
('N', 3)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence, cast

import numpy as np

from caffe2lite.errors import ShapeError

Dim = int | str


@dataclass(frozen=True)
class TensorShape:
    """The shape and element type of one blob, as far as they are known."""

    dims: tuple[Dim, ...] | None = None
    dtype: np.dtype | None = None

    def __post_init__(self) -> None:
        if self.dims is not None:
            object.__setattr__(self, "dims", tuple(
                d if isinstance(d, str) else int(d) for d in self.dims))
        if self.dtype is not None and not isinstance(self.dtype, np.dtype):
            object.__setattr__(self, "dtype", np.dtype(self.dtype))

    @property
    def ndim(self) -> int | None:
        """The rank, or None when unknown."""
        return None if self.dims is None else len(self.dims)

    @property
    def known(self) -> bool:
        """True when every dimension is a number."""
        return self.dims is not None and all(isinstance(d, int) for d in self.dims)

    def with_dims(self, dims: Sequence[Dim] | None) -> "TensorShape":
        return TensorShape(None if dims is None else tuple(dims), self.dtype)

    def with_dtype(self, dtype: Any) -> "TensorShape":
        return TensorShape(self.dims, dtype)

    def __str__(self) -> str:
        dt = "?" if self.dtype is None else self.dtype.name
        dims = "?" if self.dims is None else ", ".join(str(d) for d in self.dims)
        return f"{dt}[{dims}]"


UNKNOWN = TensorShape()


def shape_of(value: Any) -> TensorShape:
    """The TensorShape of a blob value (an array, an Int8 tensor, anything else)."""
    if isinstance(value, np.ndarray):
        return TensorShape(value.shape, value.dtype)
    data = getattr(value, "data", None)  # Int8Tensor and other array holders
    if isinstance(data, np.ndarray):
        return TensorShape(data.shape, data.dtype)
    if isinstance(value, (bytes, str)):
        return TensorShape((), np.dtype(object))
    return UNKNOWN


def dim_product(dims: Sequence[Dim]) -> Dim:
    """The number of elements of ``dims``: an int, or a symbol when any dim is one."""
    if any(isinstance(d, str) for d in dims):
        return "*".join(str(d) for d in dims) if dims else 1
    n = 1
    for d in dims:
        n *= cast(int, d)  # no symbols here
    return n


def broadcast_shapes(a: Sequence[Dim] | None, b: Sequence[Dim] | None,
                     what: str = "inputs") -> tuple[Dim, ...] | None:
    """numpy broadcasting of two dimension lists, symbols allowed (a symbol meets a
    number other than 1 as that number). Raises ShapeError when they cannot meet."""
    if a is None or b is None:
        return None
    out: list[Dim] = []
    for i in range(max(len(a), len(b))):
        x = a[len(a) - 1 - i] if i < len(a) else 1
        y = b[len(b) - 1 - i] if i < len(b) else 1
        if x == y or y == 1:
            out.append(x)
        elif x == 1:
            out.append(y)
        elif isinstance(x, str):
            out.append(y)
        elif isinstance(y, str):
            out.append(x)
        else:
            raise ShapeError(f"{what} of shapes {tuple(a)} and {tuple(b)} do not broadcast",
                             expected="broadcastable shapes", found=f"{tuple(a)} and {tuple(b)}")
    return tuple(reversed(out))


def canonical_axis(axis: int, ndim: int | None) -> int | None:
    """``axis`` counted from the front (None when the rank is unknown)."""
    if ndim is None:
        return None
    ax = axis + ndim if axis < 0 else axis
    if not 0 <= ax < max(ndim, 1):
        raise ShapeError(f"axis {axis} is out of range for a tensor of rank {ndim}",
                         expected=f"an axis in [{-ndim}, {ndim})", found=axis)
    return ax


# -- ready-made shape functions ------------------------------------------------------


def same_as_input(index: int = 0, dtype: Any = None) -> Callable[..., tuple[TensorShape, ...]]:
    """A shape function: every output has input ``index``'s shape (and its dtype,
    or ``dtype`` when given)."""

    def shape(*inputs: TensorShape, num_outputs: int = 1) -> tuple[TensorShape, ...]:
        src = inputs[index] if index < len(inputs) else UNKNOWN
        out = src if dtype is None else src.with_dtype(dtype)
        return (out,) * num_outputs

    shape.__name__ = f"same_as_input_{index}"
    return shape


def one_to_one(*inputs: TensorShape, num_outputs: int = 1) -> tuple[TensorShape, ...]:
    """A shape function: output i has input i's shape and type (Caffe2's
    IdenticalTypeAndShape for ops with as many outputs as inputs)."""
    return tuple(inputs[i] if i < len(inputs) else UNKNOWN for i in range(num_outputs))


def unknown_outputs(*inputs: TensorShape, num_outputs: int = 1) -> tuple[TensorShape, ...]:
    """A shape function for ops whose outputs cannot be told from shapes (non-tensor
    blobs such as a mutex)."""
    return (UNKNOWN,) * num_outputs


# -- costs -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Cost:
    """Caffe2's ``OpSchema::Cost``: flops, bytes read, bytes written, parameter bytes."""

    flops: int = 0
    bytes_read: int = 0
    bytes_written: int = 0
    params_bytes: int = 0


def nbytes(shape: TensorShape) -> int:
    """Bytes of a fully known shape (0 when unknown)."""
    if not shape.known or shape.dtype is None:
        return 0
    n = dim_product(shape.dims or ())
    return int(n) * shape.dtype.itemsize


def numel(shape: TensorShape) -> int:
    """Elements of a fully known shape (0 when unknown)."""
    return int(dim_product(shape.dims or ())) if shape.known else 0


def pointwise_cost(flops_per_element: int = 1) -> Callable[..., Cost]:
    """A cost function for element-wise ops (Caffe2's PointwiseCostInference): that many
    flops per output element, every input read, the output written."""

    def cost(*inputs: TensorShape, outputs: Sequence[TensorShape]) -> Cost:
        out = outputs[0] if outputs else UNKNOWN
        return Cost(flops=numel(out) * flops_per_element,
                    bytes_read=sum(nbytes(s) for s in inputs),
                    bytes_written=sum(nbytes(s) for s in outputs))

    return cost
