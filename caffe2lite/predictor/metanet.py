"""Caffe2's ``MetaNetDef`` (caffe2/proto/metanet.proto) and ``PredictorConsts``
(predictor_consts.proto), the messages of a predictor DB.

The message classes are built at import from a descriptor written here field for
field as Caffe2's .proto files declare them (same names, numbers, labels and
defaults), on top of caffe2lite's own ``caffe2.proto``; so a MetaNetDef serialized
here is byte for byte what Caffe2 serialized, and Caffe2's parse here.
"""

from __future__ import annotations

from typing import Any

from google.protobuf import descriptor_pb2

from caffe2lite.io.dynproto import message_classes
from caffe2lite.proto import caffe2_pb2

_F = descriptor_pb2.FieldDescriptorProto
OPTIONAL, REQUIRED, REPEATED = _F.LABEL_OPTIONAL, _F.LABEL_REQUIRED, _F.LABEL_REPEATED
STRING, MESSAGE = _F.TYPE_STRING, _F.TYPE_MESSAGE

# PredictorConsts: field name -> (number, default)
PREDICTOR_CONSTS = {
    "META_NET_DEF": (1, "!!META_NET_DEF"),
    "PREDICTOR_DBREADER": (2, "!!PREDICTOR_DBREADER"),
    "PARAMETERS_BLOB_TYPE": (3, "PARAMETERS_BLOB_TYPE"),
    "INPUTS_BLOB_TYPE": (4, "INPUTS_BLOB_TYPE"),
    "OUTPUTS_BLOB_TYPE": (5, "OUTPUTS_BLOB_TYPE"),
    "GLOBAL_INIT_NET_TYPE": (6, "GLOBAL_INIT_NET_TYPE"),
    "PREDICT_INIT_NET_TYPE": (7, "PREDICT_INIT_NET_TYPE"),
    "PREDICT_NET_TYPE": (8, "PREDICT_NET_TYPE"),
    "SINGLE_PREDICTOR": (9, "SINGLE_PREDICTOR"),
    "MULTI_PREDICTOR": (10, "MULTI_PREDICTOR"),
    "TRAIN_INIT_PLAN_TYPE": (11, "TRAIN_INIT_PLAN_TYPE"),
    "TRAIN_PLAN_TYPE": (12, "TRAIN_PLAN_TYPE"),
    "SHAPE_INFO_BLOB": (13, "SHAPE_INFO_BLOB"),
    "DEFERRED_BLOB_READER": (14, "__DEFERRED_BLOB_READER__"),
}

# message -> [(field, number, label, type, type name or None, default or None)]
_MESSAGES: dict[str, list[tuple[str, int, int, int, str | None, str | None]]] = {
    "ModelInfo": [
        ("project", 1, OPTIONAL, STRING, None, None),
        ("modelClass", 2, OPTIONAL, STRING, None, None),
        ("version", 3, OPTIONAL, STRING, None, None),
        ("predictorType", 4, OPTIONAL, STRING, None, "SINGLE_PREDICTOR"),
        ("modelId", 5, OPTIONAL, STRING, None, None),
    ],
    "BlobsMap": [
        ("key", 1, REQUIRED, STRING, None, None),
        ("value", 2, REPEATED, STRING, None, None),
    ],
    "NetsMap": [
        ("key", 1, REQUIRED, STRING, None, None),
        ("value", 2, REQUIRED, MESSAGE, ".caffe2.NetDef", None),
    ],
    "PlansMap": [
        ("key", 1, REQUIRED, STRING, None, None),
        ("value", 2, REQUIRED, MESSAGE, ".caffe2.PlanDef", None),
    ],
    "StringMap": [
        ("key", 1, REQUIRED, STRING, None, None),
        ("value", 2, REQUIRED, STRING, None, None),
    ],
    "MetaNetDef": [
        ("blobs", 1, REPEATED, MESSAGE, ".caffe2lite.metanet.BlobsMap", None),
        ("nets", 2, REPEATED, MESSAGE, ".caffe2lite.metanet.NetsMap", None),
        ("modelInfo", 3, OPTIONAL, MESSAGE, ".caffe2lite.metanet.ModelInfo", None),
        ("plans", 4, REPEATED, MESSAGE, ".caffe2lite.metanet.PlansMap", None),
        ("applicationSpecificInfo", 5, REPEATED, MESSAGE, ".caffe2lite.metanet.StringMap", None),
        ("blobsOrder", 6, REPEATED, STRING, None, None),
        ("preLoadBlobs", 7, REPEATED, STRING, None, None),
    ],
    "PredictorConsts": [
        (name, number, OPTIONAL, STRING, None, default)
        for name, (number, default) in PREDICTOR_CONSTS.items()
    ],
}


def _build() -> dict[str, Any]:  # classes made at run time: fields unknown to mypy
    # The default pool holds caffe2.proto's messages, so that a NetsMap's value is a
    # caffe2_pb2.NetDef. The package name is caffe2lite's own (it never reaches the
    # wire) so that a later metanet.proto in the same pool cannot clash with it.
    proto = descriptor_pb2.FileDescriptorProto(
        name="caffe2lite/predictor/metanet.proto", package="caffe2lite.metanet",
        syntax="proto2",
        dependency=[caffe2_pb2.DESCRIPTOR.name])
    for message, fields in _MESSAGES.items():
        msg = proto.message_type.add(name=message)
        for name, number, label, type_, type_name, default in fields:
            f = msg.field.add(name=name, number=number, label=label, type=type_)
            if type_name:
                f.type_name = type_name
            if default is not None:
                f.default_value = default
    return message_classes(proto, list(_MESSAGES))


_CLASSES = _build()
ModelInfo = _CLASSES["ModelInfo"]
BlobsMap = _CLASSES["BlobsMap"]
NetsMap = _CLASSES["NetsMap"]
PlansMap = _CLASSES["PlansMap"]
StringMap = _CLASSES["StringMap"]
MetaNetDef = _CLASSES["MetaNetDef"]
PredictorConsts = _CLASSES["PredictorConsts"]

predictor_constants = PredictorConsts()
"""Caffe2's ``predictor_constants``: every field reads as its default
(``predictor_constants.META_NET_DEF == "!!META_NET_DEF"``)."""
