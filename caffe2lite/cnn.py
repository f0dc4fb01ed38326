"""Caffe2's ``cnn``: ``CNNModelHelper``, the ModelHelper of older Caffe2 scripts
(``model = cnn.CNNModelHelper(order="NCHW", name="mnist")``, then ``model.Conv(...)``,
``model.FC(...)``, ``model.Relu(...)`` ...).

Caffe2 had deprecated it in favour of ModelHelper with brew; as there, each method is
the brew helper of the same layer with the model's ``order`` and cuDNN settings
(``use_cudnn`` asks for the CUDNN engine, which runs as the default CPU engine here).
The methods of layers whose operators caffe2lite does not have (FC_Prune, FC_Sparse,
MaxPoolWithIndex) raise
:class:`~caffe2lite.errors.UnknownOperatorError` naming the operator.
"""

from __future__ import annotations

import logging
from typing import Any

from caffe2lite import brew as _brew
from caffe2lite.errors import UnknownOperatorError
from caffe2lite.modeling.model_helper import ModelHelper
from caffe2lite.proto import caffe2_pb2

__all__ = ["CNNModelHelper"]

brew: Any = _brew  # (its helpers are registered at import: untyped attributes)


def _missing(method: str, op_type: str) -> UnknownOperatorError:
    return UnknownOperatorError(
        f"CNNModelHelper.{method} needs the operator {op_type}, which caffe2lite does not "
        f"have", expected="an operator caffe2lite registers", found=op_type)


class CNNModelHelper(ModelHelper):
    """A ModelHelper whose methods add layers (see the module doc)."""

    def __init__(self, order: str = "NCHW", name: str | None = None, use_cudnn: bool = True,
                 cudnn_exhaustive_search: bool = False, ws_nbytes_limit: int | None = None,
                 init_params: bool = True, skip_sparse_optim: bool = False,
                 param_model: Any = None) -> None:
        logging.warning(
            "[====DEPRECATE WARNING====]: you are creating an object from CNNModelHelper "
            "class which will be deprecated soon. Please use ModelHelper object with brew "
            "module. For more information, please refer to caffe2.ai and python/brew.py, "
            "python/brew_test.py for more information.")
        scope = {"order": order, "use_cudnn": use_cudnn,
                 "cudnn_exhaustive_search": cudnn_exhaustive_search}
        if ws_nbytes_limit:
            scope["ws_nbytes_limit"] = ws_nbytes_limit
        super().__init__(skip_sparse_optim=skip_sparse_optim,
                         name="CNN" if name is None else name, init_params=init_params,
                         param_model=param_model, arg_scope=scope)
        self.order = order
        self.use_cudnn = use_cudnn
        self.cudnn_exhaustive_search = cudnn_exhaustive_search
        self.ws_nbytes_limit = ws_nbytes_limit
        if order not in ("NHWC", "NCHW"):
            raise ValueError(f"Cannot understand the CNN storage order {order}.")

    def _conv_args(self) -> dict:
        return {"use_cudnn": self.use_cudnn, "order": self.order,
                "cudnn_exhaustive_search": self.cudnn_exhaustive_search,
                "ws_nbytes_limit": self.ws_nbytes_limit}

    def ImageInput(self, blob_in: Any, blob_out: Any, use_gpu_transform: bool = False,
                   **kwargs: Any) -> Any:
        return brew.image_input(self, blob_in, blob_out, order=self.order,
                                use_gpu_transform=use_gpu_transform, **kwargs)

    def VideoInput(self, blob_in: Any, blob_out: Any, **kwargs: Any) -> Any:
        return brew.video_input(self, blob_in, blob_out, **kwargs)

    def PadImage(self, blob_in: Any, blob_out: Any, **kwargs: Any) -> Any:
        return self.net.PadImage(blob_in, blob_out, order=self.order, **kwargs)

    def ConvNd(self, *args: Any, **kwargs: Any) -> Any:
        return brew.conv_nd(self, *args, **self._conv_args(), **kwargs)

    def Conv(self, *args: Any, **kwargs: Any) -> Any:
        return brew.conv(self, *args, **self._conv_args(), **kwargs)

    def ConvTranspose(self, *args: Any, **kwargs: Any) -> Any:
        return brew.conv_transpose(self, *args, **self._conv_args(), **kwargs)

    def GroupConv(self, *args: Any, **kwargs: Any) -> Any:
        return brew.group_conv(self, *args, **self._conv_args(), **kwargs)

    def GroupConv_Deprecated(self, *args: Any, **kwargs: Any) -> Any:
        return brew.group_conv_deprecated(self, *args, **self._conv_args(), **kwargs)

    def FC(self, *args: Any, **kwargs: Any) -> Any:
        return brew.fc(self, *args, **kwargs)

    def PackedFC(self, *args: Any, **kwargs: Any) -> Any:
        return brew.packed_fc(self, *args, **kwargs)

    def FC_Prune(self, *args: Any, **kwargs: Any) -> Any:
        raise _missing("FC_Prune", "FC_Prune")

    def FC_Decomp(self, *args: Any, **kwargs: Any) -> Any:
        return brew.fc_decomp(self, *args, **kwargs)

    def FC_Sparse(self, *args: Any, **kwargs: Any) -> Any:
        raise _missing("FC_Sparse", "FC_Sparse")

    def Dropout(self, *args: Any, **kwargs: Any) -> Any:
        return brew.dropout(self, *args, order=self.order, use_cudnn=self.use_cudnn, **kwargs)

    def LRN(self, *args: Any, **kwargs: Any) -> Any:
        return brew.lrn(self, *args, order=self.order, use_cudnn=self.use_cudnn, **kwargs)

    def Softmax(self, *args: Any, **kwargs: Any) -> Any:
        return brew.softmax(self, *args, use_cudnn=self.use_cudnn, **kwargs)

    def SpatialBN(self, *args: Any, **kwargs: Any) -> Any:
        return brew.spatial_bn(self, *args, order=self.order, **kwargs)

    def SpatialGN(self, *args: Any, **kwargs: Any) -> Any:
        return brew.spatial_gn(self, *args, order=self.order, **kwargs)

    def InstanceNorm(self, *args: Any, **kwargs: Any) -> Any:
        return brew.instance_norm(self, *args, order=self.order, **kwargs)

    def Relu(self, *args: Any, **kwargs: Any) -> Any:
        return brew.relu(self, *args, order=self.order, use_cudnn=self.use_cudnn, **kwargs)

    def PRelu(self, *args: Any, **kwargs: Any) -> Any:
        return brew.prelu(self, *args, **kwargs)

    def Concat(self, *args: Any, **kwargs: Any) -> Any:
        return brew.concat(self, *args, order=self.order, **kwargs)

    def DepthConcat(self, *args: Any, **kwargs: Any) -> Any:
        """The old name of Concat."""
        print("DepthConcat is deprecated. use Concat instead.")
        return self.Concat(*args, **kwargs)

    def Sum(self, *args: Any, **kwargs: Any) -> Any:
        return brew.sum(self, *args, **kwargs)

    def Transpose(self, *args: Any, **kwargs: Any) -> Any:
        return brew.transpose(self, *args, use_cudnn=self.use_cudnn, **kwargs)

    def Iter(self, *args: Any, **kwargs: Any) -> Any:
        return brew.iter(self, *args, **kwargs)

    def Accuracy(self, *args: Any, **kwargs: Any) -> Any:
        return brew.accuracy(self, *args, **kwargs)

    def MaxPool(self, *args: Any, **kwargs: Any) -> Any:
        return brew.max_pool(self, *args, use_cudnn=self.use_cudnn, order=self.order,
                             **kwargs)

    def MaxPoolWithIndex(self, *args: Any, **kwargs: Any) -> Any:
        raise _missing("MaxPoolWithIndex", "MaxPoolWithIndex")

    def AveragePool(self, *args: Any, **kwargs: Any) -> Any:
        return brew.average_pool(self, *args, use_cudnn=self.use_cudnn, order=self.order,
                                 **kwargs)

    @property
    def XavierInit(self) -> tuple:
        return ("XavierFill", {})

    def ConstantInit(self, value: float) -> tuple:
        return ("ConstantFill", {"value": value})

    @property
    def MSRAInit(self) -> tuple:
        return ("MSRAFill", {})

    @property
    def ZeroInit(self) -> tuple:
        return ("ConstantFill", {})

    def AddWeightDecay(self, weight_decay: float) -> Any:
        return brew.add_weight_decay(self, weight_decay)

    @property
    def CPU(self) -> caffe2_pb2.DeviceOption:
        return caffe2_pb2.DeviceOption(device_type=caffe2_pb2.CPU)

    @property
    def GPU(self) -> caffe2_pb2.DeviceOption:
        return caffe2_pb2.DeviceOption(device_type=caffe2_pb2.CUDA, device_id=0)
