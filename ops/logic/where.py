"""Where: Z = C ? X : Y element-wise (or row by row with ``broadcast_on_rows``)."""

from __future__ import annotations

import numpy as np

from caffe2lite.schema.checks import check_dtype
from caffe2lite.schema.example import Example
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.registry import register_cpu_operator, should_not_do_gradient
from caffe2lite.schema.shapes import same_as_input

from .._dense import dims, dispatch, enforce_cmp, enforce_that, tensor

# The element types Where dispatches on (X's type), in Caffe2's order.
WHERE_TYPES = tuple(
    np.dtype(t) for t in (np.float32, np.float64, np.int32, np.int64, object, np.bool_)
)


@register_cpu_operator(
    "Where",
    inputs=["C", "X", "Y"],
    outputs=["Z"],
    args=[
        Arg(
            "broadcast_on_rows",
            bool,
            False,
            doc="C is 1-D and picks whole rows (first-dimension slices) of X or Y",
        )
    ],
    # Caffe2 declared the pair (1, 2), which names no output: no in-place use at all.
    allow_inplace=[(1, 2)],
    shape=same_as_input(1),
    example=Example(
        {
            "C": np.array([True, False, True]),
            "X": np.array([1, 2, 3], np.int32),
            "Y": np.array([10, 20, 30], np.int32),
        },
        {"Z": np.array([1, 20, 3], np.int32)},
    ),
    doc="""Select element-wise: Z = X where C is True, Y where it is False. C is bool; X
and Y share one type (float32, float64, int32, int64, string or bool), which Z has,
with X's shape. C, X and Y must have one shape. With ``broadcast_on_rows=1``, C is
1-D and each C[i] picks the whole row i (the slice along the first dimension) of X
or Y; X and Y must then have one shape, of at least 1 dimension, whose first
dimension is len(C). No in-place use (Caffe2 allowed only the pair input 1 / output
2, which does not exist). Asking for its gradient is an error (SHOULD_NOT_DO).""",
)
def where(
    c: np.ndarray, x: np.ndarray, y: np.ndarray, *, broadcast_on_rows: bool
) -> tuple[np.ndarray]:
    """X where C else Y, element by element or row by row."""
    dtype = dispatch(x, "X", WHERE_TYPES)
    tensor(y, "Y")
    tensor(c, "C")
    if broadcast_on_rows:
        enforce_cmp(c.ndim == 1, "select.dim() == 1", c.ndim, 1, blob="C")
        enforce_that(
            y.ndim >= 1,
            "right.dim() >= 1",
            "broadcast_on_rows needs X and Y of at least 1 dimension",
            blob="Y",
            expected="a tensor of at least 1 dimension",
            found=dims(y.shape),
        )
        enforce_cmp(
            c.shape[0] == y.shape[0],
            "select.size(0) == right.size(0)",
            c.shape[0],
            y.shape[0],
            blob="Y",
        )
        enforce_cmp(
            x.shape == y.shape,
            "left.sizes() == right.sizes()",
            dims(x.shape),
            dims(y.shape),
            blob="Y",
        )
    else:
        enforce_cmp(
            c.shape == x.shape,
            "select.sizes() == left.sizes()",
            dims(c.shape),
            dims(x.shape),
            blob="X",
        )
        enforce_cmp(
            c.shape == y.shape,
            "select.sizes() == right.sizes()",
            dims(c.shape),
            dims(y.shape),
            blob="Y",
        )
    check_dtype(c, "C", np.bool_)
    check_dtype(y, "Y", dtype)
    select = c.reshape(c.shape + (1,) * (x.ndim - 1)) if broadcast_on_rows else c
    return (np.asarray(np.where(select, x, y), dtype=dtype),)


should_not_do_gradient("Where")
