"""Caffe2's ``predictor_exporter`` module (``caffe2.python.predictor.predictor_exporter``):
the face of :mod:`caffe2lite.predictor.predictor_exporter`."""

from caffe2lite.predictor.predictor_exporter import *
from caffe2lite.predictor.predictor_exporter import __all__  # noqa: F401
