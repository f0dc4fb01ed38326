"""Caffe2's ``model_helper`` module: ``from caffe2lite import model_helper`` stands in
for ``from caffe2.python import model_helper``. The work lives in
:mod:`caffe2lite.modeling.model_helper`."""

from __future__ import annotations

from caffe2lite.modeling.model_helper import ModelHelper, _known_working_ops  # noqa: F401
from caffe2lite.modeling.predictor import ExtractPredictorNet

__all__ = ["ExtractPredictorNet", "ModelHelper"]
