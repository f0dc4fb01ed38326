"""Model builders of Caffe2's ``caffe2.python.models`` (``resnet``)."""
