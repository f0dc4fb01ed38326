"""ExtractPredictorNet: the part of a training net that computes given outputs from
given inputs (Caffe2's ``model_helper.ExtractPredictorNet``)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from caffe2lite.builder.net import Net
from caffe2lite.proto import caffe2_pb2

logger = logging.getLogger(__name__)


def _check_test_mode(op: caffe2_pb2.OperatorDef) -> None:
    for arg in op.arg:
        if arg.name == "is_test" and arg.i == 0:
            raise Exception(
                "An operator had is_test=0, did you try to extract a predictor from a "
                f"train model (instead of test model)? Op was: {op}")


def _rename(field: Any, renames: dict) -> None:
    values = [renames.get(b, b) for b in field]
    del field[:]
    field.extend(values)


def ExtractPredictorNet(net_proto: caffe2_pb2.NetDef, input_blobs: Iterable[Any],
                        output_blobs: Iterable[Any], device: Any = None,
                        renames: dict | None = None,
                        disabled_inputs: Iterable[str] | None = None) -> tuple:
    """``(predict_net, params)``: the ops of ``net_proto`` between the first that reads
    an input and the last that writes an output, kept when their inputs can be
    computed from the inputs and the net's external inputs; ``params`` are the
    external inputs the predictor needs besides ``input_blobs``."""
    predict_net = Net(net_proto.name + "_predict")
    proto = predict_net.Proto()
    orig_inputs, orig_outputs = set(net_proto.external_input), set(net_proto.external_output)
    inputs = {str(b) for b in input_blobs}
    outputs = {str(b) for b in output_blobs}
    known = orig_inputs | inputs
    if disabled_inputs is not None:
        known -= set(disabled_inputs)
    renames = renames or {}
    external_inputs, external_outputs = set(inputs), set(outputs)
    ops = list(net_proto.op)
    firsts = [j for j, op in enumerate(ops)
              if inputs.intersection(op.input) and op.type != "StopGradient"]
    if not firsts:
        raise Exception(f"No ops with input={inputs}")
    lasts = [j for j, op in enumerate(ops) if outputs.intersection(op.output)]
    if not lasts:
        raise Exception(f"No ops with output={outputs}")
    for op in ops[min(firsts):max(lasts) + 1]:
        if not known.issuperset(op.input):
            logger.debug("Op %s had unknown inputs: %s", op.type,
                         set(op.input).difference(known))
            continue
        new = proto.op.add()
        new.CopyFrom(op)
        if device is not None:
            new.device_option.device_type = device.device_type
            new.device_option.device_id = device.device_id
        _check_test_mode(new)
        known.update(op.output)
        external_inputs.update(set(op.input) & orig_inputs)
        external_outputs.update(set(op.output) & orig_outputs)
    proto.external_input.extend(sorted(external_inputs))
    proto.external_output.extend(sorted(external_outputs))
    _rename(proto.external_input, renames)
    _rename(proto.external_output, renames)
    for op in proto.op:
        _rename(op.input, renames)
        _rename(op.output, renames)
    renamed_inputs = {renames.get(b, b) for b in inputs}
    return predict_net, list(set(proto.external_input) - renamed_inputs)
