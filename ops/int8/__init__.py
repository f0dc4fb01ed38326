"""Int8 (quantised uint8) operators: Int8Quantize, Int8Dequantize, Int8FC, Int8Conv and the rest, with Caffe2's requantisation."""

from __future__ import annotations
