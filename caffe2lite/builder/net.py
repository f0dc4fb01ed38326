"""``core.Net``: build a NetDef in Python, Caffe2's way (ops as attributes)."""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

from caffe2lite.schema import registry
from caffe2lite.builder.operator import (
    BlobReference,
    CreateOperator,
    IsOperator,
    ScopedBlobReference,
    _not_an_operator,
    _rectify,
)
from caffe2lite.errors import Caffe2LiteError
from caffe2lite.gradient.backward import GradientRegistry
from caffe2lite.proto import caffe2_pb2


class NetAssertionError(Caffe2LiteError, AssertionError):
    """A Net-building precondition failed (an ``assert`` in Caffe2)."""


class Net:
    """A NetDef under construction. ``net.Relu("X", "Y")`` appends a Relu op.

    >>> net = Net("example"); y = net.Relu("X")
    >>> (net.Name(), str(y), list(net.Proto().external_input))
    ('example', 'example/Relu', ['X'])
    """

    _net_names_used: set[str] = set()

    @staticmethod
    def _get_next_net_name(basename: str) -> str:
        name, index = basename, 1
        while name in Net._net_names_used:
            name = f"{basename}_{index}"
            index += 1
        Net._net_names_used.add(name)
        return name

    def __init__(self, name_or_proto: str | caffe2_pb2.NetDef, inplace: bool = False) -> None:
        self._next_name_index = 0
        self._registered_blob_names: set[str] = set()
        self._op_sites: dict[int, tuple[str, int, str]] = {}
        if isinstance(name_or_proto, caffe2_pb2.NetDef):
            if inplace:
                self._net = name_or_proto
            else:
                self._net = caffe2_pb2.NetDef()
                self._net.CopyFrom(name_or_proto)
            prefix = self._net.name + "_blob_"
            for op in self._net.op:
                for out in op.output:
                    if out.startswith(prefix) and out[len(prefix):].isdigit():
                        self._next_name_index = max(self._next_name_index, int(out[len(prefix):]) + 1)
            name = self._net.name
        else:
            self._net = caffe2_pb2.NetDef()
            name = str(name_or_proto)
        self._net.name = Net._get_next_net_name(name)

    # -- identity --------------------------------------------------------------
    def Proto(self) -> caffe2_pb2.NetDef:
        """The live NetDef (edits to it change the net)."""
        return self._net

    def Name(self) -> str:
        return self._net.name

    def __str__(self) -> str:
        return self._net.name

    def __repr__(self) -> str:
        return f"Net({self._net.name!r}, {len(self._net.op)} ops)"

    # -- blobs -----------------------------------------------------------------
    def BlobIsDefined(self, blob: Any) -> bool:
        name = str(blob)
        return any(name in op.output for op in self._net.op) or name in self._net.external_input

    def UsesBlob(self, blob: Any) -> bool:
        name = str(blob)
        return any(name in op.input or name in op.output for op in self._net.op)

    def UsedBlobNames(self) -> set[str]:
        return {b for op in self._net.op for b in list(op.input) + list(op.output)}

    def NextName(self, prefix: str | None = None, output_id: int | None = None) -> str:
        """An unused ``<net>/<prefix>`` name (``_2``, ``_3`` ... when taken)."""
        if not prefix:
            name = f"{self._net.name}_blob_{self._next_name_index}"
            self._next_name_index += 1
            return name
        base = f"{self._net.name}/{prefix}"
        suffix = f":{output_id}" if output_id is not None else ""
        name, index = base + suffix, 2
        while self.BlobIsDefined(str(ScopedBlobReference(name))):
            name = f"{base}_{index}{suffix}"
            index += 1
        return name

    def NextBlob(self, prefix: str | None = None) -> BlobReference:
        prefix = prefix or "blob"
        name, index = prefix, 0
        while name in self._registered_blob_names or self.BlobIsDefined(name):
            name = f"{prefix}_auto_{index}"
            index += 1
        self._registered_blob_names.add(name)
        return BlobReference(name, self)

    def NextScopedBlob(self, prefix: str | None = None) -> BlobReference:
        return self.NextBlob(str(ScopedBlobReference(prefix or "blob")))

    def AddExternalInput(self, *inputs: Any) -> Any:
        """Declare external inputs; returns one BlobReference or a list of them."""
        if not inputs:
            raise NetAssertionError("AddExternalInput needs at least one input")
        seen = set(self._net.external_input)
        for blob in inputs:
            if str(blob) in seen:
                raise NetAssertionError(f"Net already contains an input named {blob}", blob=str(blob))
            seen.add(str(blob))
        self._net.external_input.extend(str(b) for b in inputs)
        refs = [BlobReference(str(b), self) for b in inputs]
        return refs[0] if len(refs) == 1 else refs

    def AddExternalOutput(self, *outputs: Any) -> Any:
        """Declare external outputs; each must be a BlobReference defined in the net."""
        for blob in outputs:
            if not isinstance(blob, BlobReference):
                raise NetAssertionError("an external output must be a BlobReference",
                                        found=type(blob).__name__)
            if not self.BlobIsDefined(blob):
                raise NetAssertionError(f"{blob} is not defined", blob=str(blob))
        self._net.external_output.extend(str(b) for b in outputs)
        return outputs[0] if len(outputs) == 1 else list(outputs)

    AddExternalInputs = AddExternalInput
    AddExternalOutputs = AddExternalOutput

    @property
    def external_inputs(self) -> list[BlobReference]:
        return [BlobReference(b, self) for b in self._net.external_input]

    @property
    def external_outputs(self) -> list[BlobReference]:
        return [BlobReference(b, self) for b in self._net.external_output]

    # -- ops -------------------------------------------------------------------
    def _CreateAndAddToSelf(self, op_type: str, inputs: Any, outputs: Any = None, **kwargs: Any) -> Any:
        refs = _rectify(inputs)
        for ref in refs:
            if not self.BlobIsDefined(ref):
                self.AddExternalInput(ref)
        if outputs is None:
            outputs = self.NextName(prefix=op_type)
        elif isinstance(outputs, int) and not isinstance(outputs, bool):
            outputs = [self.NextName(prefix=op_type, output_id=i) for i in range(outputs)]
        op = CreateOperator(op_type, refs, outputs, **kwargs)
        self._net.op.append(op)
        self._op_sites[len(self._net.op) - 1] = _caller_site()
        if len(op.output) == 0:
            return None
        if len(op.output) == 1:
            return BlobReference(op.output[0], self)
        return tuple(BlobReference(o, self) for o in op.output)

    def __getattr__(self, op_type: str) -> Any:
        if op_type.startswith("_"):
            raise AttributeError(op_type)
        if not IsOperator(op_type):
            raise _not_an_operator(op_type)
        return lambda *args, **kwargs: self._CreateAndAddToSelf(op_type, *args, **kwargs)

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(registry.registered_types()))

    def Const(self, array: Any, blob_out: Any = None, dtype: Any = None) -> BlobReference:
        """Emit the GivenTensor*Fill (or ConstantFill for a bool) that makes ``array``."""
        if isinstance(array, bool):
            return self.ConstantFill([], blob_out or 1, dtype=caffe2_pb2.TensorProto.BOOL,
                                     value=array)
        array = np.array(array) if dtype is None else np.array(array, dtype=dtype)
        if array.dtype == np.int32:
            op = "GivenTensorIntFill"
        elif array.dtype == np.int64:
            op = "GivenTensorInt64Fill"
        elif array.dtype.kind in "SUO":
            op = "GivenTensorStringFill"
        elif array.dtype == np.bool_:
            op = "GivenTensorBoolFill"
        elif array.dtype == np.float64 and dtype is not None:
            op = "GivenTensorDoubleFill"
        else:
            op = "GivenTensorFill"
        return self.__getattr__(op)([], blob_out or 1, shape=list(array.shape),
                                    values=array.flatten().tolist())

    def set_rand_seed(self, seed: int = 100, sequence_seed: bool = True,
                      seed_on_op_def: bool = False) -> None:
        """Seed every op: op i gets ``seed + i`` (``sequence_seed``), a hash of the op
        and seed (``seed_on_op_def``; a stable hash here, unlike Caffe2's per-process
        ``hash``), or ``seed`` itself."""
        if sequence_seed and seed_on_op_def:
            raise NetAssertionError("sequence_seed and seed_on_op_def cannot be both set to True.")
        for i, op in enumerate(self._net.op):
            if sequence_seed:
                current = seed + i
            elif seed_on_op_def:
                digest = hashlib.sha256((str(op) + str(seed)).encode()).digest()
                current = int.from_bytes(digest[:8], "little") % np.iinfo(np.uint32).max
            else:
                current = seed
            op.device_option.random_seed = current

    def Clone(self, name: str, blob_remap: dict | None = None, op_id_mask: list[int] | None = None,
              remap_funcs: dict | None = None, keep_schema: bool = True,
              update_external_list: bool = False) -> "Net":
        """A copy named ``name`` with blobs renamed by ``blob_remap``, keeping the ops
        of ``op_id_mask`` (all by default)."""
        remap = {str(k): str(v) for k, v in (blob_remap or {}).items()}
        new = caffe2_pb2.NetDef()
        new.CopyFrom(self._net)
        new.name = name
        del new.op[:]
        for i in op_id_mask if op_id_mask is not None else range(len(self._net.op)):
            op = caffe2_pb2.OperatorDef()
            op.CopyFrom(self._net.op[i])
            _remap(op.input, remap)
            _remap(op.output, remap)
            if remap_funcs and op.type in remap_funcs:
                remap_funcs[op.type](op, (name + "/") if name else "", remap)
            new.op.append(op)
        _remap(new.external_input, remap)
        _remap(new.external_output, remap)
        if update_external_list:
            _recompute_external_lists(new)
        return Net(new)

    def ClonePartial(self, name: str, inputs: Any, outputs: Any,
                     remap_funcs: dict | None = None) -> tuple["Net", list[BlobReference]]:
        """A net named ``name`` with only the ops needed to compute ``outputs`` from
        ``inputs`` (a list, or a dict renaming them in the clone); its other blobs get
        the prefix ``name/``, blobs it reads but never makes keep their names. Returns
        ``(net, [references to the cloned outputs])``."""
        from caffe2lite.builder.partial import clone_partial

        return clone_partial(self, name, inputs, outputs, remap_funcs)

    def reroute_tensor(self, tensor: Any, new_producer: caffe2_pb2.OperatorDef,
                       can_modify: Any = None) -> int:
        """Insert ``new_producer`` (an op reading ``tensor``) right after the last op
        making one of its inputs, and make the ops of ``can_modify`` read its first
        output instead of ``tensor``; returns how many ops were changed. Assumes no
        blob of the net is written in place."""
        from caffe2lite.builder.partial import reroute_tensor

        return reroute_tensor(self, tensor, new_producer, can_modify)

    def GetBlobRef(self, blob_name: Any) -> BlobReference:
        """A reference to a blob this net defines."""
        name = str(blob_name)
        if not self.BlobIsDefined(name):
            raise NetAssertionError(f"{name} is not defined", blob=name)
        return BlobReference(name, self)

    def PopulateProtoWithFileName(self) -> None:
        """Name each op built through this object after where it was built:
        ``<file>:<line>:<function>`` of the calling code (as Caffe2 did to point
        errors at the Python line)."""
        for index, op in enumerate(self._net.op):
            site = self._op_sites.get(index)
            if site is not None:
                op.name = ":".join(str(part) for part in site)

    def _CheckLookupTables(self) -> None:
        """Check this object's bookkeeping against its NetDef (external inputs are
        declared once; every auto-named blob is still unique)."""
        seen: set[str] = set()
        for blob in self._net.external_input:
            if blob in seen:
                raise NetAssertionError(f"external input {blob} is declared twice", blob=blob)
            seen.add(blob)

    def Python(self, f: Any, grad_f: Any = None, python_func_type: Any = None,
               pass_workspace: bool = False, grad_output_indices: list[int] | None = None,
               grad_input_indices: list[int] | None = None) -> Any:
        """Caffe2's ``net.Python(f)(inputs, outputs)``: a ``Python`` op that runs
        ``f(inputs, outputs)`` (``f(inputs, outputs, workspace)`` with
        ``pass_workspace``) in this process. ``f`` may be a builder tuple
        ``(make, args, kwargs)``: each op instance then runs ``make(*args, **kwargs)``."""
        from caffe2lite.ops.utility.python_op import register_python_function

        token = register_python_function(f, grad_f, python_func_type, pass_workspace)
        extra = {}
        if grad_output_indices is not None:
            extra["grad_output_indices"] = list(grad_output_indices)
        if grad_input_indices is not None:
            extra["grad_input_indices"] = list(grad_input_indices)

        def add(*args: Any, **kwargs: Any) -> Any:
            # args are the inputs and outputs, never also among the keywords
            return self._CreateAndAddToSelf(  # type: ignore[misc]
                "Python", *args, token=token, **extra, **kwargs
            )

        return add

    def AppendNet(self, net: Any, device_option: Any = None) -> "Net":
        other = net.Proto() if hasattr(net, "Proto") else net
        for op in other.op:
            new = self._net.op.add()
            new.CopyFrom(op)
            if device_option is not None:
                new.device_option.CopyFrom(device_option)
        for b in other.external_input:
            if not self.BlobIsDefined(b):
                self._net.external_input.append(b)
        for b in other.external_output:
            if b not in self._net.external_output:
                self._net.external_output.append(b)
        return self

    def RunAllOnGPU(self, gpu_id: int = 0, use_cudnn: bool = False) -> None:
        """Caffe2's switch of a whole net to GPU ``gpu_id`` (the net's device option; the
        CUDNN engine on every op with ``use_cudnn``). caffe2lite runs every device
        option on the CPU, so scripts that call it run unchanged."""
        self._net.device_option.CopyFrom(
            caffe2_pb2.DeviceOption(device_type=caffe2_pb2.CUDA, device_id=gpu_id))
        if use_cudnn:
            for op in self._net.op:
                op.engine = "CUDNN"

    def RunAllOnMKL(self) -> None:
        """Caffe2's switch of a whole net to MKLDNN (runs on the CPU here)."""
        self._net.device_option.CopyFrom(caffe2_pb2.DeviceOption(device_type=caffe2_pb2.MKLDNN))

    def RunAllOnIDEEP(self) -> None:
        """Caffe2's switch of a whole net to IDEEP (runs on the CPU here)."""
        self._net.device_option.CopyFrom(caffe2_pb2.DeviceOption(device_type=caffe2_pb2.IDEEP))

    def AddGradientOperators(self, ys: Any, skip: int = 0) -> dict:
        """Append the backward pass of ``ys`` and return ``{blob: gradient}``."""
        grad_ops, input_to_grad = GradientRegistry.GetBackwardPass(self._net.op[skip:], ys)
        self._net.op.extend(grad_ops)
        return input_to_grad


def _recompute_external_lists(net: caffe2_pb2.NetDef) -> None:
    """External inputs: blobs read before any op makes them; external outputs: blobs
    made and never read afterwards (Caffe2's Clone(update_external_list=True))."""
    made: set[str] = set()
    read_after_made: set[str] = set()
    inputs: list[str] = []
    for op in net.op:
        for blob in op.input:
            if blob in made:
                read_after_made.add(blob)
            elif blob not in inputs:
                inputs.append(blob)
        made.update(op.output)
    del net.external_input[:]
    net.external_input.extend(inputs)
    del net.external_output[:]
    net.external_output.extend(sorted(made - read_after_made))


def _caller_site() -> tuple[str, int, str]:
    """(file, line, function) of the first frame outside caffe2lite."""
    import os
    import sys

    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    from types import FrameType

    frame: FrameType | None = sys._getframe(1)
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(package):
        frame = frame.f_back
    if frame is None:
        return ("", 0, "")
    return (frame.f_code.co_filename, frame.f_lineno, frame.f_code.co_name)


def _remap(field: Any, remap: dict[str, str]) -> None:
    values = [remap.get(b, b) for b in field]
    del field[:]
    field.extend(values)

