"""Caffe2's ``gradient_checker`` (the face of :mod:`caffe2lite.testing.gradient_checker`):
``GradientChecker`` for one op and ``NetGradientChecker`` for nets, with Caffe2's
algorithm (loss sum(y**2)/2, central differences of ``stepsize``, ``threshold`` as
both absolute and relative tolerance)."""

from caffe2lite.testing.gradient_checker import (  # noqa: F401
    GradientChecker,
    NetGradientChecker,
    getGradientForOp,
)
