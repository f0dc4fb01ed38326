"""ReplaceNaN: every NaN element of a float tensor becomes the ``value`` argument."""

from __future__ import annotations

import numpy as np

from caffe2lite.schema.example import Example
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.registry import register_cpu_operator, should_not_do_gradient
from caffe2lite.schema.shapes import same_as_input

from .._dense import dispatch


@register_cpu_operator(
    "ReplaceNaN",
    inputs=["input"],
    outputs=["output"],
    args=[Arg("value", float, 0.0, doc="what replaces each NaN")],
    allow_inplace=[(0, 0)],
    shape=same_as_input(0),
    example=Example({"input": np.array([1, np.nan, -2, np.nan], np.float32)},
                    {"output": np.array([1, 7, -2, 7], np.float32)}, {"value": 7.0}),
    doc="""Replace every NaN element of the input (float32 or float64) by the argument
``value`` (default 0); other elements, infinities included, are copied. The output
has the input's shape and type and may overwrite it in place.""",
)
def replace_nan(x: np.ndarray, *, value: float) -> tuple:
    """X with NaN replaced by value."""
    dtype = dispatch(x, "input")
    return (np.where(np.isnan(x), dtype.type(value), x).astype(dtype, copy=False),)


should_not_do_gradient("ReplaceNaN")
