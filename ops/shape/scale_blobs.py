"""ScaleBlobs: every input tensor multiplied by one ``scale``, output i from input i."""

from __future__ import annotations

import numpy as np

from caffe2lite.errors import SchemaError
from caffe2lite.schema.example import Example
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.registry import (
    gradient_not_implemented_yet,
    register_cpu_operator,
)
from caffe2lite.schema.shapes import one_to_one

from .._dense import float_tensor


@register_cpu_operator(
    "ScaleBlobs",
    inputs=["X"],
    outputs=["Y"],
    num_inputs=(1, None),
    num_outputs=(1, None),
    args=[Arg("scale", float, 1.0, doc="the factor")],
    allow_inplace=True,
    shape=one_to_one,
    example=Example({"X1": np.array([1, 2], np.float32), "X2": np.array([[3]], np.float32)},
                    {"Y1": np.array([0.5, 1], np.float32), "Y2": np.array([[1.5]], np.float32)},
                    {"scale": 0.5}),
    doc="""Multiply each input tensor by ``scale`` (default 1): output i = scale *
input i, of its shape. All inputs have one float type (float32, or float64); there
must be as many outputs as inputs. Any output may overwrite any input. Caffe2
registered no gradient for it.

Example: X1=[1, 2], X2=[[3]] with scale=0.5 -> Y1=[0.5, 1], Y2=[[1.5]]""",
)
def scale_blobs(*xs: np.ndarray, scale: float, num_outputs: int) -> tuple:
    """x * scale for each input."""
    dtype = float_tensor(xs[0], "X")
    for x in xs[1:]:
        float_tensor(x, "X", dtype)
    if num_outputs != len(xs):
        raise SchemaError("ScaleBlobs needs one output per input", expected=f"{len(xs)} "
                          "outputs", found=f"{num_outputs} outputs")
    factor = np.float32(scale).astype(dtype)
    return tuple(x * factor for x in xs)


gradient_not_implemented_yet("ScaleBlobs")
