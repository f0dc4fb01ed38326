"""Caffe2's ``optimizer`` module: ``from caffe2lite import optimizer`` stands in for
``from caffe2.python import optimizer``. The work lives in
:mod:`caffe2lite.modeling.optimizer`."""

from __future__ import annotations

from caffe2lite.modeling.optimizer import (
    AdagradOptimizer,
    AdamOptimizer,
    AuxOptimizerParams,
    BuildUniqueMutexIter,
    FtrlOptimizer,
    MultiPrecisionSgdOptimizer,
    Optimizer,
    SgdOptimizer,
    WeightDecayBuilder,
    add_weight_decay,
    build_adagrad,
    build_adam,
    build_ftrl,
    build_multi_precision_sgd,
    build_sgd,
    get_lr_injection,
    get_param_device,
    set_lr_injection,
)
from caffe2lite.modeling.optimizer_context import (
    DEFAULT_OPTIM,
    OptimizerContext,
    UseOptimizer,
)

__all__ = [
    "DEFAULT_OPTIM",
    "AdagradOptimizer",
    "AdamOptimizer",
    "AuxOptimizerParams",
    "BuildUniqueMutexIter",
    "FtrlOptimizer",
    "MultiPrecisionSgdOptimizer",
    "Optimizer",
    "OptimizerContext",
    "SgdOptimizer",
    "UseOptimizer",
    "WeightDecayBuilder",
    "add_weight_decay",
    "build_adagrad",
    "build_adam",
    "build_ftrl",
    "build_multi_precision_sgd",
    "build_sgd",
    "get_lr_injection",
    "get_param_device",
    "set_lr_injection",
]
