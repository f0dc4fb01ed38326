"""NanCheck: the identity, failing when the first input holds a NaN or an infinity."""

from __future__ import annotations

import numpy as np

from caffe2lite.errors import EnforceError
from caffe2lite.schema.checks import check_dtype
from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import register_cpu_operator, register_gradient
from caffe2lite.schema.shapes import same_as_input

from .._dense import FLOATS


@register_cpu_operator(
    "NanCheck",
    inputs=["tensor"],
    outputs=["output"],
    num_inputs=(1, None),
    allow_inplace=[(0, 0)],
    shape=same_as_input(0),
    example=Example({"tensor": np.array([1, -2.5, 3], np.float32)},
                    {"output": np.array([1, -2.5, 3], np.float32)}),
    doc="""Copy the first input (float32 or float64) to the output, after checking that it
holds neither NaN nor an infinity; otherwise fail with "Tensor contained NaN or inf:
[<input name>]" and the flat positions of the bad elements of every input (Caffe2
printed those to stderr and failed the op). Further inputs are only reported, not
checked. The output may be the first input (in place).""",
)
def nan_check(*inputs: np.ndarray, op_def) -> tuple:
    """The first input, unchanged, if it is finite everywhere."""
    x = inputs[0]
    check_dtype(x, "tensor", *FLOATS)
    if not np.isfinite(x).all():
        where = []
        for name, t in zip(op_def.input, inputs):
            check_dtype(t, name, *FLOATS)
            where.append(f"{name}: {np.flatnonzero(~np.isfinite(t)).tolist()}")
        raise EnforceError(f"Tensor contained NaN or inf: [{op_def.input[0]}]", blob="tensor",
                           expected="finite values",
                           found="NaN or inf at " + "; ".join(where))
    return (x,)


@register_gradient("NanCheck")
def nan_check_gradient_maker(g):
    """``NanCheck([output_grad]) -> [tensor_grad]``: the gradient is checked too."""
    return [g.op_def("NanCheck", [g.GO(0)], [g.GI(0)])]
