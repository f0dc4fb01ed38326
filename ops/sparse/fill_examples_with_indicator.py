"""FillExamplesWithIndicator: spread the rows of DATA over the examples an indicator
marks. Caffe2's open-source operators did not include it (it came from Facebook's
internal operator set); the behaviour follows glow's Caffe2 importer, the only
public definition: the output has one row per indicator entry, the i-th marked
(non-zero) entry gets DATA's i-th row, every other row is zero."""

from __future__ import annotations

import numpy as np

from caffe2lite.errors import DTypeError, EnforceError, ShapeError
from caffe2lite.schema.checks import cpp_type_name
from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import (
    gradient_not_implemented_yet,
    register_cpu_operator,
)
from caffe2lite.schema.shapes import TensorShape

INDICATOR_TYPES = (np.int32, np.int64, np.bool_)


def _shape(data, indicator):
    if data.dims is None or not data.dims:
        return (TensorShape(None, data.dtype),)
    n = indicator.dims[0] if indicator.dims else "len(indicator)"
    return (TensorShape((n,) + tuple(data.dims[1:]), data.dtype),)


@register_cpu_operator(
    "FillExamplesWithIndicator",
    inputs=["data", "indicator"],
    outputs=["output"],
    shape=_shape,
    example=Example(
        {
            "data": np.array([[1, 2], [3, 4]], np.float32),
            "indicator": np.array([0, 1, 0, 1], np.int32),
        },
        {"output": np.array([[0, 0], [1, 2], [0, 0], [3, 4]], np.float32)},
    ),
    doc="""Place the rows of `data` at the examples marked by `indicator`: the output
has shape (len(indicator),) + data.shape[1:] and data's type; the i-th non-zero
entry of indicator receives data[i], unmarked rows are zero. indicator is an int32,
int64 or bool vector with at least data.shape[0] non-zero entries (marked entries
past data's rows stay zero, as in glow's importer). This op is not in Caffe2's
open-source tree; glow's Caffe2 importer defines it, and this follows that.

Example: data=[[1, 2], [3, 4]], indicator=[0, 1, 0, 1]
-> output=[[0, 0], [1, 2], [0, 0], [3, 4]]""",
)
def fill_examples_with_indicator(data, indicator):
    """Rows of ``data`` spread over the marked examples."""
    if not isinstance(indicator, np.ndarray) or indicator.dtype not in INDICATOR_TYPES:
        found = getattr(indicator, "dtype", type(indicator).__name__)
        raise DTypeError(
            "Indicator should be of int32 or int64 type.",
            blob="indicator",
            expected="int32, int64 or bool",
            found=cpp_type_name(found) if isinstance(found, np.dtype) else found,
        )
    if indicator.ndim != 1:
        raise ShapeError(
            "Indicator should be 1D tensor.",
            blob="indicator",
            expected="1-D",
            found=f"shape {indicator.shape}",
        )
    if not isinstance(data, np.ndarray) or data.ndim < 1:
        raise ShapeError(
            "data must have at least one dimension",
            blob="data",
            expected="rank >= 1",
            found=getattr(data, "shape", None),
        )
    marked = np.flatnonzero(indicator)
    if marked.size < data.shape[0]:
        raise EnforceError(
            "The number of non-zero elements in the indicator must be at least that of "
            "the first dimension of data",
            blob="indicator",
            expected=f">= {data.shape[0]} non-zero entries",
            found=int(marked.size),
        )
    out = np.zeros((indicator.shape[0],) + data.shape[1:], data.dtype)
    out[marked[: data.shape[0]]] = data
    return (out,)


gradient_not_implemented_yet("FillExamplesWithIndicator")
