"""ModelHelper: a train net, its parameter init net, and the parameters they share.

    model = ModelHelper(name="mlp")
    h = brew.fc(model, "data", "h", dim_in=4, dim_out=8)   # params in param_init_net
    ...
    model.AddGradientOperators([loss])                      # grads in model.param_to_grad
    optimizer.build_sgd(model, base_learning_rate=0.1)      # updates in model.net
"""

from __future__ import annotations

import logging
from typing import Any

from caffe2lite import scope
from caffe2lite.builder.net import Net
from caffe2lite.builder.operator import BlobReference, IsOperator, _not_an_operator
from caffe2lite.gradient import GradientSlice
from caffe2lite.modeling import parameter_info
from caffe2lite.modeling.optimizer_context import DEFAULT_OPTIM, OptimizerContext
from caffe2lite.modeling.parameter_sharing import parameter_sharing_context

# Operators that Caffe2's ModelHelper knew to need no special care; others are
# allowed (with a warning) unless allow_not_known_ops=False.
_known_working_ops = [
    "Accuracy", "Adam", "Add", "Adagrad", "SparseAdagrad", "Adadelta", "SparseAdadelta",
    "AveragedLoss", "Cast", "Checkpoint", "ConstantFill", "Copy", "CopyGPUToCPU",
    "CopyCPUToGPU", "DequeueBlobs", "EnsureCPUOutput", "ExpandDims", "Flatten",
    "FlattenToVec", "LabelCrossEntropy", "LearningRate", "MakeTwoClass", "MatMul",
    "NCCLAllreduce", "NHWC2NCHW", "PackSegments", "Print", "PRelu", "ReduceFrontSum",
    "Scale", "ScatterWeightedSum", "Sigmoid", "SortedSegmentSum", "Snapshot", "Softmax",
    "SoftmaxWithLoss", "SquaredL2Distance", "Squeeze", "StopGradient", "Summarize",
    "Tanh", "Transpose", "UnpackSegments", "WeightedSum", "YellowFin",
]

logger = logging.getLogger(__name__)


def parameter_name(name: str) -> str:
    """A parameter's blob name: the current name scope plus ``name``, with the
    ParameterSharing overrides in force applied."""
    return parameter_sharing_context.get_parameter_name(name)


class ModelHelper:
    """A model: ``net`` (the train or predict net), ``param_init_net`` (the ops that
    create the parameters), ``params`` and the parameters' infos and gradients.

    >>> m = ModelHelper(name="m")
    >>> from caffe2lite.modeling.initializers import Initializer
    >>> w = m.create_param("w", [2, 3], Initializer("ConstantFill", value=1.0))
    >>> (str(w), m.GetParams(), m.InitProto().op[0].type)
    ('w', [BlobReference("w")], 'ConstantFill')
    """

    param_init_net: Net
    param_to_grad: dict
    params: list[BlobReference]
    _parameters_info: dict[str, parameter_info.ParameterInfo]
    _computed_params: list[BlobReference]

    def __init__(self, name: str | None = None, init_params: bool = True,
                 allow_not_known_ops: bool = True, skip_sparse_optim: bool = False,
                 param_model: ModelHelper | None = None,
                 arg_scope: dict | None = None) -> None:
        self.name = name or "model"
        self.net = Net(self.name)
        if param_model is not None:
            self.param_init_net = param_model.param_init_net
            self.param_to_grad = param_model.param_to_grad
            self.params = param_model.params
            self._parameters_info = param_model._parameters_info
            self._computed_params = param_model._computed_params
        else:
            self.param_init_net = Net(self.name + "_init")
            self.param_to_grad = {}
            self.params = []
            self._parameters_info = {}
            self._computed_params = []
        self._param_info_deprecated: list = []
        self._devices: list = []
        self.gradient_ops_added = False
        self.init_params = init_params
        self.allow_not_known_ops = allow_not_known_ops
        self.skip_sparse_optim = skip_sparse_optim
        self.weights: list[BlobReference] = []
        self.biases: list[BlobReference] = []
        self._arg_scope = {"order": "NCHW", "use_cudnn": True,
                           "cudnn_exhaustive_search": False}
        if arg_scope is not None:
            self._arg_scope.update(arg_scope)

    @property
    def arg_scope(self) -> dict:
        """Keyword arguments every brew helper receives (``order`` ...)."""
        return self._arg_scope

    def get_name(self) -> str:
        return self.name

    # -- parameters -----------------------------------------------------------------
    def _infer_param_shape(self, param: Any) -> list[int] | None:
        for op in self.param_init_net.Proto().op:
            if str(param) in op.output:
                for arg in op.arg:
                    if arg.name == "shape":
                        return list(arg.ints)
        return None

    @staticmethod
    def _normalize_tags(tags: Any) -> set:
        tags = tags or []
        return set(tags) if isinstance(tags, list) else {tags}

    def create_param(self, param_name: Any, shape: Any, initializer: Any,
                     tags: Any = None) -> BlobReference:
        """Create a parameter with ``initializer`` (its op goes to param_init_net)
        and record it. A string name gets the current name scope; a BlobReference is
        used as it is. Creating the same parameter twice returns the first one (the
        shapes must agree)."""
        if isinstance(param_name, BlobReference):
            param_name = str(param_name)
        elif isinstance(param_name, str):
            param_name = parameter_name(param_name)
        else:
            raise TypeError("Unsupported type for param_name")
        if param_name in self._parameters_info:
            assert self._parameters_info[param_name].shape == shape
            return self._parameters_info[param_name].blob
        info = initializer.create_param(param_name=BlobReference(param_name),
                                        init_net=self.param_init_net, shape=shape)
        context = OptimizerContext.current()
        for tag in self._normalize_tags(tags):
            if context.has_optimizer(tag):
                info.optimizer = context.get_optimizer(tag)
        if not info.optimizer and context.has_optimizer(DEFAULT_OPTIM):
            info.optimizer = context.get_optimizer(DEFAULT_OPTIM)
        self._parameters_info[param_name] = info
        self.AddParameter(info.blob, tags)
        return info.blob

    def get_param_info(self, param: Any) -> parameter_info.ParameterInfo | None:
        assert isinstance(param, BlobReference), f"Param {param} is not a BlobReference"
        return self._parameters_info.get(str(param))

    def add_param_DEPRECATED(self, param: Any, key: Any = None, shape: Any = None,
                             length: int | None = None) -> parameter_info.ParameterInfo:
        logger.warning("add_param method is DEPRECATED")
        self._update_param_info_deprecated()
        self.AddParameter(param)
        shape = shape if shape is not None else self._infer_param_shape(param)
        if not isinstance(param, BlobReference):
            raise ValueError(f"Param {param} must be a BlobReference!")
        self._param_info_deprecated.append(parameter_info.ParameterInfo(
            param_id=len(self._param_info_deprecated), param=param, shape=shape,
            key=key, length=length))
        return self._param_info_deprecated[-1]

    def _update_param_info_deprecated(self) -> None:
        for param in self.params[len(self._param_info_deprecated):]:
            if not isinstance(param, BlobReference):
                raise ValueError(f"Param {param} must be a BlobReference!")
            self._param_info_deprecated.append(parameter_info.ParameterInfo(
                param_id=len(self._param_info_deprecated), param=param,
                shape=self._infer_param_shape(param)))
        for info in self._param_info_deprecated:
            info.grad = self.param_to_grad.get(info.name)

    def AddParameter(self, param: BlobReference, tags: Any = None) -> None:
        """Record ``param``: a computed parameter (COMPUTED_PARAM tag) or a trained
        one, and a weight or a bias by its tags."""
        assert isinstance(param, BlobReference)
        tags = self._normalize_tags(tags)
        if parameter_info.ParameterTags.COMPUTED_PARAM in tags:
            self._computed_params.append(param)
        else:
            self.params.append(param)
        if parameter_info.ParameterTags.WEIGHT in tags:
            self.weights.append(param)
        if parameter_info.ParameterTags.BIAS in tags:
            self.biases.append(param)

    @staticmethod
    def _NormalizeNamescope(namescope: str | None) -> str:
        if namescope is None:
            return scope.CurrentNameScope()
        if namescope == "" or namescope.endswith(scope._NAMESCOPE_SEPARATOR):
            return namescope
        return namescope + scope._NAMESCOPE_SEPARATOR

    def GetParams(self, namescope: str | None = None, top_scope: bool = False
                  ) -> list[BlobReference]:
        """The trained parameters under ``namescope`` (the current one by default)."""
        namescope = ModelHelper._NormalizeNamescope(namescope)
        if namescope == "":
            return self.params[:]
        return [p for p in self.params if p.GetNameScope().startswith(namescope)]

    def GetComputedParams(self, namescope: str | None = None) -> list[BlobReference]:
        """Parameters computed from data rather than trained (running statistics)."""
        namescope = ModelHelper._NormalizeNamescope(namescope)
        if namescope == "":
            return self._computed_params[:]
        return [p for p in self._computed_params
                if p.GetNameScope().startswith(namescope)]

    def GetAllParams(self, namescope: str | None = None) -> list[BlobReference]:
        return self.GetParams(namescope) + self.GetComputedParams(namescope)

    # -- nets -----------------------------------------------------------------------
    def Proto(self) -> Any:
        return self.net.Proto()

    def InitProto(self) -> Any:
        return self.param_init_net.Proto()

    def AddGradientOperators(self, *args: Any, **kwargs: Any) -> dict:
        """Append the backward pass to ``net`` (once) and return the gradient map;
        ``param_to_grad`` then maps every parameter to its gradient."""
        if self.gradient_ops_added:
            raise RuntimeError("You cannot run AddGradientOperators twice.")
        self.Validate()
        self.gradient_ops_added = True
        self.grad_map = self.net.AddGradientOperators(*args, **kwargs)
        self.param_to_grad = self.get_param_to_grad(self.params)
        for param, grad in self.param_to_grad.items():
            info = self.get_param_info(param)
            if info:
                info.grad = grad
            else:
                self._parameters_info[str(param)] = parameter_info.ParameterInfo(
                    param_id=None, param=param, grad=grad)
        return self.grad_map

    def get_param_to_grad(self, params: list) -> dict:
        """``{param: gradient}`` for the given parameters that have one."""
        if not self.gradient_ops_added:
            raise RuntimeError("You need to run AddGradientOperators first.")
        return {p: self.grad_map[str(p)] for p in params if str(p) in self.grad_map}

    def GetOptimizationParamInfo(self, params: list | None = None) -> list:
        """The ParameterInfo of every parameter with a gradient (sparse ones left out
        with skip_sparse_optim)."""
        if not self.gradient_ops_added:
            raise RuntimeError("Need to call AddGradientOperators first")
        param_to_grad = self.get_param_to_grad(params) if params else self.param_to_grad
        return [self.get_param_info(param) for param, grad in param_to_grad.items()
                if not self.skip_sparse_optim or not isinstance(grad, GradientSlice)]

    def _Validate(self) -> list[str]:
        names = [str(p) for p in self.params]
        seen: set[str] = set()
        dupes: list[str] = []
        for name in sorted(names):
            if name in seen and name not in dupes:
                dupes.append(name)
            seen.add(name)
        return dupes

    def Validate(self) -> None:
        """No parameter may be recorded twice."""
        dupes = self._Validate()
        assert dupes == [], f"Duplicate params: {dupes}"

    def GetDevices(self) -> list:
        assert len(self._devices) > 0, \
            "Use data_parallel_model to run model on multiple GPUs."
        return self._devices

    def GetCompleteNet(self) -> Net:
        """param_init_net followed by net, in one Net (init ops marked in debug_info)."""
        new_net = self.param_init_net.Clone(self.name + "_complete_net", keep_schema=True)
        for op in new_net.Proto().op:
            op.debug_info = op.debug_info + "/param_init_net"
        new_net.AppendNet(self.net)
        if self.net.Proto().HasField("type"):
            new_net.Proto().type = self.net.Proto().type
        return new_net

    def ConstructInitTrainNetfromNet(self, net: Net) -> None:
        """Split a net made by GetCompleteNet back into param_init_net and net."""
        init_ops = [i for i, op in enumerate(net.Proto().op)
                    if op.debug_info.endswith("/param_init_net")]
        train_ops = [i for i in range(len(net.Proto().op)) if i not in set(init_ops)]
        self.param_init_net = net.Clone(net.Name() + "/generated_param_init_net",
                                        op_id_mask=init_ops)
        self.net = net.Clone(net.Name() + "/generated_net", op_id_mask=train_ops)
        for part in (self.param_init_net, self.net):
            _update_external_lists(part.Proto())

    # -- ops through the model -------------------------------------------------------
    def __getattr__(self, op_type: str) -> Any:
        """``model.Relu(...)`` adds the op to ``model.net`` (with a warning for ops
        Caffe2's ModelHelper did not list as known to work)."""
        if op_type.startswith(("__", "_")):
            raise AttributeError(op_type)
        if not IsOperator(op_type):
            raise _not_an_operator(op_type)
        if op_type not in _known_working_ops:
            if not self.__dict__.get("allow_not_known_ops", True):
                raise AttributeError(f"Operator {op_type} is not known to be safe")
            logger.warning("You are creating an op that the ModelHelper does not "
                           "recognize: %s.", op_type)
        return self.__dict__["net"].__getattr__(op_type)

    def __dir__(self) -> list[str]:
        return sorted(set(dir(type(self))) | set(self.__dict__) | set(_known_working_ops))


def _update_external_lists(proto: Any) -> None:
    """External inputs: blobs read before any op of the net writes them; external
    outputs: blobs written and never read (Caffe2's Clone(update_external_list))."""
    produced: list[str] = []
    used: set[str] = set()
    inputs: list[str] = []
    for op in proto.op:
        for blob in op.input:
            if blob not in produced:
                if blob not in inputs:
                    inputs.append(blob)
            else:
                used.add(blob)
        produced.extend(b for b in op.output if b not in produced)
    del proto.external_input[:]
    del proto.external_output[:]
    proto.external_input.extend(inputs)
    proto.external_output.extend(b for b in produced if b not in used)
