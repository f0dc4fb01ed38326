"""While: run ``loop_net`` in the op's workspace while a bool blob is true."""

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


def _example_nets() -> dict[str, caffe2_pb2.NetDef]:
    """loop_net: i = i + 1; cond_net: cond = i < 3."""
    loop = caffe2_pb2.NetDef(name="loop")
    loop.op.add(type="Add", input=["i", "one"], output=["i"])
    cond = caffe2_pb2.NetDef(name="cond")
    cond.op.add(type="LT", input=["i", "three"], output=["cond"])
    return {"loop_net": loop, "cond_net": cond}


def _shape(*inputs: TensorShape, num_outputs: int = 0, **kwargs: Any) -> tuple:
    """How often the loop runs is decided by the data: every output is unknown."""
    return (UNKNOWN,) * num_outputs


@register_cpu_operator(
    "While",
    inputs=["condition"],
    outputs=["output"],
    num_inputs=(1, None),
    num_outputs=(0, None),
    allow_inplace=True,
    args=[Arg("loop_net", "net", None, doc="the loop body (required)"),
          Arg("cond_net", "net", None,
              doc="recomputes the condition before each iteration (optional)")],
    shape=_shape,
    example=Example(
        {"cond": np.array(True), "i": np.array([0], np.int32), "one": np.array([1], np.int32),
         "three": np.array([3], np.int32)},
        {"i": np.array([3], np.int32), "cond": np.array([False])},
        args=_example_nets()),
    doc="""Loop: while the first input (a blob holding one bool) is true, run
``loop_net`` (a NetDef, required). With ``cond_net``, that net runs before the first
test and after every iteration, to recompute the condition blob. The nets run in the
op's own workspace, as in Caffe2; the condition is read afresh from its blob before
every iteration. If a net fails, the workspace is left as it was before the op. A blob
that only a sub-net writes is known to later ops of the outer net when it is one of
While's outputs.

Example: cond=True, i=[0], one=[1], three=[3], with loop_net i = i + 1 and cond_net
cond = i < 3 -> i=[3], cond=[False]""",
)
def while_op(condition: np.ndarray, *inputs: Any, loop_net: caffe2_pb2.NetDef | None,
             cond_net: caffe2_pb2.NetDef | None, outputs: OutputBlobs,
             op_def: caffe2_pb2.OperatorDef, state: dict) -> tuple:
    """Run the nets on the workspace until the condition blob holds False."""
    if loop_net is None:
        raise ArgumentError("loop_net must be specified in While operator", arg="loop_net",
                            expected="a NetDef", found="no argument")
    condition_value(condition, "While")
    blobs, scratch = scratch_workspace(outputs, op_def, (condition,) + inputs)
    name = op_def.input[0]
    body = compiled(state, "loop", loop_net, scratch)
    test = None if cond_net is None else compiled(state, "cond", cond_net, scratch)
    while True:
        if test is not None:
            test.run(scratch)
        if not condition_value(scratch.get(name), "While"):
            break
        body.run(scratch)
    commit(blobs, scratch)
    return op_outputs(op_def, scratch)


# Caffe2's gradient for While (Python, control_ops_grad.gen_while_gradient) needs the
# loop body to be a Do op keeping a stack of forward workspaces (Do, HasScope),
# which caffe2lite does not have; there was no C++ gradient either.
gradient_not_implemented_yet("While")
