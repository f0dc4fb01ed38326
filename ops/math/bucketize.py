"""Bucketize: the index of the bucket (between sorted boundaries) of every element."""

from __future__ import annotations

from itertools import pairwise

import numpy as np

from caffe2lite.schema.checks import check_dtype, check_min_ndim
from caffe2lite.schema.example import Example
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.registry import (
    gradient_not_implemented_yet,
    register_cpu_operator,
)
from caffe2lite.schema.shapes import TensorShape


def _sorted(values) -> bool:
    return all(a <= b for a, b in pairwise(values))


def _shape(data: TensorShape) -> tuple[TensorShape]:
    """data's shape, int32."""
    return (TensorShape(data.dims, np.int32),)


@register_cpu_operator(
    "Bucketize",
    inputs=["data"],
    outputs=["output"],
    args=[Arg("boundaries", "floats", [], doc="the bucket boundaries, in increasing order",
              check=_sorted,
              check_message="std::is_sorted(boundaries_.begin(), boundaries_.end()). The "
                            "boundaries need to be monotonically increasing",
              expected="boundaries in increasing order")],
    shape=_shape,
    example=Example({"data": np.array([[2, 3], [4, 1], [2, 5]], np.float32)},
                    {"output": np.array([[1, 2], [2, 1], [1, 2]], np.int32)},
                    {"boundaries": [0.1, 2.5]}),
    doc="""Bucketize a float32 tensor (of rank 1 or more) by sorted ``boundaries``: each
element x becomes the int32 index i with boundaries[i-1] < x <= boundaries[i] (0 below
the first boundary, len(boundaries) above the last; NaN gives 0), like numpy's
digitize with right=True. The output has data's shape.""",
)
def bucketize(data: np.ndarray, *, boundaries: list[float]) -> tuple:
    """The lower-bound position of every element among the boundaries."""
    check_dtype(data, "data", np.float32)
    check_min_ndim(data, "data", 1, f"input.dim() >= 1. {data.ndim} vs 1")
    edges = np.asarray(boundaries, np.float32)
    out = np.searchsorted(edges, data, side="left").astype(np.int32)
    return (np.where(np.isnan(data), np.int32(0), out),)


# Caffe2 declared NO_GRADIENT for "BucketizeOp", a name no operator has, so Bucketize
# itself had no gradient registered: asking for one is an error.
gradient_not_implemented_yet("Bucketize")
