"""The check shared by Int8 ops whose output keeps the input's quantisation (Int8Relu,
Int8ResizeNearest, the pools): the Y_scale / Y_zero_point arguments must equal the
input's, as Caffe2 CHECKed. Not an operator module."""

from __future__ import annotations

import numpy as np

from caffe2lite.errors import EnforceError
from caffe2lite.io.int8 import Int8Tensor


def same_quantisation(q: Int8Tensor, y_scale: float, y_zero_point: int) -> None:
    if y_zero_point != q.zero_point:
        raise EnforceError(
            f"Check failed: Y_offset == X.zero_point ({y_zero_point} vs. "
            f"{q.zero_point})",
            arg="Y_zero_point",
            expected=q.zero_point,
            found=y_zero_point,
        )
    if np.float32(y_scale) != np.float32(q.scale):
        raise EnforceError(
            f"Check failed: Y_scale == X.scale ({y_scale} vs. {q.scale})",
            arg="Y_scale",
            expected=q.scale,
            found=y_scale,
        )
