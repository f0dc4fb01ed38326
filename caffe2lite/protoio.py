"""Reading and writing Caffe2 protobuf files (the face of :mod:`caffe2lite.io.protoio`)."""

from caffe2lite.io.protoio import load_net, load_plan, load_proto, net_to_text, save_proto  # noqa: F401
