"""Optimizers: ops appended to a model's nets that update its parameters.

``build_sgd(model, base_learning_rate=0.1)`` adds, for every parameter with a
gradient, a LearningRate op (one per optimizer, driven by the shared
``optimizer_iteration`` counter that AtomicIter advances each run) and the update:
WeightedSum / ScatterWeightedSum for plain SGD, MomentumSGDUpdate /
SparseMomentumSGDUpdate with momentum, Adagrad / SparseAdagrad /
RowWiseSparseAdagrad, Adam / SparseAdam / RowWiseSparseAdam. State blobs keep
Caffe2's names (``<param>_momentum``, ``<param>_squared_sum``,
``<param>_first_moment`` ...) so Caffe2 checkpoints resume.
"""

from __future__ import annotations

import copy
import logging
from collections import defaultdict, namedtuple
from typing import Any, TypeVar

import numpy as np

from caffe2lite import scope
from caffe2lite.builder.operator import (
    BlobReference,
    DataType,
    DeviceOption,
    IsOperatorWithEngine,
)
from caffe2lite.gradient import GradientSlice
from caffe2lite.inference import infer_net
from caffe2lite.modeling import parameter_info
from caffe2lite.proto import caffe2_pb2

_LEARNING_RATE_INJECTION = "lr_injection"
OPTIMIZER_ITERATION_NAME = "optimizer_iteration"
ITERATION_MUTEX_NAME = "iteration_mutex"

AuxOptimizerParams = namedtuple("AuxOptimizerParams", ["local", "shared"])
_optimizer_instance_count: defaultdict = defaultdict(int)

logger = logging.getLogger(__name__)


def _is_gpu(device_type: int) -> bool:
    return device_type in (caffe2_pb2.CUDA, caffe2_pb2.HIP)


def BuildUniqueMutexIter(init_net: Any, net: Any, iter: Any = None,
                         iter_mutex: Any = None, iter_val: int = 0) -> BlobReference:
    """The shared int64 iteration counter: created once (ConstantFill + CreateMutex
    in ``init_net`` on CPU, AtomicIter in ``net``), reused afterwards."""
    iter = iter if iter is not None else OPTIMIZER_ITERATION_NAME
    iter_mutex = iter_mutex if iter_mutex is not None else ITERATION_MUTEX_NAME
    if init_net.BlobIsDefined(iter):
        return BlobReference(str(iter), init_net)
    with scope.DeviceScope(DeviceOption(caffe2_pb2.CPU,
                                        extra_info=["device_type_override:cpu"])):
        iteration = init_net.ConstantFill([], iter, shape=[1], value=iter_val,
                                          dtype=DataType.INT64)
        mutex = init_net.CreateMutex([], [iter_mutex])
        net.AtomicIter([mutex, iteration], [iteration])
    return iteration


_O = TypeVar("_O", bound="Optimizer")


class Optimizer:
    """Adds the update ops of one parameter: ``optimizer(net, param_init_net,
    param_info)`` or ``optimizer(net, param_init_net, param, grad)``."""

    def __init__(self) -> None:
        self._aux_params = AuxOptimizerParams(local=[], shared=[])
        self._instance_num = _optimizer_instance_count[self.__class__.__name__]
        _optimizer_instance_count[self.__class__.__name__] += 1
        self._lr_multiplier = None
        self._local_lr_multiplier = None
        self._local_lr_multiplier_on_gpu = False

    def __call__(self, net: Any, param_init_net: Any, param: Any, grad: Any = None) -> None:
        if grad is None:
            assert isinstance(param, parameter_info.ParameterInfo), \
                f"Expected parameter to be of type ParameterInfo, got {param}"
            assert param.grad is not None
        else:
            if isinstance(param, str):
                param = BlobReference(param)
            param = parameter_info.ParameterInfo(param_id=None, param=param, grad=grad)
        self._run(net, param_init_net, param)

    def _run(self, net: Any, param_init_net: Any, param_info: Any) -> None:
        raise Exception("Not Implemented")

    def get_cpu_blob_name(self, base_str: str, node_name: str = "") -> str:
        return f"{self.__class__.__name__}_{self._instance_num}_{base_str}{node_name}_cpu"

    def get_gpu_blob_name(self, base_str: str, gpu_id: int, node_name: str) -> str:
        return (f"{self.__class__.__name__}_{self._instance_num}_{base_str}{node_name}"
                f"_gpu{gpu_id}")

    @property
    def attributes(self) -> dict:
        attr = copy.deepcopy(self.__dict__)
        del attr["_instance_num"]
        return attr

    def make_unique_blob_name(self, base_str: str) -> str:
        """A blob name unique to this optimizer instance and the current device."""
        current = scope.CurrentDeviceScope()
        if current is None:
            return self.get_cpu_blob_name(base_str)
        if _is_gpu(current.device_type):
            return self.get_gpu_blob_name(base_str, current.device_id, current.node_name)
        return self.get_cpu_blob_name(base_str, current.node_name)

    def build_lr(self, net: Any, param_init_net: Any, base_learning_rate: float,
                 learning_rate_blob: Any = None, policy: str = "fixed", iter_val: int = 0,
                 **kwargs: Any) -> tuple:
        """``(lr, iteration)``: a LearningRate op with ``base_lr=-base_learning_rate``
        (descent), once per optimizer and device, on the shared iteration counter;
        scaled by the multipliers when set."""
        if learning_rate_blob is None:
            learning_rate_blob = self.make_unique_blob_name("lr")
        iteration = BuildUniqueMutexIter(param_init_net, net, iter_val=iter_val)
        if not net.BlobIsDefined(learning_rate_blob):
            lr = net.LearningRate([iteration], learning_rate_blob,
                                  base_lr=-base_learning_rate, policy=policy, **kwargs)
        else:
            lr = BlobReference(learning_rate_blob, net)
        if self._lr_multiplier is not None:
            multiplier = net.CopyFromCPUInput(
                self._lr_multiplier, self.make_unique_blob_name("lr_multiplier"))
            lr = net.Mul([lr, multiplier], self.make_unique_blob_name("scaled_lr"),
                         broadcast=1)
        if self._local_lr_multiplier is not None:
            current = scope.CurrentDeviceScope()
            local = self._local_lr_multiplier
            if (current is not None and _is_gpu(current.device_type)
                    and not self._local_lr_multiplier_on_gpu):
                local = net.CopyFromCPUInput(
                    local, self.make_unique_blob_name("local_lr_multiplier"))
            lr = net.Mul([lr, local], self.make_unique_blob_name("local_scaled_lr"),
                         broadcast=1)
        return lr, iteration

    def add_lr_multiplier(self, lr_multiplier: Any) -> None:
        """Multiply every later learning rate by this blob."""
        self._lr_multiplier = lr_multiplier

    def _add_local_lr_multiplier(self, local_lr_multiplier: Any,
                                 is_gpu_blob: bool = False) -> None:
        self._local_lr_multiplier = local_lr_multiplier
        self._local_lr_multiplier_on_gpu = is_gpu_blob

    def _clear_local_lr_multiplier(self) -> None:
        self._local_lr_multiplier = None
        self._local_lr_multiplier_on_gpu = False

    @staticmethod
    def dedup(net: Any, sparse_dedup_aggregator: Any, grad: Any) -> Any:
        assert isinstance(grad, GradientSlice), \
            f"Dedup only works for sparse gradient, got {grad}"
        if sparse_dedup_aggregator:
            return net.DeduplicateGradientSlices(grad, aggregator=sparse_dedup_aggregator)
        return grad

    def get_auxiliary_parameters(self) -> AuxOptimizerParams:
        """``(local, shared)`` state blobs: per-parameter ones (momentum, squared sums,
        moments) and ones shared by all parameters (ONE, the iteration counter)."""
        return self._aux_params

    def scale_learning_rate(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError(
            "Optimizer Need to Implement `scale_learning_rate` method.")


def _one_blob(param_init_net: Any, with_node_name: bool = True) -> BlobReference:
    dev = scope.CurrentDeviceScope()
    if dev is None:
        dev = DeviceOption(caffe2_pb2.CPU)
    name = f"ONE_{dev.device_type}_{dev.device_id}" + (dev.node_name if with_node_name
                                                        else "")
    return param_init_net.ConstantFill([], name, shape=[1], value=1.0)


class SgdOptimizer(Optimizer):
    """SGD, with momentum (``MomentumSGDUpdate``, Nesterov by default) when
    ``momentum > 0``."""

    def __init__(self, base_learning_rate: float = 0.01, policy: str = "fixed",
                 momentum: float = 0.0, nesterov: int = 1,
                 sparse_dedup_aggregator: Any = None, lars: Any = None,
                 **kwargs: Any) -> None:
        super().__init__()
        self.base_learning_rate = base_learning_rate
        self.policy = policy
        self.momentum = momentum
        self.nesterov = nesterov
        self.sparse_dedup_aggregator = sparse_dedup_aggregator
        self.lars = lars
        self.init_kwargs = kwargs

    def _run(self, net: Any, param_init_net: Any, param_info: Any) -> None:
        param, grad = param_info.blob, param_info.grad
        if self.base_learning_rate == 0:
            return
        assert self.base_learning_rate > 0, \
            f"Expect positive base learning rate, got {self.base_learning_rate}"
        self._clear_local_lr_multiplier()
        if self.lars is not None and not isinstance(grad, GradientSlice):
            raise NotImplementedError("LARS (the Lars operator) is not part of caffe2lite")
        # MomentumSGDUpdate subtracts its step, WeightedSum adds it: the sign differs.
        lr_sign = -1 if self.momentum else 1
        lr, _ = self.build_lr(net, param_init_net,
                              base_learning_rate=self.base_learning_rate * lr_sign,
                              policy=self.policy, **self.init_kwargs)
        one = _one_blob(param_init_net)
        self._aux_params.shared.append(one)
        if self.momentum > 0:
            momentum_data = param_init_net.ConstantFill(
                param, str(param) + "_momentum", value=0.0)
            self._aux_params.local.append(momentum_data)
        if isinstance(grad, GradientSlice):
            grad = self.dedup(net, self.sparse_dedup_aggregator, grad)
            if self.momentum > 0.0:
                net.SparseMomentumSGDUpdate(
                    [grad.values, momentum_data, lr, param, grad.indices],
                    [grad.values, momentum_data, param],
                    momentum=self.momentum, nesterov=self.nesterov)
            else:
                net.ScatterWeightedSum([param, one, grad.indices, grad.values, lr], param)
        elif self.momentum > 0.0:
            net.MomentumSGDUpdate([grad, momentum_data, lr, param],
                                  [grad, momentum_data, param],
                                  momentum=self.momentum, nesterov=self.nesterov)
        else:
            net.WeightedSum([param, one, grad, lr], param)

    def scale_learning_rate(self, scale: float) -> None:
        self.base_learning_rate *= scale


class MultiPrecisionSgdOptimizer(SgdOptimizer):
    """Momentum SGD on a float32 master copy of float16 parameters
    (PseudoFP16Initializer); float32 parameters get plain SgdOptimizer updates."""

    def __init__(self, base_learning_rate: float = 0.1, momentum: float = 0.0,
                 policy: str = "fixed", nesterov: int = 1,
                 sparse_dedup_aggregator: Any = None, **kwargs: Any) -> None:
        super().__init__(base_learning_rate=base_learning_rate, policy=policy,
                         momentum=momentum, nesterov=nesterov,
                         sparse_dedup_aggregator=sparse_dedup_aggregator, **kwargs)

    def _run(self, net: Any, param_init_net: Any, param_info: Any) -> None:
        param = param_info.blob
        param_fp32 = (param_info.blob_copy[DataType.FLOAT]
                      if param_info.blob_copy is not None else None)
        if param_fp32 is None:
            return SgdOptimizer._run(self, net, param_init_net, param_info)
        grad = param_info.grad
        if self.base_learning_rate == 0:
            return None
        assert self.base_learning_rate > 0, \
            f"Expect positive base learning rate, got {self.base_learning_rate}"
        lr, _ = self.build_lr(net, param_init_net,
                              base_learning_rate=-self.base_learning_rate,
                              policy=self.policy, **self.init_kwargs)
        momentum_data = param_init_net.ConstantFill(param_fp32, str(param) + "_momentum",
                                                    value=0.0)
        self._aux_params.local.append(momentum_data)
        assert not isinstance(grad, GradientSlice), \
            "MultiPrecisionSgd does not support sparse gradients"
        grad_fp32 = net.HalfToFloat(grad, grad + "_fp32")
        net.MomentumSGDUpdate([grad_fp32, momentum_data, lr, param_fp32],
                              [grad_fp32, momentum_data, param_fp32],
                              momentum=self.momentum, nesterov=self.nesterov)
        net.FloatToHalf(param_fp32, param)
        return None


class WeightDecayBuilder(Optimizer):
    """``grad += weight_decay * param`` (WeightedSum with ``ONE_*`` and ``wd_*``)."""

    def __init__(self, weight_decay: float) -> None:
        self.weight_decay = weight_decay
        self._lr_multiplier = None

    def _run(self, net: Any, param_init_net: Any, param_info: Any) -> None:
        dev = scope.CurrentDeviceScope()
        if dev is None:
            dev = DeviceOption(caffe2_pb2.CPU)
        one = _one_blob(param_init_net, with_node_name=False)
        wd = param_init_net.ConstantFill([], f"wd_{dev.device_type}_{dev.device_id}",
                                         shape=[1], value=self.weight_decay)
        if isinstance(param_info.grad, GradientSlice):
            raise ValueError("Weight decay does not yet support sparse gradients")
        net.WeightedSum([param_info.grad, one, param_info.blob, wd], param_info.grad)


def _param_shape(param_init_net: Any, param: Any) -> list:
    shapes = infer_net(param_init_net.Proto(), {}, strict=False)
    shape = shapes.get(str(param))
    if shape is None or not shape.known:
        raise ValueError(f"the shape of {param} cannot be inferred from the init net")
    return list(shape.dims or ())


class AdagradOptimizer(Optimizer):
    """Adagrad (dense), SparseAdagrad or RowWiseSparseAdagrad (``rowWise``)."""

    def __init__(self, alpha: float = 0.01, epsilon: float = 1e-4, decay: float = 1,
                 policy: str = "fixed", sparse_dedup_aggregator: Any = None,
                 rowWise: bool = False, engine: str = "", lars: Any = None,
                 output_effective_lr: bool = False,
                 output_effective_lr_and_update: bool = False, **kwargs: Any) -> None:
        super().__init__()
        self.alpha = alpha
        self.epsilon = epsilon
        self.decay = decay
        self.policy = policy
        self.sparse_dedup_aggregator = sparse_dedup_aggregator
        self.rowWise = rowWise
        self.engine = engine
        self.lars = lars
        self.output_effective_lr = output_effective_lr
        self.output_effective_lr_and_update = output_effective_lr_and_update
        self.init_kwargs = kwargs

    def _run(self, net: Any, param_init_net: Any, param_info: Any) -> None:
        param, grad = param_info.blob, param_info.grad
        if self.alpha <= 0:
            return
        self._clear_local_lr_multiplier()
        if self.lars is not None and not isinstance(grad, GradientSlice):
            raise NotImplementedError("LARS (the Lars operator) is not part of caffe2lite")
        lr, _ = self.build_lr(net, param_init_net, base_learning_rate=self.alpha,
                              policy=self.policy, **self.init_kwargs)
        if self.rowWise:
            rows = _param_shape(param_init_net, param)[0]
            squared_sum = param_init_net.ConstantFill(
                [], str(param) + "_avg_squared_sum", shape=[rows], value=0.0)
        else:
            squared_sum = param_init_net.ConstantFill(
                [param], str(param) + "_squared_sum", value=0.0)
        self._aux_params.local.append(squared_sum)
        if self.rowWise:
            assert isinstance(grad, GradientSlice), (
                "If SparseAdagrad with rowWise=True, gradient must be a gradientslice. "
                "PLease ensure that rowWise is not enabled for the dense Adagrad "
                "optimizer, as it is not supported.")
        if isinstance(grad, GradientSlice):
            assert self.decay == 1.0, \
                "Decay is not implemented for SparseAdagrad and must be set to 1"
            grad = self.dedup(net, self.sparse_dedup_aggregator, grad)
            op = "RowWiseSparseAdagrad" if self.rowWise else "SparseAdagrad"
            net.__getattr__(op)([param, squared_sum, grad.indices, grad.values, lr],
                                [param, squared_sum], epsilon=self.epsilon,
                                engine=self.engine)
        else:
            outputs = [param, squared_sum]
            if self.output_effective_lr_and_update:
                outputs += [str(param) + "_effective_lr", str(param) + "_update"]
            elif self.output_effective_lr:
                outputs.append(str(param) + "_effective_lr")
            net.Adagrad([param, squared_sum, grad, lr], outputs, epsilon=self.epsilon,
                        decay=float(self.decay), engine=self.engine)

    def scale_learning_rate(self, scale: float) -> None:
        self.alpha *= scale


class FtrlOptimizer(Optimizer):
    """FTRL-Proximal: Ftrl (dense) or SparseFtrl, state ``<param>_ftrl_nz`` (the
    (n, z) pair of every element)."""

    def __init__(self, alpha: float = 0.01, beta: float = 1e-4, lambda1: float = 0,
                 lambda2: float = 0, sparse_dedup_aggregator: Any = None,
                 engine: str | None = "") -> None:
        super().__init__()
        self.alpha = alpha
        self.beta = beta
        self.lambda1 = lambda1
        self.lambda2 = lambda2
        self.sparse_dedup_aggregator = sparse_dedup_aggregator
        self.engine = engine

    def _run(self, net: Any, param_init_net: Any, param_info: Any) -> None:
        param, grad = param_info.blob, param_info.grad
        if self.alpha <= 0:
            return
        nz = param_init_net.ConstantFill([param], str(param) + "_ftrl_nz", extra_shape=[2],
                                         value=0.0)
        self._aux_params.local.append(nz)
        kwargs = dict(engine=self.engine, alpha=self.alpha, beta=self.beta,
                      lambda1=self.lambda1, lambda2=self.lambda2)
        if isinstance(grad, GradientSlice):
            grad = self.dedup(net, self.sparse_dedup_aggregator, grad)
            net.SparseFtrl([param, nz, grad.indices, grad.values], [param, nz], **kwargs)
        else:
            net.Ftrl([param, nz, grad], [param, nz], **kwargs)

    def scale_learning_rate(self, scale: float) -> None:
        self.alpha *= scale


class AdamOptimizer(Optimizer):
    """Adam (dense), SparseAdam or RowWiseSparseAdam (``rowWise``)."""

    def __init__(self, alpha: float = 0.001, beta1: float = 0.9, beta2: float = 0.999,
                 epsilon: float = 1e-8, policy: str = "fixed",
                 use_lr_adaption: bool = False, lr_alpha: float = 0.01,
                 normalized_lr_adaption: bool = True, sparse_dedup_aggregator: Any = None,
                 rowWise: bool = False, engine: str = "", **kwargs: Any) -> None:
        super().__init__()
        self.alpha = alpha
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.policy = policy
        self.use_lr_adaption = use_lr_adaption
        self.lr_alpha = lr_alpha
        self.normalized_lr_adaption = normalized_lr_adaption
        self.sparse_dedup_aggregator = sparse_dedup_aggregator
        self.rowWise = rowWise
        self.engine = engine
        self.init_kwargs = kwargs

    def _run(self, net: Any, param_init_net: Any, param_info: Any) -> None:
        param, grad = param_info.blob, param_info.grad
        if self.alpha <= 0:
            return
        lr, iteration = self.build_lr(net, param_init_net, base_learning_rate=self.alpha,
                                      policy=self.policy, **self.init_kwargs)
        m1 = param_init_net.ConstantFill([param], param + "_first_moment", value=0.0)
        if self.rowWise:
            rows = _param_shape(param_init_net, param)[0]
            m2 = param_init_net.ConstantFill([], param + "_avg_second_moment",
                                             shape=[rows], value=0.0)
        else:
            m2 = param_init_net.ConstantFill([param], param + "_second_moment", value=0.0)
        self._aux_params.shared.append(iteration)
        self._aux_params.local.append(m1)
        self._aux_params.local.append(m2)
        if self.rowWise:
            assert isinstance(grad, GradientSlice), (
                "If SparseAdam with rowWise=True, gradient must be a gradientslice. "
                "PLease ensure that rowWise is not enabled for the dense Adam optimizer, "
                "as it is not supported.")
        outputs = [param, m1, m2]
        if self.use_lr_adaption:
            effective_grad = str(param) + "_effective_grad"
            outputs.append(effective_grad)
        if isinstance(grad, GradientSlice):
            grad = self.dedup(net, self.sparse_dedup_aggregator, grad)
            op = "RowWiseSparseAdam" if self.rowWise else "SparseAdam"
            net.__getattr__(op)([param, m1, m2, grad.indices, grad.values, lr, iteration],
                                outputs, beta1=self.beta1, beta2=self.beta2,
                                epsilon=self.epsilon)
            if self.use_lr_adaption:
                net.LearningRateAdaption(
                    [lr, grad.values, effective_grad], [lr], lr_alpha=self.lr_alpha,
                    normalized_lr_adaption=self.normalized_lr_adaption)
        else:
            net.Adam([param, m1, m2, grad, lr, iteration], outputs, beta1=self.beta1,
                     beta2=self.beta2, epsilon=self.epsilon)
            if self.use_lr_adaption:
                net.LearningRateAdaption(
                    [lr, grad, effective_grad], [lr], lr_alpha=self.lr_alpha,
                    normalized_lr_adaption=self.normalized_lr_adaption)

    def scale_learning_rate(self, scale: float) -> None:
        self.alpha *= scale


# -- building optimizers for a whole model ------------------------------------------


def _infer_blob_devices(net: Any) -> dict:
    """Blob -> the device option of the op that writes it (Caffe2's
    core.InferBlobDevices)."""
    return {b: op.device_option for op in net.Proto().op for b in op.output}


def _get_param_to_device(model: Any) -> dict:
    mapping = _infer_blob_devices(model.net)
    mapping.update(_infer_blob_devices(model.param_init_net))
    return mapping


def get_param_device(param_name: str, grad: Any, param_to_device: dict | None = None,
                     default_device: Any = None) -> Any:
    """The device of a parameter: its creating op's, else its gradient's."""
    device = default_device
    param_to_device = param_to_device or {}
    if param_name in param_to_device:
        device = param_to_device[param_name]
    elif isinstance(grad, GradientSlice):
        if str(grad.values) in param_to_device:
            device = param_to_device[str(grad.values)]
        elif str(grad.indices) in param_to_device:
            device = param_to_device[str(grad.indices)]
    elif str(grad) in param_to_device:
        device = param_to_device[str(grad)]
    assert device is not None, f"Cannot infer device for {param_name}: no op creates it"
    return device


def get_lr_injection() -> Any:
    """The current learning-rate multiplier blob (``allow_lr_injection=True``)."""
    from caffe2lite import workspace
    return workspace.FetchBlob(_LEARNING_RATE_INJECTION)


def set_lr_injection(lr_injection_value: float) -> None:
    """Set the multiplier of every base learning rate (``allow_lr_injection=True``)."""
    from caffe2lite import workspace
    workspace.FeedBlob(_LEARNING_RATE_INJECTION,
                       np.array([float(lr_injection_value)], dtype=np.float32))


def _calc_norm_ratio(model: Any, params: list, name_scope: str, param_to_device: dict,
                     max_gradient_norm: float) -> Any:
    with scope.NameScope(name_scope):
        sums = []
        for i, param in enumerate(params):
            device = get_param_device(str(param.blob), param.grad, param_to_device)
            with scope.DeviceScope(device):
                grad = param.grad.values if isinstance(param.grad, GradientSlice) \
                    else param.grad
                squared = model.net.SumSqrElements(grad, f"grad_{i}_squared_sum")
                sums.append(model.net.EnsureCPUOutput(squared))
        with scope.DeviceScope(DeviceOption(caffe2_pb2.CPU)):
            full = model.net.Sum(sums, "grad_squared_full_sum")
            global_norm = model.net.Pow(full, "global_norm", exponent=0.5)
            clip_norm = model.param_init_net.ConstantFill(
                [], "clip_norm", shape=[], value=float(max_gradient_norm))
            max_norm = model.net.Max([global_norm, clip_norm], "max_norm")
            return model.net.Div([clip_norm, max_norm], "norm_ratio")


def _build(model: Any, optimizer: _O, weights_only: bool = False,
           use_param_info_optim: bool = True, max_gradient_norm: float | None = None,
           allow_lr_injection: bool = False) -> _O:
    param_to_device = _get_param_to_device(model)
    model.Validate()
    params = [info for info in model.GetOptimizationParamInfo()
              if not weights_only or info.blob in model.weights]
    lr_multiplier = None
    if max_gradient_norm is not None:
        lr_multiplier = _calc_norm_ratio(model, params, "norm_clipped_grad_update",
                                         param_to_device, max_gradient_norm)
    if allow_lr_injection:
        if not model.net.BlobIsDefined(_LEARNING_RATE_INJECTION):
            lr_injection = model.param_init_net.ConstantFill(
                [], _LEARNING_RATE_INJECTION, shape=[1], value=1.0)
        else:
            lr_injection = _LEARNING_RATE_INJECTION
        lr_multiplier = lr_injection if lr_multiplier is None else model.net.Mul(
            [lr_multiplier, lr_injection], "lr_multiplier", broadcast=1)
    optimizer.add_lr_multiplier(lr_multiplier)
    for info in params:
        device = get_param_device(str(info.blob), info.grad, param_to_device)
        with scope.DeviceScope(device):
            if info.optimizer and use_param_info_optim:
                info.optimizer(model.net, model.param_init_net, info)
            else:
                optimizer(model.net, model.param_init_net, info)
    return optimizer


def add_weight_decay(model: Any, weight_decay: float) -> None:
    """L2 regularisation of the model's weights: ``grad += weight_decay * param``."""
    _build(model, WeightDecayBuilder(weight_decay=weight_decay), weights_only=True,
           use_param_info_optim=False)


def build_sgd(model: Any, base_learning_rate: float, max_gradient_norm: float | None = None,
              allow_lr_injection: bool = False, **kwargs: Any) -> SgdOptimizer:
    """SGD updates for every parameter of ``model`` (``momentum``, ``nesterov``,
    ``policy`` and LearningRate's arguments as keywords)."""
    return _build(model, SgdOptimizer(base_learning_rate, **kwargs),
                  max_gradient_norm=max_gradient_norm,
                  allow_lr_injection=allow_lr_injection)


def build_multi_precision_sgd(model: Any, base_learning_rate: float,
                              max_gradient_norm: float | None = None,
                              allow_lr_injection: bool = False,
                              **kwargs: Any) -> MultiPrecisionSgdOptimizer:
    """Momentum SGD on float32 master copies of pseudo-fp16 parameters."""
    return _build(model, MultiPrecisionSgdOptimizer(base_learning_rate, **kwargs),
                  max_gradient_norm=max_gradient_norm,
                  allow_lr_injection=allow_lr_injection)


def build_ftrl(model: Any, engine: str | None = "SIMD", **kwargs: Any) -> FtrlOptimizer:
    """FTRL updates. Caffe2's default engine SIMD needs Ftrl and SparseFtrl
    registered for that engine, as Caffe2 asserted; pass ``engine=None`` for the
    default kernels."""
    if engine == "SIMD":
        assert IsOperatorWithEngine("Ftrl", "SIMD")
        assert IsOperatorWithEngine("SparseFtrl", "SIMD")
    return _build(model, FtrlOptimizer(engine=engine, **kwargs))


def build_adagrad(model: Any, base_learning_rate: float, parameters: Any = None,
                  max_gradient_norm: float | None = None, allow_lr_injection: bool = False,
                  **kwargs: Any) -> AdagradOptimizer:
    """Adagrad updates (``epsilon`` 1e-4, ``decay`` 1, ``rowWise`` for sparse rows)."""
    return _build(model, AdagradOptimizer(alpha=base_learning_rate, **kwargs),
                  max_gradient_norm=max_gradient_norm,
                  allow_lr_injection=allow_lr_injection)


def build_adam(model: Any, base_learning_rate: float, max_gradient_norm: float | None = None,
               allow_lr_injection: bool = False, **kwargs: Any) -> AdamOptimizer:
    """Adam updates (``beta1`` 0.9, ``beta2`` 0.999, ``epsilon`` 1e-8)."""
    return _build(model, AdamOptimizer(alpha=base_learning_rate, **kwargs),
                  max_gradient_norm=max_gradient_norm,
                  allow_lr_injection=allow_lr_injection)
