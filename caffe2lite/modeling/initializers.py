"""Parameter initializers: each emits the op that fills a parameter into the init net.

``Initializer("XavierFill")`` adds ``XavierFill([], name, shape=...)``;
``ExternalInitializer`` adds nothing (the blob is fed before the init net runs);
the pseudo-fp16 kinds keep a float32 master copy beside a float16 blob.
"""

from __future__ import annotations

from typing import Any

from caffe2lite.builder.operator import BlobReference, DataType, ScopedBlobReference
from caffe2lite.modeling.parameter_info import ParameterInfo


class Initializer:
    """Create a parameter with one fill op: ``operator_name`` and its keyword
    arguments (``shape`` is added)."""

    def __init__(self, operator_name: str | None = None, **kwargs: Any) -> None:
        self.operator_name = operator_name
        self.operator_kwargs = kwargs

    def update(self, operator_name: str, kwargs: dict) -> None:
        if self.operator_name is not None:
            raise Exception("Operator name overwrites are not allowed")
        self.operator_name = operator_name
        self.operator_kwargs = kwargs

    def create_param(self, param_name: Any, init_net: Any, shape: Any) -> ParameterInfo:
        param = init_net.__getattr__(self.operator_name)(
            [], param_name, shape=shape, **self.operator_kwargs)
        return ParameterInfo(param_id=None, param=param, shape=shape)


class ExternalInitializer:
    """The parameter is provided in the workspace, not made by the init net."""

    def create_param(self, param_name: Any, init_net: Any, shape: Any) -> ParameterInfo:
        if isinstance(param_name, BlobReference):
            param = BlobReference(str(param_name), init_net)
        elif isinstance(param_name, str):
            param = ScopedBlobReference(param_name, init_net)
        else:
            raise TypeError("Unsupported type for param_name")
        return ParameterInfo(param_id=None, param=param, shape=shape)


class PseudoFP16Initializer(Initializer):
    """A float32 master copy ``<name>_fp32`` is filled, and the float16 parameter is
    cast from it (``FloatToHalf``); the copy is kept in ``blob_copy``."""

    def create_param(self, param_name: Any, init_net: Any, shape: Any) -> ParameterInfo:
        param_fp32 = init_net.__getattr__(self.operator_name)(
            [], param_name + "_fp32", shape=shape, **self.operator_kwargs)
        param = init_net.FloatToHalf(param_fp32, param_name)
        return ParameterInfo(param_id=None, param=param, shape=shape,
                             blob_copy={DataType.FLOAT: param_fp32})


class ReversePseudoFP16Initializer(Initializer):
    """Like PseudoFP16Initializer, but the float32 blob is the parameter and the
    float16 one (``<name>_fp16``) the copy."""

    def create_param(self, param_name: Any, init_net: Any, shape: Any) -> ParameterInfo:
        param_fp32 = init_net.__getattr__(self.operator_name)(
            [], param_name, shape=shape, **self.operator_kwargs)
        param_fp16 = init_net.FloatToHalf(param_fp32, param_name + "_fp16")
        return ParameterInfo(param_id=None, param=param_fp32, shape=shape,
                             blob_copy={DataType.FLOAT16: param_fp16})


def create_xavier_fill_initializer() -> Initializer:
    return Initializer("XavierFill")


def create_constant_fill_initializer(value: float | None = None) -> Initializer:
    return Initializer("ConstantFill", value=value) if value is not None \
        else Initializer("ConstantFill")


def update_initializer(initializer_class: Any, operator_name_and_kwargs: Any,
                       default_operator_name_and_kwargs: Any) -> Any:
    """An initializer of ``initializer_class`` (Initializer when None) for
    ``operator_name_and_kwargs`` (an ``(op_type, kwargs)`` pair), or for the default
    pair when that is None."""
    name, kwargs = operator_name_and_kwargs or default_operator_name_and_kwargs
    cls = initializer_class if initializer_class is not None else Initializer
    return cls(name, **kwargs)
