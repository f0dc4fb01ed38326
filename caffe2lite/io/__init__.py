"""Files and values: protobuf text and binary files, TensorProto <-> numpy, and
Python values <-> ``caffe2.Argument``."""
