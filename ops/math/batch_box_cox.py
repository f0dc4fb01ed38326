"""BatchBoxCox: the Box-Cox transform of every column of a batch, with per-column
parameters."""

from __future__ import annotations

import numpy as np

from caffe2lite.schema.checks import check_dtype
from caffe2lite.schema.example import Example
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.registry import (
    gradient_not_implemented_yet,
    register_cpu_operator,
)
from caffe2lite.schema.shapes import same_as_input

from .._dense import dims, dispatch, enforce_cmp, enforce_that, size_from, tensor


def _f(values) -> np.ndarray:
    return np.array(values, np.float32)


@register_cpu_operator(
    "BatchBoxCox",
    inputs=["data", "lambda1", "lambda2"],
    outputs=["output"],
    args=[Arg("min_block_size", int, 256,
              doc="rows processed per vectorised block in Caffe2's MKL path (no effect on "
                  "the values)")],
    allow_inplace=[(0, 0)],
    shape=same_as_input(0),
    example=Example({"data": _f([[1, 3], [0, 8]]), "lambda1": _f([0, 0.5]),
                     "lambda2": _f([1, 1])},
                    {"output": _f([[0.6931472, 2], [0, 4]])}),
    doc="""Box-Cox transform of data (float32 or float64, read as N rows of D = the product
of its trailing dimensions): with t = max(x + lambda2[j], 1e-6) for an element x of
column j, the output is ln(t) where lambda1[j] == 0 and (t^lambda1[j] - 1) / lambda1[j]
otherwise. lambda1 and lambda2 hold D values of data's type. The output has data's
shape and may overwrite it in place; an empty batch gives an empty output without
looking at the lambdas.""",
)
def batch_box_cox(data: np.ndarray, lambda1: np.ndarray, lambda2: np.ndarray, *,
                  min_block_size: int) -> tuple:
    """The transform, column parameters broadcast over the rows."""
    dtype = dispatch(data, "data")
    enforce_that(data.ndim >= 1, f"data.dim() >= 1. {data.ndim} vs 1", blob="data",
                 expected="a tensor of rank 1 or more", found=dims(data.shape))
    if data.size == 0:
        return (np.empty(data.shape, dtype),)
    d = size_from(data.shape, 1)
    tensor(lambda1, "lambda1")
    tensor(lambda2, "lambda2")
    enforce_cmp(lambda1.size == d, "lambda1.numel() == D", lambda1.size, d, blob="lambda1")
    enforce_cmp(lambda2.size == d, "lambda2.numel() == D", lambda2.size, d, blob="lambda2")
    check_dtype(lambda1, "lambda1", dtype)
    check_dtype(lambda2, "lambda2", dtype)
    l1, l2 = lambda1.reshape(d), lambda2.reshape(d)
    t = np.maximum(data.reshape(-1, d) + l2, dtype.type(1e-6))
    zero = l1 == 0
    safe = np.where(zero, dtype.type(1), l1)
    with np.errstate(all="ignore"):
        out = np.where(zero, np.log(t), (np.power(t, safe) - dtype.type(1)) / safe)
    return (np.asarray(out, dtype).reshape(data.shape),)


gradient_not_implemented_yet("BatchBoxCox")
