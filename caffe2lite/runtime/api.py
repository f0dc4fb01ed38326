"""The rest of Caffe2's ``workspace`` module: shape inference and costs over the
current workspace, blob sizes, plans run in the background, immediate mode, device
facts of a CPU-only runtime, and ``FetchInt8Blob``.

``caffe2lite.workspace`` re-exports these with :mod:`caffe2lite.runtime.workspace`.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
from typing import Any, Iterable, Mapping, cast

import numpy as np

from caffe2lite.errors import BlobNotFoundError, BlobTypeError, Caffe2LiteError
from caffe2lite.proto import caffe2_pb2
from caffe2lite.runtime import workspace as _w
from caffe2lite.runtime.blob import size_bytes
from caffe2lite.runtime.flags import FLAGS, GlobalInit  # noqa: F401

# -- devices: caffe2lite runs on the CPU only ------------------------------------------
has_gpu_support = False
has_cuda_support = False
has_hip_support = False
GpuDeviceType = caffe2_pb2.CUDA


def NumGpuDevices() -> int:
    return 0


def NumCudaDevices() -> int:
    return 0


def GetCUDAVersion() -> int:
    return 0


def GetCuDNNVersion() -> int:
    return 0


# -- blobs ---------------------------------------------------------------------------
def GetBlobSizeBytes(name: Any) -> int:
    """The bytes blob ``name``'s tensor holds (a string element counts as
    sizeof(std::string) = 32 plus its length, as in Caffe2); 0 for a non-tensor."""
    ws = _w._ws()
    key = _w._blob_name(name)
    if key not in ws._blobs:
        raise BlobNotFoundError(f"Can't find blob: {key}", blob=key)
    return size_bytes(ws._blobs[key])


def FetchInt8Blob(name: Any) -> Any:
    """An Int8 blob as Caffe2 gave it: ``(data, scale, zero_point)``
    (a :class:`caffe2lite.io.int8.Int8Tensor`)."""
    from caffe2lite.io.int8 import Int8Tensor

    ws = _w._ws()
    key = _w._blob_name(name)
    if key not in ws._blobs:
        raise BlobNotFoundError(f"Can't find blob: {key}", blob=key)
    value = ws._blobs[key]
    if not isinstance(value, Int8Tensor):
        raise BlobTypeError(f"Blob {key} is not an Int8TensorCPU", blob=key,
                            expected="Int8TensorCPU", found=type(value).__name__)
    return Int8Tensor(value.data.copy(), value.scale, value.zero_point)


def FetchInt8BlobRealVal(name: Any) -> np.ndarray:
    """The float values an Int8 blob stands for: scale * (data - zero_point)."""
    return FetchInt8Blob(name).dequantize()


# -- shape inference and costs ---------------------------------------------------------
def _shapes_from_workspace() -> dict[str, Any]:
    from caffe2lite.schema.shapes import shape_of

    return {name: shape_of(value) for name, value in _w._ws()._blobs.items()
            if value is not None}


def InferShapesAndTypes(
    nets: Iterable[Any],
    blob_dimensions: Mapping[str, Any] | None = None,
    nets_proto: bool = False,
    blob_types: Mapping[str, int] | None = None,
) -> tuple[dict[str, list[int]], dict[str, int]]:
    """Caffe2's ``(shapes, types)``: ``{blob: [dims]}`` and ``{blob: TensorProto
    data type}`` after the ``nets`` (core.Net objects, or NetDefs with
    ``nets_proto``), from the shapes of the current workspace's blobs or, when
    given, from ``blob_dimensions`` (types from ``blob_types``, FLOAT by default).

    Every blob whose shape is known is reported, the starting ones too; a blob whose
    shape depends on data (a symbolic dimension) or cannot be inferred is left out,
    as Caffe2 left out unknown shapes. An op whose inputs do not fit makes its
    outputs unknown instead of failing the call."""
    from caffe2lite.inference import infer_net
    from caffe2lite.io.tensor import data_type_of, dtype_from_name_or_enum
    from caffe2lite.schema.shapes import TensorShape

    if blob_dimensions is None:
        if blob_types is not None:
            raise Caffe2LiteError("blob_types needs blob_dimensions")
        known = _shapes_from_workspace()
    else:
        types = dict(blob_types or {})
        known = {str(name): TensorShape(tuple(int(d) for d in dims),
                                        dtype_from_name_or_enum(
                                            types.get(name, caffe2_pb2.TensorProto.FLOAT)))
                 for name, dims in blob_dimensions.items()}
    for net in nets:
        proto = net if nets_proto or not hasattr(net, "Proto") else net.Proto()
        if isinstance(proto, bytes):
            proto = _w._to_proto(proto, caffe2_pb2.NetDef)
        known = infer_net(proto, known, strict=False)
    shapes: dict[str, list[int]] = {}
    types_out: dict[str, int] = {}
    for name, shape in known.items():
        if not shape.known:
            continue
        shapes[name] = list(shape.dims)
        try:
            types_out[name] = (caffe2_pb2.TensorProto.UNDEFINED if shape.dtype is None
                               else data_type_of(shape.dtype))
        except Caffe2LiteError:
            types_out[name] = caffe2_pb2.TensorProto.UNDEFINED
    return shapes, types_out


def GetOperatorCost(operator: Any, blobs: Iterable[Any]) -> tuple[int, int]:
    """Caffe2's ``(flops, bytes_written)`` for one op run on the current workspace's
    blobs ``blobs`` (its inputs, in order)."""
    from caffe2lite.inference import op_cost
    from caffe2lite.schema.shapes import shape_of

    op = _w._to_proto(operator, caffe2_pb2.OperatorDef)
    ws = _w._ws()
    shapes = []
    for blob in blobs:
        key = _w._blob_name(blob)
        if key not in ws._blobs:
            raise BlobNotFoundError(f"Can't find blob: {key}", blob=key)
        shapes.append(shape_of(ws._blobs[key]))
    cost = op_cost(op, shapes)
    return int(cost.flops), int(cost.bytes_written)


# -- plans in the background -------------------------------------------------------------
class BackgroundPlan:
    """A plan running on its own thread (Caffe2's ``RunPlanInBackground`` result)."""

    def __init__(self, ws: Any, plan: Any) -> None:
        self.error: BaseException | None = None
        self._ok = False
        self._thread = threading.Thread(target=self._run, args=(ws, plan), daemon=True)
        self._thread.start()

    def _run(self, ws: Any, plan: Any) -> None:
        try:
            self._ok = bool(ws.run_plan(plan))
        except BaseException as e:  # kept for the caller, as Caffe2 kept the status
            self.error = e

    def is_done(self) -> bool:
        return not self._thread.is_alive()

    def is_succeeded(self) -> bool:
        """True once the plan ran to its end without an error."""
        return self.is_done() and self._ok and self.error is None

    def wait(self, timeout: float | None = None) -> bool:
        self._thread.join(timeout)
        return self.is_succeeded()


def RunPlanInBackground(plan_or_step: Any) -> BackgroundPlan:
    """Start running a plan (or a step, wrapped into one) on the current workspace;
    poll ``is_done()`` / ``is_succeeded()`` on the result."""
    return BackgroundPlan(_w._ws(), plan_or_step)


# -- transforms ------------------------------------------------------------------------------
def ApplyTransform(transform_key: Any, net: Any) -> caffe2_pb2.NetDef:
    """The registered transform ``transform_key`` applied to a copy of ``net``."""
    from caffe2lite.runtime.transforms import apply_transform

    return apply_transform(transform_key, _w._to_proto(net, caffe2_pb2.NetDef))


def ApplyTransformIfFaster(transform_key: Any, net: Any, init_net: Any,
                           **kwargs: Any) -> caffe2_pb2.NetDef:
    """The transformed net if it runs faster (``warmup_runs`` = 5, ``main_runs`` = 10,
    ``improvement_threshold`` = 1.01 as in Caffe2), else ``net``."""
    from caffe2lite.runtime.transforms import apply_transform_if_faster

    return apply_transform_if_faster(
        transform_key, _w._to_proto(net, caffe2_pb2.NetDef),
        _w._to_proto(init_net, caffe2_pb2.NetDef),
        warmup_runs=kwargs.get("warmup_runs", 5), main_runs=kwargs.get("main_runs", 10),
        improvement_threshold=kwargs.get("improvement_threshold", 1.01))


# -- predictor ---------------------------------------------------------------------------
class Predictor:
    """Caffe2's ``workspace.Predictor(init_net, predict_net)``: runs ``init_net`` once
    in a child of the current workspace (it sees the parent's blobs; what it makes
    stays in the child), then ``run(inputs)`` feeds the predict net's external
    inputs that the init net did not make (a list in their order, or a dict by
    name), runs the predict net there and returns its external outputs."""

    def __init__(self, init_net: Any, predict_net: Any) -> None:
        import collections

        init = _w._to_proto(init_net, caffe2_pb2.NetDef)
        self._net = _w._to_proto(predict_net, caffe2_pb2.NetDef)
        self._local: dict[str, Any] = {}
        self._ws = _w.Workspace()
        # A ChainMap serves as the blob dict: local blobs over the current workspace's.
        self._ws._blobs = collections.ChainMap(self._local, _w._ws()._blobs)  # type: ignore[assignment]
        self._ws.run_net_once(init)
        self.input_names = [b for b in self._net.external_input if b not in self._local]
        self.output_names = list(self._net.external_output)

    def run(self, inputs: Any) -> list[Any]:
        if isinstance(inputs, Mapping):
            feeds = dict(inputs)
        else:
            inputs = list(inputs)
            if len(inputs) != len(self.input_names):
                raise Caffe2LiteError(
                    "Predictor.run: wrong number of inputs",
                    expected=f"{len(self.input_names)} ({', '.join(self.input_names)})",
                    found=len(inputs))
            feeds = dict(zip(self.input_names, inputs))
        for name, value in feeds.items():
            self._ws.feed_blob(name, value)
        self._ws.run_net_once(self._net)
        return [self._ws.fetch_blob(name) for name in self.output_names]


# -- immediate mode ------------------------------------------------------------------------
_immediate_mode = False
_immediate_workspace_name = "_CAFFE2_IMMEDIATE"
_immediate_root_folder = ""


def IsImmediate() -> bool:
    """Whether operators created with ``core.CreateOperator`` also run at once."""
    return _immediate_mode


class _Guard:
    """Switch to a workspace for a block and back (Caffe2's WorkspaceGuard)."""

    def __init__(self, name: str) -> None:
        self._name, self._old = name, cast("str | None", None)

    def __enter__(self) -> None:
        self._old = _w.CurrentWorkspace()
        _w.SwitchWorkspace(self._name, True)

    def __exit__(self, *exc: Any) -> None:
        assert self._old is not None  # set by __enter__
        _w.SwitchWorkspace(self._old)


def StartImmediate(i_know: bool = False) -> None:
    """Run every operator as it is created, in a workspace of its own (restarted when
    already on)."""
    global _immediate_mode, _immediate_root_folder
    if IsImmediate():
        StopImmediate()
    _immediate_mode = True
    with _Guard(_immediate_workspace_name):
        _immediate_root_folder = tempfile.mkdtemp()
        _w.ResetWorkspace(_immediate_root_folder)
    if not i_know:
        print("Immediate mode is on: every operator created from now on also runs at "
              "once in its own workspace (see ImmediateBlobs / FetchImmediate). It is "
              "for debugging; call StopImmediate() to end it.")


def StopImmediate() -> None:
    """End immediate mode, emptying its workspace and removing its root folder."""
    global _immediate_mode, _immediate_root_folder
    if not IsImmediate():
        return
    with _Guard(_immediate_workspace_name):
        _w.ResetWorkspace()
    shutil.rmtree(_immediate_root_folder, ignore_errors=True)
    _immediate_root_folder = ""
    _immediate_mode = False


def ImmediateBlobs() -> list[str]:
    with _Guard(_immediate_workspace_name):
        return _w.Blobs()


def RunOperatorImmediate(op: Any) -> bool:
    with _Guard(_immediate_workspace_name):
        return _w.RunOperatorOnce(op)


def FetchImmediate(*args: Any, **kwargs: Any) -> Any:
    with _Guard(_immediate_workspace_name):
        return _w.FetchBlob(*args, **kwargs)


def FeedImmediate(*args: Any, **kwargs: Any) -> bool:
    with _Guard(_immediate_workspace_name):
        return _w.FeedBlob(*args, **kwargs)


__all__ = [
    "ApplyTransform", "ApplyTransformIfFaster", "BackgroundPlan", "FetchImmediate", "FetchInt8Blob", "FetchInt8BlobRealVal",
    "FeedImmediate", "GetBlobSizeBytes", "GetCUDAVersion", "GetCuDNNVersion",
    "GetOperatorCost", "GlobalInit", "GpuDeviceType", "ImmediateBlobs",
    "InferShapesAndTypes", "IsImmediate", "NumCudaDevices", "NumGpuDevices", "Predictor",
    "RunOperatorImmediate", "RunPlanInBackground", "StartImmediate", "StopImmediate",
    "has_cuda_support", "has_gpu_support", "has_hip_support",
]
