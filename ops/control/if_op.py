"""If: run ``then_net`` or ``else_net`` in the op's workspace, chosen by a bool.

The gradient is Caffe2's Python one (control_ops_grad.gen_if_gradient): an If op whose
nets are the backward passes of the forward nets; it lives in :mod:`.if_gradient`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from caffe2lite.errors import ArgumentError
from caffe2lite.proto import caffe2_pb2
from caffe2lite.runtime.net import OutputBlobs
from caffe2lite.schema.example import Example
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.registry import gradient_not_implemented_yet, register_cpu_operator
from caffe2lite.schema.shapes import UNKNOWN, TensorShape
from ._subnet import commit, compiled, condition_value, op_outputs, scratch_workspace


def _net(name: str, *ops: caffe2_pb2.OperatorDef) -> caffe2_pb2.NetDef:
    net = caffe2_pb2.NetDef(name=name)
    net.op.extend(ops)
    return net


def _fill(output: str, value: float) -> caffe2_pb2.OperatorDef:
    op = caffe2_pb2.OperatorDef(type="ConstantFill", output=[output])
    op.arg.add(name="shape", ints=[1])
    op.arg.add(name="value", f=value)
    return op


def _shape(*inputs: TensorShape, num_outputs: int = 0, **kwargs: Any) -> tuple:
    """What the chosen net writes is decided by the data: every output is unknown."""
    return (UNKNOWN,) * num_outputs


@register_cpu_operator(
    "If",
    inputs=["condition"],
    outputs=["output"],
    num_inputs=(1, None),
    num_outputs=(0, None),
    allow_inplace=True,
    args=[Arg("then_net", "net", None, doc="the net run when the condition is true (required)"),
          Arg("else_net", "net", None, doc="the net run when it is false (optional)")],
    shape=_shape,
    example=Example(
        {"condition": np.array(True), "x": np.array([1.0], np.float32)},
        {"y": np.array([2.0], np.float32)},
        args={"then_net": _net("then", _fill("y", 2.0)),
              "else_net": _net("else", _fill("y", 3.0))}),
    doc="""Conditional: the first input is a tensor holding one bool; when it is true the
``then_net`` argument (a NetDef, required) runs, otherwise ``else_net`` if given. The
nets run in the op's own workspace: they read its blobs and what they write stays
there, as in Caffe2 (the op's other inputs and its outputs only declare what the nets
read and write). If a net fails, the workspace is left as it was. A blob that only a
sub-net writes is known to later ops of the outer net when it is one of If's outputs.

Example: condition=True, x=[1], with then_net writing y=[2] and else_net writing y=[3]
-> y=[2]""",
)
def if_op(condition: np.ndarray, *inputs: Any, then_net: caffe2_pb2.NetDef | None,
          else_net: caffe2_pb2.NetDef | None, outputs: OutputBlobs,
          op_def: caffe2_pb2.OperatorDef, state: dict) -> tuple:
    """Run one of the nets on the workspace; return the declared outputs."""
    if then_net is None:
        raise ArgumentError("then_net must be specified in If operator", arg="then_net",
                            expected="a NetDef", found="no argument")
    flag = condition_value(condition, "If")
    blobs, scratch = scratch_workspace(outputs, op_def, (condition,) + inputs)
    if flag:
        compiled(state, "then", then_net, scratch).run(scratch)
    elif else_net is not None:
        compiled(state, "else", else_net, scratch).run(scratch)
    commit(blobs, scratch)
    return op_outputs(op_def, scratch)


# Caffe2 registered no C++ gradient for If; its gradient came from the Python registry
# (control_ops_grad.gen_if_gradient), registered in .if_gradient.
gradient_not_implemented_yet("If")
