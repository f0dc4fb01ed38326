"""Dropout and DropoutGrad (Caffe2 dropout_op.cc).

Training (`is_test` = 0): each element is kept with probability 1 - ratio and scaled
by 1 / (1 - ratio) (all dropped at ratio 1); the second output is the boolean keep
mask. Inference (`is_test` = 1): Y is X. The draws come from the op's own generator,
seeded from its device option's `random_seed`.
"""

from __future__ import annotations

import numpy as np

from caffe2lite.errors import SchemaError
from caffe2lite.schema.example import Example
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.registry import (
    gradient_not_implemented_yet,
    register_cpu_operator,
    register_gradient,
)
from caffe2lite.schema.shapes import TensorShape, pointwise_cost

from .._dense import dims, enforce_cmp
from . import _convpool as cp

_ARGS = [
    Arg("ratio", float, 0.5, doc="probability of dropping an element",
        check=lambda r: 0 <= r <= 1, check_message="ratio must be in [0, 1]",
        expected="a ratio in [0, 1]"),
    Arg("is_test", bool, False, doc="inference: pass X through"),
]


def _scale(dtype, ratio: float):
    return dtype.type(0.0 if ratio >= 1 else 1.0 / (1.0 - ratio))


def _shape(x: TensorShape, *, num_outputs):
    return (x, TensorShape(x.dims, np.bool_))[:num_outputs]


@register_cpu_operator(
    "Dropout",
    inputs=["data"],
    outputs=["output", "mask"],
    num_outputs=(1, 2),
    allow_inplace=[(0, 0)],
    args=_ARGS,
    shape=_shape,
    cost=pointwise_cost(1),
    example=Example({"data": np.array([1.0, -2.0, 3.0], np.float32)},
                    {"output": np.array([1.0, -2.0, 3.0], np.float32)}, {"is_test": 1}),
    doc=__doc__.split("\n\n", 1)[1] + "\nFloat32 or float64 data of any shape.",
)
def dropout(x, *, ratio, is_test, num_outputs, rng):
    """Y = X * mask / (1 - ratio) in training, X in inference."""
    cp.check_float(x, "data")
    if is_test:
        y = x.copy()
        # Caffe2 leaves the mask untouched in test mode; here it is all kept.
        return (y, np.ones(x.shape, np.bool_)) if num_outputs == 2 else (y,)
    if num_outputs != 2:
        raise SchemaError("Dropout in training mode (is_test=0) writes its mask to a "
                          "second output, and this op has only one",
                          expected="2 outputs (output, mask) or is_test=1", found="1 output")
    mask = rng.random(x.shape) >= ratio if ratio < 1 else np.zeros(x.shape, np.bool_)
    y = (x * mask * _scale(x.dtype, ratio)).astype(x.dtype)
    return (y, mask)


@register_gradient("Dropout")
def dropout_gradient_maker(g):
    """``DropoutGrad([dY, mask]) -> [dX]`` in training, ``DropoutGrad([dY])`` with
    is_test."""
    if g.arg("is_test", 0):
        return [g.op_def("DropoutGrad", [g.GO(0)], [g.GI(0)])]
    return [g.op_def("DropoutGrad", [g.GO(0), g.O(1)], [g.GI(0)])]


@register_cpu_operator(
    "DropoutGrad",
    inputs=["dY", "mask"],
    outputs=["dX"],
    num_inputs=(1, 2),
    allow_inplace=[(0, 0)],
    args=_ARGS,
    shape=lambda dy, mask=None: (dy,),
    example=Example({"dY": np.array([1.0, 2.0], np.float32), "mask": np.array([True, False])},
                    {"dX": np.array([2.0, 0.0], np.float32)}, {"ratio": 0.5}),
    doc="""Gradient of Dropout: dX = dY * mask / (1 - ratio) in training, dY with
is_test.""",
)
def dropout_grad(dy, mask=None, *, ratio, is_test):
    """dX of Dropout."""
    cp.check_float(dy, "dY")
    if is_test:
        return (dy.copy(),)
    if mask is None:
        raise SchemaError("DropoutGrad in training mode needs the mask input",
                          expected="2 inputs (dY, mask)", found="1 input")
    enforce_cmp(mask.shape == dy.shape, "mask.sizes() == dY.sizes()", dims(mask.shape),
                dims(dy.shape), blob="mask")
    return ((dy * mask.astype(bool) * _scale(dy.dtype, ratio)).astype(dy.dtype),)


gradient_not_implemented_yet("DropoutGrad")
