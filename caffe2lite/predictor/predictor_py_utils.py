"""Caffe2's ``predictor_py_utils``: building a predictor's nets and reading the
key/value lists of a MetaNetDef."""

from __future__ import annotations

from typing import Any

from caffe2lite.errors import ApiValueError
from caffe2lite.proto import caffe2_pb2


def create_predict_net(predictor_export_meta: Any) -> caffe2_pb2.NetDef:
    """The predict net: the given net's ops, with the inputs then the parameters as
    external inputs, the outputs as external outputs (and ``net_type`` as its type)."""
    from caffe2lite import core

    net = core.Net(predictor_export_meta.predict_net.name or "predict")
    net.Proto().op.extend(predictor_export_meta.predict_net.op)
    net.Proto().external_input.extend(
        predictor_export_meta.inputs + predictor_export_meta.parameters)
    net.Proto().external_output.extend(predictor_export_meta.outputs)
    if predictor_export_meta.net_type is not None:
        net.Proto().type = predictor_export_meta.net_type
    return net.Proto()


def create_predict_init_net(ws: Any, predictor_export_meta: Any) -> caffe2_pb2.NetDef:
    """``predict-init``: a zero ConstantFill of every input and output, of the shape
    given in ``shapes`` or else of the blob's shape in ``ws``; then the
    ``extra_init_net``."""
    from caffe2lite import core

    net = core.Net("predict-init")

    def zero_fill(blob: str) -> None:
        shape = predictor_export_meta.shapes.get(blob)
        if shape is None:
            if blob not in ws.blobs:
                raise ApiValueError(
                    f"{blob} not in workspace but needed for shape: {list(ws.blobs)}")
            shape = ws.blobs[blob].fetch().shape
        net.ConstantFill([], blob, shape=list(shape), value=0.0)

    external_blobs = predictor_export_meta.inputs + predictor_export_meta.outputs
    for blob in external_blobs:
        zero_fill(blob)
    net.Proto().external_input.extend(external_blobs)
    if predictor_export_meta.extra_init_net:
        net.AppendNet(predictor_export_meta.extra_init_net)
    return net.Proto()


def get_comp_name(string: str, name: str) -> str:
    """``string`` or ``string_name`` when the predictor has a name."""
    return f"{string}_{name}" if name else string


def _ProtoMapGet(field: Any, key: str) -> Any:
    for v in field:
        if v.key == key:
            return v.value
    return None


def GetPlan(meta_net_def: Any, key: str) -> Any:
    return _ProtoMapGet(meta_net_def.plans, key)


GetPlanOriginal = GetPlan


def GetBlobs(meta_net_def: Any, key: str) -> Any:
    blobs = _ProtoMapGet(meta_net_def.blobs, key)
    return [] if blobs is None else blobs


def GetNet(meta_net_def: Any, key: str) -> Any:
    return _ProtoMapGet(meta_net_def.nets, key)


GetNetOriginal = GetNet


def GetApplicationSpecificInfo(meta_net_def: Any, key: str) -> Any:
    return _ProtoMapGet(meta_net_def.applicationSpecificInfo, key)


def AddBlobs(meta_net_def: Any, blob_name: str, blob_def: list[str]) -> None:
    blobs = _ProtoMapGet(meta_net_def.blobs, blob_name)
    if blobs is None:
        entry = meta_net_def.blobs.add()
        entry.key = blob_name
        blobs = entry.value
    for blob in blob_def:
        blobs.append(blob)


def AddPlan(meta_net_def: Any, plan_name: str, plan_def: Any) -> None:
    meta_net_def.plans.add(key=plan_name, value=plan_def)


def AddNet(meta_net_def: Any, net_name: str, net_def: Any) -> None:
    meta_net_def.nets.add(key=net_name, value=net_def)


def AddModelIdArg(meta_net_def: Any, net_def: caffe2_pb2.NetDef) -> None:
    """Copy the predict net's integer ``model_id`` argument (if any) onto ``net_def``,
    replacing one it had."""
    predict_net = getattr(meta_net_def, "predict_net", None)
    model_id = None
    for arg in getattr(predict_net, "arg", []):
        if arg.name == "model_id":
            model_id = arg.i
    if model_id is None:
        return
    for arg in net_def.arg:
        if arg.name == "model_id":
            net_def.arg.remove(arg)
            break
    new_arg = net_def.arg.add()
    new_arg.name = "model_id"
    new_arg.i = model_id
