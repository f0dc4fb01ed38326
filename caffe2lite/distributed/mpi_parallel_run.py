"""The rest of Caffe2's ``data_parallel_model`` API around :func:`Parallelize`: running
the parallelised nets, checkpoints, learning-rate blobs, extra blob syncs, barriers
and predictor extraction, with Caffe2's meanings on CPU (devices ``cpu_<d>``, the
collectives on MPI).

A script written for Caffe2 calls them as it did::

    data_parallel_model.Parallelize(model, ..., rendezvous=rendezvous, cpu_device=True)
    data_parallel_model.RunInitNet(model)        # init nets, then the nets created
    data_parallel_model.RunNet(model, 10)        # the barrier, then 10 iterations
    params = data_parallel_model.GetCheckpointParams(model)
    data_parallel_model.FinalizeAfterCheckpoint(model)  # after loading a checkpoint
"""

from __future__ import annotations

import copy
import warnings
from typing import Any

from caffe2lite import core, scope
from caffe2lite.distributed.mpi_parallel import (
    DEFAULT_BARRIER_TIMEOUT_SEC,
    create_barrier_net,
    strip_blob_name,
    sync_params,
)
from caffe2lite.errors import ApiValueError
from caffe2lite.modeling.predictor import ExtractPredictorNet as _extract
from caffe2lite.proto import caffe2_pb2
from caffe2lite.runtime import workspace


def _nets(model: Any) -> list:
    return list(getattr(model, "_data_parallel_model_nets", None) or [])


def _parallelized(model: Any, what: str) -> None:
    if not hasattr(model, "_data_parallel_model_nets"):
        raise ApiValueError(f"{what}: the model was not built by Parallelize (with an "
                            "optimizer or a parameter update)",
                            expected="a model after Parallelize", found="none")


def CreateNet(model: Any, overwrite: bool = False) -> None:
    """Create every net of the parallelised model (a ``(net, iterations)`` pair's net)."""
    _parallelized(model, "CreateNet")
    for item in _nets(model):
        workspace.CreateNet(item[0] if isinstance(item, tuple) else item, overwrite=overwrite)


def RunInitNet(model: Any) -> None:
    """Run the init nets once (the barrier's, then the parameters' with their
    broadcast from shard 0), then create the nets."""
    _parallelized(model, "RunInitNet")
    for init_net in model._data_parallel_model_init_nets:
        workspace.RunNetOnce(init_net)
    CreateNet(model)


def RunNet(model: Any, num_iterations: int) -> None:
    """Run each net ``num_iterations`` times (a ``(net, k)`` pair k times), in order:
    with a rendezvous, first the barrier net, so no shard starts ahead of the others."""
    _parallelized(model, "RunNet")
    for item in _nets(model):
        if isinstance(item, tuple):
            workspace.RunNet(item[0].Proto().name, item[1])
        else:
            workspace.RunNet(item.Proto().name, num_iterations)


def _blobs_to_sync(model: Any) -> tuple[list, set]:
    """Every blob the param init net makes under a device scope (sorted by device,
    then name) and their names without the scope; each parameter must be among them."""
    prefix = f"{model._device_prefix}_"
    outputs = {o for op in model.param_init_net.Proto().op for o in op.output
               if o.startswith(prefix)}
    names = {strip_blob_name(o) for o in outputs}
    missing = set(model._param_names) - names
    if missing:
        raise ApiValueError(f"Some params not instantiated in param init net: {missing}",
                            expected="every parameter made by the param init net",
                            found=sorted(missing))

    def key(blob: str) -> tuple[int, str]:
        device = blob[len(prefix):].split(scope._NAMESCOPE_SEPARATOR, 1)[0]
        return (int(device) if device.isdigit() else -1, blob)

    return [core.BlobReference(b) for b in sorted(outputs, key=key)], names


def GetCheckpointParams(model: Any) -> set:
    """The blobs a complete checkpoint needs: what the param init net makes for the
    first device (parameters, momenta, ...), and the iteration counters (Iter /
    AtomicIter outputs outside the device scopes)."""
    blobs, _ = _blobs_to_sync(model)
    first = f"{model._device_prefix}_{model._devices[0]}/"
    chosen = {b for b in blobs if str(b).startswith(first)}
    iterations = {op.output[0] for op in model.net.Proto().op
                  if op.type in ("Iter", "AtomicIter")
                  and not op.output[0].startswith(f"{model._device_prefix}_")}
    return chosen | iterations


def FinalizeAfterCheckpoint(model: Any, blobs: Any = None, cpu_mode: bool = False) -> None:
    """After loading a checkpoint (or initial parameters) on the first device: copy
    them to the other devices and broadcast them from shard 0 (``blobs``: those
    names, else everything the param init net makes). The sync net is built once.
    ``cpu_mode`` (Caffe2's switch off the GPU) changes nothing: everything runs on CPU."""
    if not hasattr(model, "_checkpoint_net"):
        if blobs is None:
            _, names = _blobs_to_sync(model)
        else:
            names = {strip_blob_name(b) for b in blobs}
        devices = model.GetDevices()
        for name in names:
            if name not in model._device_grouped_blobs:
                model._device_grouped_blobs[name] = {
                    d: core.BlobReference(
                        f"{model._device_prefix}_{d}{scope._NAMESCOPE_SEPARATOR}{name}")
                    for d in devices}
        model._checkpoint_net = core.Net("checkpoint_sync_net")
        init_net = None
        if model._rendezvous is not None and model._rendezvous["num_shards"] > 1:
            init_net = core.Net("checkpoint_init_net")
        sync_params(devices, model, model._checkpoint_net, model._rendezvous,
                    sorted(names), 1, init_net=init_net)
        if init_net is not None:
            workspace.RunNetOnce(init_net)
        workspace.CreateNet(model._checkpoint_net)
    workspace.RunNet(model._checkpoint_net.Proto().name)


def GetLearningRateBlobNames(model: Any) -> list:
    """The learning-rate blobs: the optimizer's (one on CPU), else every LearningRate
    op's output in the training net."""
    optimizer = getattr(model, "_optimizer", None)
    if optimizer is not None:
        return [optimizer.get_cpu_blob_name("lr")]
    return [op.output[0] for op in model.net.Proto().op if op.type == "LearningRate"]


def AddBlobSync(model: Any, blobs: list, net: Any = None) -> None:
    """Make ``blobs`` (names without a device scope) equal on every device and shard
    to the first device's of shard 0, in ``net`` (the training net by default)."""
    if not blobs:
        return
    net = model.net if net is None else net
    for b in blobs:
        if str(b).startswith(model._device_prefix):
            raise ApiValueError(f"Provide unprefixed blob name: {b}",
                                expected="a name without the device scope", found=str(b))
        model._device_grouped_blobs[str(b)] = {
            d: core.BlobReference(f"{model._device_prefix}_{d}/{b}") for d in model._devices}
    sync_params(model._devices, model, net, model._rendezvous, sorted(map(str, blobs)),
                16, init_net=model.param_init_net)


def AddDistributedBlobSync(model: Any, blobs: list) -> None:
    """Sum ``blobs`` over the shards (not the devices) in the training net."""
    from caffe2lite.distributed.mpi_parallel import create_or_clone_common_world

    if model._rendezvous is None:
        return
    name = "_".join(str(b) for b in blobs)
    world = create_or_clone_common_world(model.param_init_net, "blob_sync_cw_" + name,
                                         rendezvous=model._rendezvous,
                                         name="blob_sync_cw_" + name)
    model.net.Allreduce([world] + list(blobs), list(blobs),
                        engine=model._rendezvous["engine"])


def Synchronize(model: Any, timeout_sec: int = DEFAULT_BARRIER_TIMEOUT_SEC) -> None:
    """Deprecated in Caffe2 (Parallelize adds a barrier before training): wait until
    every shard gets here, at most ``timeout_sec`` (one fixed timeout per model)."""
    warnings.warn("The Synchronize API has been deprecated.  We now have a barrier net "
                  "which runs before training to ensure all hosts wait before training "
                  "starts.  The default timeout for the barrier is 300s and it can be "
                  "overridden using the barrier_net_timeout_sec parameter when calling "
                  "Parallelize.", category=DeprecationWarning, stacklevel=2)
    if model._rendezvous is None or model._rendezvous["num_shards"] <= 1:
        return
    if getattr(model, "_sync_barrier_net", None) is None:
        init_net = core.Net("sync_barrier_init_net")
        model._sync_barrier_net = create_barrier_net(model, init_net, "sync", timeout_sec)
        workspace.RunNetOnce(init_net)
        workspace.CreateNet(model._sync_barrier_net)
        model._sync_barrier_net_timeout = timeout_sec
    if model._sync_barrier_net_timeout != timeout_sec:
        raise ApiValueError(f"Must use fixed timeout, {model._sync_barrier_net_timeout} != "
                            f"{timeout_sec}", arg="timeout_sec",
                            expected=model._sync_barrier_net_timeout, found=timeout_sec)
    workspace.RunNet(model._sync_barrier_net.Proto().name)


def ExtractPredictorNet(model: Any, inputs: list, outputs: list, device: Any) -> tuple:
    """``(predict_net, params)`` of the first device's part of the training net, its
    blobs renamed without the device scope (ModelHelper's ExtractPredictorNet)."""
    prefix = f"{model._device_prefix}_{model._devices[0]}/"
    prefixed_in = [prefix + str(b) for b in inputs]
    prefixed_out = [prefix + str(b) for b in outputs]
    return _extract(model.net.Proto(), prefixed_in, prefixed_out, device=device,
                    renames=dict(zip(prefixed_in + prefixed_out,
                                     [str(b) for b in list(inputs) + list(outputs)])))


def ConvertNetForDevice(net: Any, device: Any = None) -> Any:
    """A copy of ``net`` whose blobs are under the name scope of ``device`` (the
    current device scope by default; ``cpu_<id>/`` on CPU) and whose ops run there,
    to append another model's net inside a forward_pass_builder_fun."""
    converted = copy.deepcopy(net)
    if device is None:
        device = scope.CurrentDeviceScope() or caffe2_pb2.DeviceOption()
    prefix = {caffe2_pb2.CUDA: "gpu", caffe2_pb2.IDEEP: "ideep"}.get(device.device_type,
                                                                    "cpu")
    space = f"{prefix}_{device.device_id}/"
    proto = converted.Proto()
    for op in proto.op:
        if "RecurrentNetwork" in op.type:
            raise ApiValueError("RecurrentNetwork conversion not yet supported",
                                expected="no RecurrentNetwork op", found=op.type)
        op.input[:] = [space + b for b in op.input]
        op.output[:] = [space + b for b in op.output]
        op.control_input[:] = [space + b for b in op.control_input]
        op.device_option.CopyFrom(device)
    proto.external_input[:] = [space + b for b in proto.external_input]
    proto.external_output[:] = [space + b for b in proto.external_output]
    return converted


def GetDevices(model: Any) -> list:
    """The model's devices (ModelHelper.GetDevices)."""
    return model.GetDevices()


def IsGPU(model: Any) -> bool:
    """Whether the model's devices are GPUs: never after caffe2lite's Parallelize."""
    return model._device_type in (caffe2_pb2.CUDA, caffe2_pb2.HIP)
