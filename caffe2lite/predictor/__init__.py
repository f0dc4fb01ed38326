"""Predictors: Caffe2's ``Predictor`` (init net + predict net, ``run(inputs)``) and its
``predictor_exporter`` (predictor DBs: a MetaNetDef and the parameters)."""

from __future__ import annotations

from caffe2lite.predictor.predictor import Predictor

__all__ = ["Predictor"]
