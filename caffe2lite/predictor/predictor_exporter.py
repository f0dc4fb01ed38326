"""Caffe2's ``predictor_exporter``: keep a trained net as a predictor DB and load it
back.

A predictor DB (``save_to_db``) holds, as Caffe2 wrote it, the string blob
``!!META_NET_DEF`` (a serialized ``MetaNetDef``, first) then every parameter blob.
The MetaNetDef carries three nets under Caffe2's names (``PREDICT_INIT_NET_TYPE``,
``GLOBAL_INIT_NET_TYPE``, ``PREDICT_NET_TYPE``, with ``_<name>`` for a named
predictor) and the lists of parameters, inputs and outputs. The global init net
loads the parameters from the DBReader blob ``!!PREDICTOR_DBREADER``; the predict
init net zero-fills the inputs and outputs; the predict net is the model.
``prepare_prediction_net`` runs the two init nets and creates the predict net in the
current workspace.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from caffe2lite.errors import ApiValueError
from caffe2lite.io.protoio import parse_message
from caffe2lite.predictor import predictor_py_utils as utils
from caffe2lite.predictor.metanet import MetaNetDef, predictor_constants
from caffe2lite.proto import caffe2_pb2

__all__ = [
    "PredictorExportMeta",
    "get_meta_net_def",
    "get_predictor_exporter_helper",
    "load_from_db",
    "predictor_constants",
    "prepare_prediction_net",
    "save_to_db",
    "set_model_info",
]


class _Meta(NamedTuple):
    predict_net: Any
    parameters: list
    inputs: list
    outputs: list
    shapes: dict
    name: str
    extra_init_net: Any
    net_type: Any
    num_workers: Any


class PredictorExportMeta(_Meta):
    """What a predictor is made of: the predict net (a core.Net, NetDef or PlanDef),
    the parameter, input and output blob names (names or BlobReferences), optional
    ``shapes`` of inputs/outputs (else taken from the workspace), a ``name`` (several
    predictors in one DB), an ``extra_init_net``, ``net_type`` and ``num_workers``."""

    def __new__(cls, predict_net: Any, parameters: Any, inputs: Any, outputs: Any,
                shapes: Any = None, name: str = "", extra_init_net: Any = None,
                net_type: Any = None, num_workers: Any = None) -> "PredictorExportMeta":
        inputs = [str(i) for i in inputs]
        outputs = [str(o) for o in outputs]
        if len(set(inputs)) != len(inputs):
            raise ApiValueError("All inputs to the predictor should be unique")
        parameters = [str(p) for p in parameters]
        if not set(parameters).isdisjoint(inputs):
            raise ApiValueError("Parameters and inputs are required to be disjoint. "
                                f"Intersection: {set(parameters) & set(inputs)}")
        if not set(parameters).isdisjoint(outputs):
            raise ApiValueError("Parameters and outputs are required to be disjoint. "
                                f"Intersection: {set(parameters) & set(outputs)}")
        shapes = shapes or {}
        if hasattr(predict_net, "Proto"):
            predict_net = predict_net.Proto()
        if not isinstance(predict_net, (caffe2_pb2.NetDef, caffe2_pb2.PlanDef)):
            raise ApiValueError("predict_net must be a core.Net, a NetDef or a PlanDef",
                                found=type(predict_net).__name__)
        return super().__new__(cls, predict_net, parameters, inputs, outputs, shapes,
                               name, extra_init_net, net_type, num_workers)

    def inputs_name(self) -> str:
        return utils.get_comp_name(predictor_constants.INPUTS_BLOB_TYPE, self.name)

    def outputs_name(self) -> str:
        return utils.get_comp_name(predictor_constants.OUTPUTS_BLOB_TYPE, self.name)

    def parameters_name(self) -> str:
        return utils.get_comp_name(predictor_constants.PARAMETERS_BLOB_TYPE, self.name)

    def global_init_name(self) -> str:
        return utils.get_comp_name(predictor_constants.GLOBAL_INIT_NET_TYPE, self.name)

    def predict_init_name(self) -> str:
        return utils.get_comp_name(predictor_constants.PREDICT_INIT_NET_TYPE, self.name)

    def predict_net_name(self) -> str:
        return utils.get_comp_name(predictor_constants.PREDICT_NET_TYPE, self.name)

    def train_init_plan_name(self) -> str:
        return utils.get_comp_name(predictor_constants.TRAIN_INIT_PLAN_TYPE, self.name)

    def train_plan_name(self) -> str:
        return utils.get_comp_name(predictor_constants.TRAIN_PLAN_TYPE, self.name)


def get_predictor_exporter_helper(submodelNetName: str) -> PredictorExportMeta:
    """A stub meta, only to build the names of a predictor's parts."""
    from caffe2lite import core

    return PredictorExportMeta(predict_net=core.Net(submodelNetName), parameters=[],
                               inputs=[], outputs=[], shapes=None, name=submodelNetName,
                               extra_init_net=None)


def _global_init_net(meta: PredictorExportMeta) -> caffe2_pb2.NetDef:
    from caffe2lite import core

    net = core.Net("global-init")
    net.Load([predictor_constants.PREDICTOR_DBREADER], meta.parameters)
    net.Proto().external_input.extend([predictor_constants.PREDICTOR_DBREADER])
    net.Proto().external_output.extend(meta.parameters)
    utils.AddModelIdArg(meta, net.Proto())
    return net.Proto()


def get_meta_net_def(predictor_export_meta: PredictorExportMeta, ws: Any = None) -> Any:
    """The MetaNetDef of a predictor (shapes of inputs and outputs not given in
    ``shapes`` are read from ``ws``, the current workspace by default)."""
    from caffe2lite import workspace

    ws = ws or workspace.C.Workspace.current
    meta_net_def = MetaNetDef()
    utils.AddNet(meta_net_def, predictor_export_meta.predict_init_name(),
                 utils.create_predict_init_net(ws, predictor_export_meta))
    utils.AddNet(meta_net_def, predictor_export_meta.global_init_name(),
                 _global_init_net(predictor_export_meta))
    utils.AddNet(meta_net_def, predictor_export_meta.predict_net_name(),
                 utils.create_predict_net(predictor_export_meta))
    utils.AddBlobs(meta_net_def, predictor_export_meta.parameters_name(),
                   predictor_export_meta.parameters)
    utils.AddBlobs(meta_net_def, predictor_export_meta.inputs_name(),
                   predictor_export_meta.inputs)
    utils.AddBlobs(meta_net_def, predictor_export_meta.outputs_name(),
                   predictor_export_meta.outputs)
    return meta_net_def


def set_model_info(meta_net_def: Any, project_str: str, model_class_str: str,
                   version: str) -> None:
    """Fill the MetaNetDef's ``modelInfo``."""
    if not isinstance(meta_net_def, MetaNetDef):
        raise ApiValueError("set_model_info needs a MetaNetDef",
                            found=type(meta_net_def).__name__)
    meta_net_def.modelInfo.project = project_str
    meta_net_def.modelInfo.modelClass = model_class_str
    meta_net_def.modelInfo.version = version


def save_to_db(db_type: str, db_destination: str,
               predictor_export_meta: PredictorExportMeta) -> None:
    """Write the predictor DB: ``!!META_NET_DEF`` then the parameters, from the
    current workspace, to ``db_destination`` (an absolute or cwd-relative path),
    atomically."""
    from caffe2lite import core, workspace

    meta_net_def = get_meta_net_def(predictor_export_meta)
    workspace.FeedBlob(predictor_constants.META_NET_DEF, meta_net_def.SerializeToString())
    blobs_to_save = [predictor_constants.META_NET_DEF] + predictor_export_meta.parameters
    workspace.RunOperatorOnce(core.CreateOperator(
        "Save", blobs_to_save, [], absolute_path=True, db=str(db_destination),
        db_type=db_type))


def load_from_db(filename: str, db_type: str, device_option: Any = None) -> Any:
    """Read a predictor DB's MetaNetDef, leaving a DBReader on the DB in the current
    workspace as ``!!PREDICTOR_DBREADER`` (for the global init net). With a
    ``device_option`` (or a device scope) every op of every net gets it."""
    from caffe2lite import core, scope, workspace

    workspace.RunOperatorOnce(core.CreateOperator(
        "CreateDB", [], [predictor_constants.PREDICTOR_DBREADER], db=str(filename),
        db_type=db_type))
    workspace.RunOperatorOnce(core.CreateOperator(
        "Load", [predictor_constants.PREDICTOR_DBREADER],
        [predictor_constants.META_NET_DEF]))
    blob = workspace.FetchBlob(predictor_constants.META_NET_DEF)
    data = blob if isinstance(blob, bytes) else str(blob).encode("utf-8")
    # The checked loader: nesting, size and UTF-8 limits, and no other message type
    # taken for a MetaNetDef (a ProtoParseError naming the DB and the blob).
    meta_net_def = parse_message(
        data, MetaNetDef, name=f"{filename} blob {predictor_constants.META_NET_DEF}",
        fmt="binary")
    if device_option is None:
        device_option = scope.CurrentDeviceScope()
    if device_option is not None:
        for kv in meta_net_def.nets:
            for op in kv.value.op:
                op.device_option.CopyFrom(device_option)
    return meta_net_def


def prepare_prediction_net(filename: str, db_type: str, device_option: Any = None) -> Any:
    """Load a predictor DB into the current workspace: run its global init net (the
    parameters) and predict init net (zero inputs/outputs), create its predict net,
    and return it (a core.Net) for ``workspace.RunNet``."""
    from caffe2lite import core, workspace

    meta_net_def = load_from_db(filename, db_type, device_option)
    workspace.RunNetOnce(_net(meta_net_def, predictor_constants.GLOBAL_INIT_NET_TYPE,
                              filename))
    workspace.RunNetOnce(_net(meta_net_def, predictor_constants.PREDICT_INIT_NET_TYPE,
                              filename))
    predict_net = core.Net(_net(meta_net_def, predictor_constants.PREDICT_NET_TYPE,
                                filename))
    workspace.CreateNet(predict_net)
    return predict_net


def _net(meta_net_def: Any, key: str, filename: str) -> caffe2_pb2.NetDef:
    net = utils.GetNet(meta_net_def, key)
    if net is None:
        keys = [kv.key for kv in meta_net_def.nets]
        raise ApiValueError(f"{filename}: the predictor has no net {key}",
                            expected=key, found=", ".join(keys) or "no nets")
    return net
