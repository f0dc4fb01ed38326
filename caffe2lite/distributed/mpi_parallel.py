"""Data-parallel training on CPU: Caffe2's ``data_parallel_model.Parallelize`` logic.

The training net of a ModelHelper is built once per device under the name scope
``cpu_<device>/`` (one device on CPU: ``devices=[0]``), its gradient ops are added
from the losses (each loss's gradient a ConstantFill of 1.0; the forward pass scales
its loss by ``1 / (devices * shards)``), and with a ``rendezvous`` each gradient is
summed over the shards by an ``Allreduce`` before the optimizer's update, while the
init net ends with a ``Broadcast`` of every parameter from shard 0. The collectives
run on MPI (see :mod:`caffe2lite.distributed.mpi_world`): ``rendezvous`` carries
``num_shards`` and ``shard_id`` (checked against the MPI world), ``engine`` (GLOO,
the names Caffe2 emitted) and an optional ``kv_handler`` blob (a store, not needed by
MPI). Common worlds are created once per concurrency slot and cloned, as Caffe2 did.

``shared_model=True`` keeps one copy of the parameters (the first device's) that
every device reads, and ``combine_spatial_bn=True`` normalises over all devices'
batches together (:mod:`caffe2lite.distributed.mpi_parallel_bn`), both as in Caffe2
on CPU. One difference, on purpose: Caffe2 synchronised only the computed parameters
of a shared model (its shards could start from different weights, and
GetCheckpointParams left the weights out); here the weights are broadcast from shard
0 and checkpointed like those of any model.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from caffe2lite import core, scope
from caffe2lite.errors import ApiValueError
from caffe2lite.proto import caffe2_pb2

DEFAULT_TIMEOUT_SEC = 30  # Caffe2's _DEFAULT_TIMEOUT_SEC
DEFAULT_BARRIER_TIMEOUT_SEC = 300  # Caffe2's _DEFAULT_BARRIER_NET_TIMEOUT_SEC
_SEPARATOR = "/"


def strip_blob_name(name: Any) -> str:
    """``cpu_0/fc_w`` -> ``fc_w`` (Caffe2's stripBlobName: drops the device scope)."""
    text = str(name)
    head, sep, rest = text.partition(_SEPARATOR)
    if sep and head.startswith(("cpu_", "gpu_")):
        return rest
    return text


def _group_by_device(model: Any, devices: list, blobs: list) -> dict:
    """{stripped name: {device: blob}} with every name on every device."""
    grouped: dict[str, dict[int, Any]] = {}
    for blob in blobs:
        # a sparse gradient goes by its values blob (one device, nothing to sum)
        text = str(blob.values if isinstance(blob, core.GradientSlice) else blob)
        head = text.split(_SEPARATOR, 1)[0]
        prefix = f"{model._device_prefix}_"
        if not head.startswith(prefix):
            raise ApiValueError(
                f"Parallelize: blob {text!r} is not in a device scope {prefix}<device>/",
                expected=f"a name starting with {prefix}<device>/", found=text)
        device = int(head[len(prefix):])
        grouped.setdefault(strip_blob_name(text), {})[device] = blob
    for name, per_device in grouped.items():
        if sorted(per_device) != sorted(devices):
            raise ApiValueError(f"Parallelize: {name} is not on every device",
                                expected=sorted(devices), found=sorted(per_device))
    return grouped


class _Collectives:
    """Caffe2's CollectivesConcurrencyControl: up to ``limit`` common worlds, each op
    chained to the previous op of its slot by a control input."""

    def __init__(self, name: str, limit: int, init_net: Any, rendezvous: dict) -> None:
        self.name, self.limit, self.init_net, self.rendezvous = name, limit, init_net, rendezvous
        self.worlds: list[Any] = []
        self.controls: list[Any] = []
        self.counter = 0

    def get(self, control_output: Any) -> tuple[Any, Any]:
        slot = self.counter % self.limit
        self.counter += 1
        if slot == len(self.worlds):
            self.worlds.append(create_or_clone_common_world(
                self.init_net, f"{self.name}_{slot}_cw", rendezvous=self.rendezvous,
                name=f"{self.name}_{slot}_cw_op"))
            self.controls.append(None)
        control = self.controls[slot]
        self.controls[slot] = control_output
        return self.worlds[slot], control


def create_or_clone_common_world(net: Any, blob: str, *, rendezvous: dict, name: str,
                                 timeout_sec: float | None = None) -> Any:
    """A CreateCommonWorld in ``net``, or a CloneCommonWorld of an earlier one with the
    same timeout (Caffe2's _CreateOrCloneCommonWorld)."""
    timeout_ms = int((DEFAULT_TIMEOUT_SEC if timeout_sec is None else timeout_sec) * 1000)
    existing = None
    for op in net.Proto().op:
        if op.type == "CreateCommonWorld":
            op_timeout = next((a.i for a in op.arg if a.name == "timeout_ms"), -1)
            if op_timeout == timeout_ms:
                existing = op.output[0]
                break
    if existing is not None:
        return net.CloneCommonWorld([existing], blob, name=name, engine=rendezvous["engine"])
    extra = {k: rendezvous[k] for k in ("transport", "interface", "mpi_rendezvous")
             if k in rendezvous}
    kv = rendezvous.get("kv_handler")
    return net.CreateCommonWorld([kv] if kv else [], blob, name=name,
                                 size=rendezvous["num_shards"], rank=rendezvous["shard_id"],
                                 engine=rendezvous["engine"], timeout_ms=timeout_ms, **extra)


def _device_scope(model: Any, device: int) -> Any:
    return core.DeviceOption(model._device_type, device)


def Parallelize(
    model_helper_obj: Any,
    input_builder_fun: Callable[[Any], Any],
    forward_pass_builder_fun: Callable[[Any, float], Any],
    param_update_builder_fun: Callable[[Any], Any] | None = None,
    optimizer_builder_fun: Callable[[Any], Any] | None = None,
    post_sync_builder_fun: Callable[[Any], Any] | None = None,
    pre_grad_net_transformer_fun: Callable[[Any], Any] | None = None,
    net_transformer_fun: Callable[..., Any] | None = None,
    devices: list | None = None,
    rendezvous: dict | None = None,
    net_type: str = "dag",
    broadcast_computed_params: bool = True,
    optimize_gradient_memory: bool = False,
    dynamic_memory_management: bool = False,
    blobs_to_keep: Any = None,
    use_nccl: bool = False,
    max_concurrent_distributed_ops: int = 16,
    cpu_device: bool = False,
    ideep: bool = False,
    num_threads_per_device: int = 4,
    shared_model: bool = False,
    combine_spatial_bn: bool = False,
    barrier_net_timeout_sec: int = 300,
) -> None:
    """Build ``model_helper_obj`` for data-parallel training (see the module doc).

    Caffe2's arguments are all accepted. ``optimize_gradient_memory``,
    ``dynamic_memory_management`` and ``blobs_to_keep`` asked Caffe2's memonger to
    share gradient blobs or free them early, which changed memory use, not results;
    the net is not rewritten for them here (each blob keeps its own array, replaced
    when its op runs again). ``net_type`` and
    ``num_threads_per_device`` are recorded on the net as in Caffe2. ``use_nccl`` and
    ``ideep`` (GPU, IDEEP) are refused; ``cpu_device`` must be True."""
    model = model_helper_obj
    if not cpu_device:
        raise ApiValueError("Parallelize: caffe2lite runs on CPU only; pass cpu_device=True",
                            arg="cpu_device", expected=True, found=cpu_device)
    if use_nccl or ideep:
        raise ApiValueError("Parallelize: use_nccl and ideep are GPU/IDEEP features "
                            "caffe2lite lacks", expected="False", found="True")
    devices = list(devices if devices is not None else [0])
    if param_update_builder_fun is not None and optimizer_builder_fun is not None:
        raise ApiValueError("Can only specify one of param_update_builder_fun, "
                            "optimizer_builder_fun", expected="one", found="both")
    if model.params:
        raise ApiValueError("Model needs to be empty", expected="no parameters",
                            found=[str(p) for p in model.params])
    if rendezvous is not None and rendezvous["num_shards"] < 2:
        rendezvous = None  # Caffe2: one shard is the single-host case
    model._device_type = caffe2_pb2.CPU
    model._device_prefix = "cpu"
    model._devices = devices
    model._rendezvous = rendezvous
    model._shared_model = shared_model
    model._broadcast_context = None
    model._optimizer = None
    model._grad_names = []
    model.net.Proto().type = net_type
    model.net.Proto().num_workers = len(devices) * num_threads_per_device + (
        8 if rendezvous is not None else 0)

    num_shards = 1 if rendezvous is None else rendezvous["num_shards"]
    loss_scale = 1.0 / (len(devices) * num_shards)
    losses_by_device: dict[int, list] = {}
    for device in devices:
        with scope.DeviceScope(_device_scope(model, device)), \
                scope.NameScope(f"{model._device_prefix}_{device}"):
            input_builder_fun(model)
            losses = forward_pass_builder_fun(model, loss_scale)
            training = param_update_builder_fun is not None or optimizer_builder_fun is not None
            if training and (not isinstance(losses, list) or not all(
                    isinstance(x, core.BlobReference) for x in losses)):
                raise ApiValueError("Model builder function must return list of loss blobs",
                                    expected="a list of BlobReference",
                                    found=type(losses).__name__)
            losses_by_device[device] = losses

    model._device_grouped_blobs = _group_by_device(model, devices, model.params)
    computed = _group_by_device(model, devices, model.GetComputedParams())
    model._device_grouped_blobs.update(computed)
    model._param_names = list(model._device_grouped_blobs)
    model._computed_param_names = list(computed)

    training = param_update_builder_fun is not None or optimizer_builder_fun is not None
    if pre_grad_net_transformer_fun is not None:
        pre_grad_net_transformer_fun(model)
    if training:
        loss_grads = {}
        for device in devices:
            with scope.DeviceScope(_device_scope(model, device)):
                for loss in losses_by_device[device]:
                    loss_grads[str(loss)] = str(model.ConstantFill(
                        loss, str(loss) + "_grad", value=1.0))
        model.AddGradientOperators(loss_grads)
    if net_transformer_fun is not None:
        net_transformer_fun(model, len(devices), model._device_prefix, model._device_type)
    if not training:
        return  # forward only (a test net)
    if combine_spatial_bn:
        from caffe2lite.distributed.mpi_parallel_bn import combine_spatial_bn as _combine

        _combine(model)

    param_to_grad = model.param_to_grad
    sparse = [p for p in model.params if isinstance(param_to_grad.get(p), core.GradientSlice)]
    if sparse and rendezvous is not None:
        _densify_sparse_gradients(model, sparse)
    elif sparse and len(devices) > 1:
        raise ApiValueError("Synchronizing gradient slices not supported",
                            expected="dense gradients on several CPU devices of one host",
                            found=[str(p) for p in sparse])
    grads = [param_to_grad[p] for p in model.params if p in param_to_grad]
    grouped_grads = _group_by_device(model, devices, grads)
    model._device_grouped_blobs.update(grouped_grads)
    model._grad_names = list(grouped_grads)

    if rendezvous is not None and model._grad_names:
        _allreduce(list(reversed(model._grad_names)), devices, model, rendezvous,
                   max_concurrent_distributed_ops)
    elif len(devices) > 1:
        _sum_locally(list(reversed(model._grad_names)), devices, model)

    all_params = {str(p) for p in model.GetParams("")}
    if shared_model:
        _prune_for_sharing(model)

    if param_update_builder_fun is not None:
        for device in devices:
            with scope.DeviceScope(_device_scope(model, device)), \
                    scope.NameScope(f"{model._device_prefix}_{device}"):
                param_update_builder_fun(model)
    else:
        # once, outside the device scopes: the optimizer places each parameter's
        # update on that parameter's device, as Caffe2 did
        assert optimizer_builder_fun is not None  # checked with the arguments above
        model._optimizer = optimizer_builder_fun(model)

    sync_params(devices, model, model.param_init_net, rendezvous, model._param_names,
                max_concurrent_distributed_ops)
    if post_sync_builder_fun is not None:  # after the initial sync, on every device
        for device in devices:
            with scope.DeviceScope(_device_scope(model, device)), \
                    scope.NameScope(f"{model._device_prefix}_{device}"):
                post_sync_builder_fun(model)
    model._data_parallel_model_init_nets = [model.param_init_net]
    model._data_parallel_model_nets = [model.net]
    if rendezvous is not None and rendezvous["engine"] == "GLOO":
        # Caffe2's barrier before training: a shard that starts sooner waits for the
        # others (RunInitNet makes its world, RunNet runs it before the training net)
        model._barrier_init_net = core.Net("barrier_init_net")
        model._barrier_net = create_barrier_net(model, model._barrier_init_net,
                                                "pre_training", barrier_net_timeout_sec)
        model._data_parallel_model_init_nets.insert(0, model._barrier_init_net)
        model._data_parallel_model_nets.insert(0, model._barrier_net)
    if shared_model:
        _remap_to_master(model, all_params)


def _prune_for_sharing(model: Any) -> None:
    """shared_model: only the first device's parameters are updated (Caffe2's
    _PruneParametersForSharing); the other devices' gradients are still summed into
    the first device's."""
    master = f"{model._device_prefix}_{model._devices[0]}/"
    model.params = model.GetParams(master)
    kept = {str(p) for p in model.params}
    model.param_to_grad = {p: g for p, g in model.param_to_grad.items() if str(p) in kept}
    model.weights = [w for w in model.weights if str(w) in kept]
    model.biases = [b for b in model.biases if str(b) in kept]


def _remap_to_master(model: Any, all_params: set) -> None:
    """shared_model: the other devices read the first device's parameters, and the
    ops that made or copied their own copies are dropped (Caffe2's
    _RemapParameterBlobsForSharedModel)."""
    master = f"{model._device_prefix}_{model._devices[0]}/"
    masters = {str(p) for p in model.GetParams()}
    for net in (model.param_init_net, model.net):
        kept = []
        for op in net.Proto().op:
            copies = [o for o in op.output if o in all_params and o not in masters]
            if copies and op.type == "Broadcast" and len(copies) < len(op.output):
                # a shard-wide broadcast of every device's copy: keep the first device's
                keep = [o not in copies for o in op.output]
                op.output[:] = [o for o, k in zip(op.output, keep) if k]
                op.input[1:] = [i for i, k in zip(op.input[1:], keep) if k]
            elif copies:
                continue
            for j, name in enumerate(op.input):
                if name in all_params and name not in masters:
                    op.input[j] = master + strip_blob_name(name)
            kept.append(op)
        del net.Proto().op[:]
        net.Proto().op.extend(kept)


def create_barrier_net(model: Any, init_net: Any, prefix: str, timeout_sec: float) -> Any:
    """A net of one Barrier over a common world made in ``init_net`` with
    ``timeout_sec`` (Caffe2's _CreateBarrierNet)."""
    world = create_or_clone_common_world(init_net, prefix + "_barrier_cw",
                                         rendezvous=model._rendezvous,
                                         name=prefix + "_barrier_cw_op",
                                         timeout_sec=timeout_sec)
    net = core.Net(prefix + "_barrier_net")
    net.Barrier([world], [], engine=model._rendezvous["engine"])
    return net


def Parallelize_CPU(*args: Any, **kwargs: Any) -> None:
    """Parallelize with ``cpu_device=True``."""
    kwargs["cpu_device"] = True
    Parallelize(*args, **kwargs)


def _allreduce(names: list, devices: list, model: Any, rendezvous: dict, limit: int) -> None:
    context = _Collectives("allreduce", limit, model.param_init_net, rendezvous)
    with scope.DeviceScope(_device_scope(model, devices[0])):
        for name in names:
            group = [model._device_grouped_blobs[name][d] for d in devices]
            world, control = context.get(group[0])
            model.net.Allreduce([world] + group, group, name=name,
                                engine=rendezvous["engine"], control_input=control,
                                gpu_direct=rendezvous.get("transport") == "ibverbs")


def _densify_sparse_gradients(model: Any, params: list) -> None:
    """Across shards, a sparse gradient (a GradientSlice: the rows of an embedding a
    batch touched, from SparseLengthsSum & co.) becomes the dense gradient of its
    parameter: a zero tensor like the parameter (ConstantFill) into which the slice's
    rows are added (ScatterWeightedSum with weights 1, duplicate rows summed; several
    times faster here than SparseToDense). It is then allreduced like any other
    gradient and updated by the dense optimizer ops.

    Caffe2's data_parallel_model had no path for this on CPU (one host: "Synchronizing
    gradient slices not supported"; several: the GradientSlice went to Allreduce,
    which could not take it); on GPUs of one host it concatenated every device's
    indices and values (an all-gather). The ranks' slices differ in length, which the
    Gloo Allgather cannot carry, so here they are made dense: the summed gradient is
    the one of the whole batch, and plain SGD (and AdaGrad, Adam's first step ...)
    updates the rows no rank touched by zero, as the sparse update on the whole batch
    would; momentum-style optimizers would also move rows with a zero gradient."""
    ones: dict[int, Any] = {}
    for param in params:
        grad = model.param_to_grad[param]
        device = int(str(param).split(_SEPARATOR, 1)[0].split("_", 1)[1])
        if device not in ones:
            with scope.DeviceScope(_device_scope(model, device)):
                ones[device] = model.param_init_net.ConstantFill(
                    [], f"{model._device_prefix}_{device}/sparse_grad_one", shape=[1],
                    value=1.0)
        one = ones[device]
        with scope.DeviceScope(_device_scope(model, device)):
            dense = model.net.ConstantFill([param], f"{param}_grad_dense", value=0.0)
            model.net.ScatterWeightedSum([dense, one, grad.indices, grad.values, one], dense)
        model.param_to_grad[param] = dense
        info = model.get_param_info(param)
        if info is not None:
            info.grad = dense


def _sum_locally(names: list, devices: list, model: Any) -> None:
    """Several CPU devices of one host: sum into the first, copy back (Caffe2's
    single-host CPU path)."""
    for name in names:
        group = [model._device_grouped_blobs[name][d] for d in devices]
        with scope.DeviceScope(_device_scope(model, devices[0])):
            model.net.Sum(group, group[0])
        for device, blob in zip(devices[1:], group[1:]):
            with scope.DeviceScope(_device_scope(model, device)):
                model.net.Copy(group[0], blob)


def sync_params(devices: list, model: Any, net: Any, rendezvous: dict | None,
                names: list, limit: int, init_net: Any = None) -> None:
    """``net`` makes every device's and every shard's blobs ``names`` equal to device
    0's of shard 0 (Broadcast over shards, Copy across devices); the common worlds are
    made in ``init_net`` (the param init net by default)."""
    if rendezvous is not None:
        context = _Collectives("broadcast", limit,
                               model.param_init_net if init_net is None else init_net,
                               rendezvous)
        with scope.DeviceScope(_device_scope(model, devices[0])):
            for name in sorted(names):
                group = [model._device_grouped_blobs[name][d] for d in devices]
                world, control = context.get(group)
                net.Broadcast([world] + group, group, name=name,
                              engine=rendezvous["engine"], control_input=control)
        return
    for name in names:
        master = model._device_grouped_blobs[name][devices[0]]
        for device in devices[1:]:
            with scope.DeviceScope(_device_scope(model, device)):
                net.Copy(master, model._device_grouped_blobs[name][device])
