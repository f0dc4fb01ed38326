"""Caffe2's ``optimizer_context`` module: ``UseOptimizer`` picks the optimizer that
brew helpers attach to the parameters they create (the face of
:mod:`caffe2lite.modeling.optimizer_context`)."""

from caffe2lite.modeling.optimizer_context import (  # noqa: F401
    DEFAULT_OPTIM,
    OptimizerContext,
    UseOptimizer,
)
