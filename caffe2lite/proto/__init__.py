"""The Caffe2 wire format: ``from caffe2lite.proto import caffe2_pb2``.

``caffe2_pb2`` (and its type stub ``caffe2_pb2.pyi``) is generated from
``proto/caffe2.proto`` by protoc, through ``scripts/generate_proto.py``, and never
edited by hand. Importing it through this package also adds the short device
names Caffe2's Python package defined on it (``caffe2_pb2.CPU == PROTO_CPU``, ``CUDA``,
``MKLDNN``, ``OPENGL``, ``OPENCL``, ``IDEEP``, ``HIP``, ``COMPILE_TIME_MAX_DEVICE_TYPES``),
so scripts that build ``DeviceOption(device_type=caffe2_pb2.CPU)`` keep working.
"""

from __future__ import annotations

from caffe2lite.proto import caffe2_pb2

for _name in ("CPU", "CUDA", "MKLDNN", "OPENGL", "OPENCL", "IDEEP", "HIP",
              "COMPILE_TIME_MAX_DEVICE_TYPES"):  # fmt: skip
    setattr(caffe2_pb2, _name, getattr(caffe2_pb2, "PROTO_" + _name))
del _name

__all__ = ["caffe2_pb2"]
