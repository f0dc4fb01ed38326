"""Python values <-> ``caffe2.Argument`` (the face of :mod:`caffe2lite.io.arguments`)."""

from caffe2lite.io.arguments import argument_value, make_argument, operator_def  # noqa: F401
