"""Quantised tensors: Caffe2's ``Int8TensorCPU`` blob (uint8 or int32 data with the
scale and zero point that give it meaning: real = scale * (q - zero_point)).

``workspace.FetchInt8Blob`` returns this same triple, as Caffe2's did.

>>> t = Int8Tensor(np.array([0, 128, 255], np.uint8), 0.5, 128)
>>> t.dequantize().tolist()
[-64.0, 0.0, 63.5]
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class Int8Tensor(NamedTuple):
    """An Int8 blob: ``data`` (uint8, or int32 for biases), ``scale``, ``zero_point``."""

    data: np.ndarray
    scale: float
    zero_point: int

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    def dequantize(self) -> np.ndarray:
        """The float32 values this tensor stands for."""
        return (np.float32(self.scale)
                * (self.data.astype(np.int32) - np.int32(self.zero_point))).astype(np.float32)
