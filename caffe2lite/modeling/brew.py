"""brew: layer helpers called through one object that adds default arguments.

``brew.fc(model, "x", "h", dim_in=4, dim_out=8)`` calls the ``fc`` helper with the
model's ``arg_scope`` (only the arguments the helper takes, unless it takes
``**kwargs``), then those of the enclosing ``brew.arg_scope`` blocks, then the
call's own. :mod:`caffe2lite.brew` is this module's :data:`brew` object.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Callable
from typing import Any

from caffe2lite.modeling.helpers.algebra import (
    arg_min,
    batch_mat_mul,
    mat_mul,
    reduce_sum,
    sub,
    sum,
    transpose,
)
from caffe2lite.modeling.helpers.arg_scope import arg_scope, get_current_scope
from caffe2lite.modeling.helpers.array_helpers import concat, depth_concat
from caffe2lite.modeling.helpers.conv import (
    conv,
    conv_nd,
    conv_transpose,
    group_conv,
    group_conv_deprecated,
)
from caffe2lite.modeling.helpers.dropout import dropout
from caffe2lite.modeling.helpers.elementwise_linear import elementwise_linear
from caffe2lite.modeling.helpers.fc import fc, fc_decomp, packed_fc
from caffe2lite.modeling.helpers.nonlinearity import prelu, relu, sigmoid, tanh
from caffe2lite.modeling.helpers.normalization import (
    instance_norm,
    layer_norm,
    lrn,
    softmax,
    spatial_bn,
    spatial_gn,
)
from caffe2lite.modeling.helpers.pooling import (
    average_pool,
    max_pool,
    max_pool_with_index,
)
from caffe2lite.modeling.helpers.tools import image_input, video_input
from caffe2lite.modeling.helpers.train import accuracy, add_weight_decay, iter
from caffe2lite.modeling.model_helper import ModelHelper

HELPERS: dict[str, Callable[..., Any]] = {
    "arg_scope": arg_scope, "fc": fc, "packed_fc": packed_fc, "fc_decomp": fc_decomp,
    "dropout": dropout, "max_pool": max_pool, "average_pool": average_pool,
    "max_pool_with_index": max_pool_with_index, "lrn": lrn, "softmax": softmax,
    "instance_norm": instance_norm, "spatial_bn": spatial_bn, "spatial_gn": spatial_gn,
    "relu": relu,
    "prelu": prelu, "tanh": tanh, "sigmoid": sigmoid, "concat": concat,
    "depth_concat": depth_concat, "sum": sum, "reduce_sum": reduce_sum, "sub": sub,
    "arg_min": arg_min, "transpose": transpose, "iter": iter, "accuracy": accuracy,
    "conv": conv, "conv_nd": conv_nd, "conv_transpose": conv_transpose,
    "group_conv": group_conv, "group_conv_deprecated": group_conv_deprecated,
    "image_input": image_input, "video_input": video_input,
    "add_weight_decay": add_weight_decay, "elementwise_linear": elementwise_linear,
    "layer_norm": layer_norm, "mat_mul": mat_mul, "batch_mat_mul": batch_mat_mul,
}


class HelperWrapper:
    """brew itself: ``brew.<helper>(model, ...)``, ``brew.Register(fn)``,
    ``brew.has_helper(name_or_fn)``."""

    _registry = HELPERS

    def __init__(self, wrapped: Any = None) -> None:
        self.wrapped = wrapped

    def __getattr__(self, helper_name: str) -> Callable[..., Any]:
        if helper_name.startswith("__") or helper_name not in self._registry:
            raise AttributeError(f"Helper function {helper_name} not registered.")

        def scope_wrapper(*args: Any, **kwargs: Any) -> Any:
            new_kwargs: dict[str, Any] = {}
            if helper_name != "arg_scope":
                if args and isinstance(args[0], ModelHelper):
                    model = args[0]
                elif "model" in kwargs:
                    model = kwargs["model"]
                else:
                    raise RuntimeError(
                        "The first input of helper function should be model. Or you can "
                        "provide it in kwargs as model=<your_model>.")
                new_kwargs = copy.deepcopy(model.arg_scope)
            func = self._registry[helper_name]
            spec = inspect.getfullargspec(func)
            if spec.varkw is None:
                names = set(spec.args) | set(spec.kwonlyargs)
                new_kwargs = {k: v for k, v in new_kwargs.items() if k in names}
            new_kwargs.update(get_current_scope().get(helper_name, {}))
            new_kwargs.update(kwargs)
            return func(*args, **new_kwargs)

        scope_wrapper.__name__ = helper_name
        scope_wrapper.__doc__ = self._registry[helper_name].__doc__
        return scope_wrapper

    def Register(self, helper: Callable[..., Any]) -> None:
        """Make ``helper`` callable as ``brew.<helper.__name__>``."""
        name = helper.__name__
        if name in self._registry:
            raise AttributeError(
                f"Helper {name} already exists. Please change your helper name.")
        self._registry[name] = helper

    def has_helper(self, helper_or_helper_name: Any) -> bool:
        name = helper_or_helper_name if isinstance(helper_or_helper_name, str) \
            else helper_or_helper_name.__name__
        return name in self._registry

    def get_helper(self, helper_name: str) -> Callable[..., Any]:
        """The registered helper function itself (without brew's argument scopes)."""
        if helper_name not in self._registry:
            raise AttributeError(f"Helper function {helper_name} not registered.")
        return self._registry[helper_name]

    def __dir__(self) -> list[str]:
        return sorted(set(self._registry) | {"Register", "has_helper", "get_helper"})


brew = HelperWrapper()
