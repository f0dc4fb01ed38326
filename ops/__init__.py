"""Every operator of caffe2lite, one per module. This list is explicit on purpose:
importing ``caffe2lite`` imports exactly these, in this order."""

from __future__ import annotations
