"""Caffe2's ``predictor_constants``: ``from caffe2lite.predictor_constants import
predictor_constants`` gives the names of the predictor's nets and blobs in a
MetaNetDef (``PREDICT_NET_TYPE``, ``GLOBAL_INIT_NET_TYPE``, ``INPUTS_BLOB_TYPE`` ...)."""

from __future__ import annotations

from caffe2lite.predictor.metanet import predictor_constants

__all__ = ["predictor_constants"]
