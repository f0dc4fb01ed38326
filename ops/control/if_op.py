"""If: run ``then_net`` or ``else_net`` in the op's workspace, chosen by a bool.

Its gradient is, as in Caffe2, a Python-registered maker (Caffe2's
control_ops_grad.gen_if_gradient): another If op on the same condition whose nets are
the backward passes of the forward nets.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from caffe2lite.errors import ArgumentError, GradientError
from caffe2lite.gradient.backward import IR, GradientRegistry
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
        compiled(state, "then", _renamed(then_net, op_def), scratch).run(scratch)
    elif else_net is not None:
        compiled(state, "else", _renamed(else_net, op_def), scratch).run(scratch)
    commit(blobs, scratch)
    return op_outputs(op_def, scratch)


_AUTOSPLIT = re.compile(r"^_(.+)_autosplit_\d+$")


def _renamed(net: caffe2_pb2.NetDef, op_def: caffe2_pb2.OperatorDef) -> caffe2_pb2.NetDef:
    """``net`` with the backward pass's ``_<g>_autosplit_<k>`` renames of a gradient
    If's outputs applied inside it too.

    Caffe2's backward pass renamed such an output in the op and in its nets
    (:func:`disambiguate_grad_if_op_output`); caffe2lite's accumulation renames only
    the op's output, so the nets would write ``g`` (clobbering the other gradient of
    the same blob) and leave the renamed output empty. Renaming here, when the nets
    are compiled, gives Caffe2's result. Only gradient If ops, and only names whose
    original is not itself an output of the op, are renamed."""
    if not op_def.is_gradient_op:
        return net
    outs = set(op_def.output)
    renames = {}
    for out in op_def.output:
        match = _AUTOSPLIT.match(out)
        if match and match.group(1) not in outs:
            renames[match.group(1)] = out
    if not renames or not any(o in renames for op in net.op for o in op.output):
        return net
    copy = caffe2_pb2.NetDef()
    copy.CopyFrom(net)
    for op in copy.op:
        for i, out in enumerate(op.output):
            if out in renames:
                op.output[i] = renames[out]
    return copy


# Caffe2 registered no C++ gradient for If: asking the built-in registry fails, and
# GetGradientForOp then falls back to the Python registry, where Caffe2's core put
# control_ops_grad.gen_if_gradient. The same two steps here.
gradient_not_implemented_yet("If")


def _dedupe_output_gradients(op: caffe2_pb2.OperatorDef, g_output: list) -> tuple[list, list]:
    """One gradient blob per output: a gradient name given for two different outputs
    is copied to ``<output>_<grad>_DEDUP`` for the second (Copy ops returned first)."""
    copies, deduped, chosen = [], [], {}
    for output, grad in zip(op.output, g_output):
        if not grad:
            deduped.append(grad)
        elif output in chosen:
            deduped.append(chosen[output])
        elif str(grad) not in chosen.values():
            chosen[output] = str(grad)
            deduped.append(str(grad))
        else:
            name = f"{output}_{grad}_DEDUP"
            copies.append(caffe2_pb2.OperatorDef(type="Copy", input=[str(grad)], output=[name]))
            chosen[output] = name
            deduped.append(name)
    return copies, deduped


def _net_argument(op: caffe2_pb2.OperatorDef, name: str) -> caffe2_pb2.NetDef | None:
    for arg in op.arg:
        if arg.name == name:
            if not arg.HasField("n"):
                raise GradientError(f"Expected non empty net argument {name}", arg=name)
            return arg.n
    return None


def _subnet_gradient(net: caffe2_pb2.NetDef, init_grad: dict[str, str]) -> tuple:
    """(gradient net, {blob: gradient}, names its ops read before writing, names they
    write): the net's backward pass built like any other."""
    ops, grads = IR(list(net.op)).GetBackwardPass(dict(init_grad))
    reads, writes = set(), set()
    for grad_op in ops:
        reads.update(b for b in grad_op.input if b not in writes)
        writes.update(grad_op.output)
    grad_net = caffe2_pb2.NetDef()
    grad_net.CopyFrom(net)
    if grad_net.name:
        grad_net.name += "_grad"
    del grad_net.op[:], grad_net.external_input[:], grad_net.external_output[:]
    grad_net.op.extend(ops)
    return grad_net, {str(k): str(v) for k, v in grads.items()}, reads, writes


def _zero_gradient_ops(init_grad: dict[str, str], grad_map: dict[str, str],
                       names: set[str]) -> list[caffe2_pb2.OperatorDef]:
    """For gradients that only the other branch computes: copy the given output
    gradient, or fill zeros shaped like the blob (ConstantFill of value 0)."""
    ops = []
    for grad in sorted(names):
        blob = next(b for b, g in grad_map.items() if g == grad)
        if blob in init_grad:
            if init_grad[blob] != grad:
                ops.append(caffe2_pb2.OperatorDef(type="Copy", input=[init_grad[blob]],
                                                  output=[grad]))
        else:
            fill = caffe2_pb2.OperatorDef(type="ConstantFill", input=[blob], output=[grad])
            fill.arg.add(name="value", f=0.0)
            ops.append(fill)
    return ops


@GradientRegistry.RegisterGradient("If")
def if_gradient(op: caffe2_pb2.OperatorDef, g_output: list) -> tuple[list, list]:
    """The gradient If op: same condition; its then/else nets are the backward passes of
    the forward then/else nets from the output gradients; a gradient that only one
    branch computes is zero-filled (or copied from the output gradient) in the other.
    Returns ``(gradient ops, input gradients)`` as Caffe2's gen_if_gradient did."""
    if len(op.output) != len(g_output):
        raise GradientError("Different number of gradient blobs and If op outputs")
    ops, g_output = _dedupe_output_gradients(op, list(g_output))
    init_grad = {o: g for o, g in zip(op.output, g_output) if g}
    if not init_grad:
        raise GradientError("Empty initial gradient map for If op")
    then_net = _net_argument(op, "then_net")
    if then_net is None:
        raise GradientError("Expected then subnet in If op", arg="then_net")
    then_grad, then_map, then_in, then_out = _subnet_gradient(then_net, init_grad)
    grad_map = dict(then_map)
    else_grad, else_map, else_in, else_out = None, {}, set(), set()
    else_net = _net_argument(op, "else_net")
    if else_net is not None:
        else_grad, else_map, else_in, else_out = _subnet_gradient(else_net, init_grad)
        for blob, grad in else_map.items():
            other = then_map.get(blob)
            if other is None or other == grad:
                grad_map[blob] = grad
            elif other == init_grad.get(blob):
                grad_map[blob] = grad
            elif grad != init_grad.get(blob):
                raise GradientError(f"Unexpected grad blob name {blob}, {grad}, {other}")
    both = then_out & else_out
    zero_then = _zero_gradient_ops(init_grad, then_map,
                                   {o for o in then_out - both if o in then_map.values()})
    if else_grad is not None:
        else_grad.op.extend(zero_then)
    elif zero_then:
        else_grad = caffe2_pb2.NetDef()
        else_grad.CopyFrom(then_grad)
        if else_grad.name:
            else_grad.name += "_auto_else_zero_blobs_"
        del else_grad.op[:]
        else_grad.op.extend(zero_then)
    then_grad.op.extend(_zero_gradient_ops(
        init_grad, else_map, {o for o in else_out - both if o in else_map.values()}))
    grad_if = caffe2_pb2.OperatorDef()
    grad_if.CopyFrom(op)
    del grad_if.input[:], grad_if.output[:], grad_if.arg[:], grad_if.control_input[:]
    grad_if.input.extend([op.input[0]] + sorted((then_in | else_in) - {op.input[0]}))
    grad_if.output.extend(sorted(then_out | else_out))
    grad_if.arg.add(name="then_net", n=then_grad)
    if else_grad is not None:
        grad_if.arg.add(name="else_net", n=else_grad)
    if grad_if.name:
        grad_if.name += "_grad"
    grad_if.is_gradient_op = True
    return ops + [grad_if], [grad_map.get(i) for i in op.input]


def disambiguate_grad_if_op_output(grad_op: caffe2_pb2.OperatorDef, idx: int,
                                   new_grad_output: str) -> None:
    """Rename output ``idx`` of a gradient If op to ``new_grad_output``, inside its
    then/else nets too (every op output of that name), as Caffe2's backward pass did
    for If when it gave a gradient an ``_autosplit_`` name; renaming only the op's
    output would leave the nets writing the old name."""
    old = grad_op.output[idx]
    for name in ("then_net", "else_net"):
        net = _net_argument(grad_op, name)
        if net is None:
            continue
        for op in net.op:
            for i, out in enumerate(op.output):
                if out == old:
                    op.output[i] = new_grad_output
    grad_op.output[idx] = new_grad_output
