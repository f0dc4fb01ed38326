"""What a model knows about one parameter: its blob, shape, gradient and optimizer."""

from __future__ import annotations

from typing import Any

import numpy as np

from caffe2lite.builder.operator import BlobReference
from caffe2lite.gradient import GradientSlice


class ParameterTags:
    """Tags given to :meth:`ModelHelper.create_param` (Caffe2's names)."""

    BIAS = "BIAS"
    WEIGHT = "WEIGHT"
    COMPUTED_PARAM = "COMPUTED_PARAM"


class ParameterType:
    DENSE = "dense"
    SPARSE = "sparse"


class ParameterInfo:
    """A parameter blob with its shape, its gradient once the backward pass exists,
    optional copies in other precisions (``blob_copy``: DataType -> blob) and its
    own optimizer (set at most once)."""

    def __init__(self, param_id: Any, param: BlobReference, key: Any = None,
                 shape: Any = None, length: int | None = None, grad: Any = None,
                 blob_copy: dict | None = None) -> None:
        assert isinstance(param, BlobReference)
        self.param_id = param_id
        self.name = str(param)
        self.blob = param
        self.key = key
        self.shape = shape
        self.size = None if shape is None else np.prod(shape)
        self.length = max(1, length if length is not None else 1)
        self.grad = grad
        self._cloned_init_net = None
        self.blob_copy = blob_copy
        self._optimizer = None
        self.regularizer = None

    def grad_type(self) -> str | None:
        """``"sparse"`` for a GradientSlice, ``"dense"`` otherwise, None before the
        gradient exists."""
        if self.grad is None:
            return None
        return ParameterType.SPARSE if isinstance(self.grad, GradientSlice) \
            else ParameterType.DENSE

    @property
    def parameter(self) -> BlobReference:
        return self.blob

    @property
    def optimizer(self) -> Any:
        return self._optimizer

    @optimizer.setter
    def optimizer(self, value: Any) -> None:
        assert self._optimizer is None, "optimizer has already been set"
        self._optimizer = value

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"ParameterInfo({self.name!r}, shape={self.shape}, grad={self.grad!r})"
