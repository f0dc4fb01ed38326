"""Caffe2's ``control_ops_grad`` module: the gradient of ``If`` (the face of
:mod:`caffe2lite.ops.control.if_op`)."""

from caffe2lite.ops.control.if_op import (  # noqa: F401
    disambiguate_grad_if_op_output,
    if_gradient as gen_if_gradient,
)
