"""Shape and type inference, and costs, for ops and nets without running them.

Each operator's schema carries a shape function and may carry a cost function
(:mod:`caffe2lite.schema.shapes`). :func:`infer_op` applies one op's, :func:`infer_net`
walks a NetDef in order from the shapes of its inputs, and :func:`op_cost` gives
Caffe2's ``(flops, bytes_read, bytes_written, params_bytes)`` for one op: the op's own
cost function where Caffe2 had one, a generic estimate otherwise (one flop per output
element, every input read, every output written).

>>> from caffe2lite import core
>>> import numpy as np
>>> net = core.Net("n"); _ = net.Relu("X", "Y")
>>> shapes = infer_net(net.Proto(), {"X": TensorShape((2, 3), np.float32)})
>>> str(shapes["Y"])
'float32[2, 3]'
"""

from __future__ import annotations

from typing import Any, Mapping

from caffe2lite.errors import Caffe2LiteError, ShapeError
from caffe2lite.proto import caffe2_pb2
from caffe2lite.schema import registry
from caffe2lite.schema.shapes import UNKNOWN, Cost, TensorShape, nbytes, numel


def _call(fn: Any, params: frozenset | None, inputs: list[TensorShape],
          kwargs: dict[str, Any], extra: dict[str, Any]) -> Any:
    if params is None:
        return fn(*inputs, **kwargs, **extra)
    chosen = {k: v for k, v in kwargs.items() if k in params}
    chosen.update({k: v for k, v in extra.items() if k in params})
    return fn(*inputs, **chosen)


def infer_op(op: caffe2_pb2.OperatorDef, inputs: list[TensorShape]) -> list[TensorShape]:
    """The shapes and types of ``op``'s outputs, given its inputs' (one per input).

    Raises :class:`~caffe2lite.errors.ShapeError` (with the op named) when the inputs
    cannot fit, and the registry's error for an unknown op type."""
    schema = registry.lookup(op.type, op.engine)
    n_out = len(op.output)
    if schema.shape is None:
        return [UNKNOWN] * n_out
    kwargs, problems = schema.parse_args(op)
    if problems:
        raise problems[0].add_context(op_type=op.type, op_name=op.name)
    try:
        out = _call(schema.shape, schema.shape_params, list(inputs), kwargs,
                    {"num_outputs": n_out})
    except Caffe2LiteError as e:
        raise e.add_context(op_type=op.type, op_name=op.name)
    except (ValueError, TypeError, IndexError) as e:  # a shape function's own slip
        raise ShapeError(f"shape inference failed: {type(e).__name__}: {e}").add_context(
            op_type=op.type, op_name=op.name) from e
    out = list(out)
    if len(out) < n_out:
        out += [UNKNOWN] * (n_out - len(out))
    return out[:n_out]


def infer_net(
    net: caffe2_pb2.NetDef,
    shapes: Mapping[str, TensorShape],
    *,
    strict: bool = True,
) -> dict[str, TensorShape]:
    """Every blob's shape after running ``net`` on inputs of ``shapes``.

    Blobs the net reads but ``shapes`` does not give are unknown. With ``strict``
    the first op whose inputs cannot fit raises, named with its index; otherwise its
    outputs become unknown and inference goes on."""
    known: dict[str, TensorShape] = dict(shapes)
    for index, op in enumerate(net.op):
        ins = [known.get(b, UNKNOWN) for b in op.input]
        try:
            outs = infer_op(op, ins)
        except Caffe2LiteError as e:
            if strict:
                raise e.add_context(op_index=index, net_name=net.name or None)
            outs = [UNKNOWN] * len(op.output)
        for name, shape in zip(op.output, outs):
            known[name] = shape
    return known


def op_cost(op: caffe2_pb2.OperatorDef, inputs: list[TensorShape]) -> Cost:
    """Caffe2's cost of one op run on inputs of these shapes."""
    schema = registry.lookup(op.type, op.engine)
    outputs = infer_op(op, inputs)
    if schema.cost is not None:
        kwargs, _ = schema.parse_args(op)
        return _call(schema.cost, schema.cost_params, list(inputs), kwargs,
                     {"outputs": outputs, "num_outputs": len(outputs)})
    return Cost(flops=sum(numel(s) for s in outputs),
                bytes_read=sum(nbytes(s) for s in inputs),
                bytes_written=sum(nbytes(s) for s in outputs))


__all__ = ["Cost", "TensorShape", "infer_net", "infer_op", "op_cost"]
