"""Caffe2's ``device_checker`` module: ``DeviceChecker`` runs an op on several device
options and compares the outputs (the face of :mod:`caffe2lite.testing.device_checker`)."""

from caffe2lite.testing.device_checker import DeviceChecker  # noqa: F401
