"""Operators and blob references: the part of Caffe2's ``core`` that builds
OperatorDefs (:func:`CreateOperator`, :class:`BlobReference`, :func:`DeviceOption`,
scoped names). :mod:`caffe2lite.core` is the public face.
"""

from __future__ import annotations

from typing import Any

from caffe2lite.schema import registry
from caffe2lite.io.arguments import make_argument
from caffe2lite.errors import BlobTypeError, OperatorAttributeError, did_you_mean
from caffe2lite.proto import caffe2_pb2
from caffe2lite.runtime import api as _immediate
from caffe2lite.scope import CurrentDeviceScope, CurrentNameScope

DataType = caffe2_pb2.TensorProto.DataType


def ScopedName(name: str) -> str:
    """``name`` with the current name-scope prefix."""
    return CurrentNameScope() + name


def IsOperator(op_type: str) -> bool:
    """Whether ``op_type`` is a registered operator."""
    return registry.find(op_type) is not None


def IsOperatorWithEngine(op_type: str, engine: str) -> bool:
    """Whether ``op_type`` is registered for ``engine`` (``""`` and ``"DEFAULT"`` both
    name the default engine, as in Caffe2's registry keys)."""
    if engine in ("", "DEFAULT"):
        engine = ""
    return (op_type, engine) in registry.OPERATORS


class _RegisteredOperators:
    """Caffe2's ``core._REGISTERED_OPERATORS``: the registry keys (``Type`` for the
    default engine, ``Type_ENGINE_Name`` otherwise), always current."""

    def _keys(self) -> set[str]:
        return {t if not e else f"{t}_ENGINE_{e}" for t, e in registry.OPERATORS}

    def __contains__(self, key: object) -> bool:
        return key in self._keys()

    def __iter__(self) -> Any:
        return iter(sorted(self._keys()))

    def __len__(self) -> int:
        return len(registry.OPERATORS)

    def __repr__(self) -> str:
        return f"<{len(self)} registered operators>"


_REGISTERED_OPERATORS = _RegisteredOperators()


def IsGPUDeviceType(device_type: int) -> bool:
    """Whether ``device_type`` is a GPU (CUDA or HIP) device."""
    return device_type in (caffe2_pb2.CUDA, caffe2_pb2.HIP)


def InferOpBlobDevicesAsDict(op: caffe2_pb2.OperatorDef) -> tuple[dict, dict]:
    """``({input: DeviceOption}, {output: DeviceOption})``. Every blob of a CPU
    operator lives where the op runs: its device option (the default one when unset)."""
    option = op.device_option if op.HasField("device_option") else caffe2_pb2.DeviceOption()
    return ({b: option for b in op.input}, {b: option for b in op.output})


def InferOpBlobDevices(op: caffe2_pb2.OperatorDef) -> tuple[list, list]:
    """The device options of the op's inputs and outputs, in order."""
    option = op.device_option if op.HasField("device_option") else caffe2_pb2.DeviceOption()
    return ([option] * len(op.input), [option] * len(op.output))


def DeviceOption(
    device_type: int,
    device_id: int = 0,
    random_seed: int | None = None,
    node_name: str | None = None,
    numa_node_id: int | None = None,
    extra_info: list[str] | None = None,
) -> caffe2_pb2.DeviceOption:
    """Build a DeviceOption (``random_seed`` seeds the random ops that carry it)."""
    option = caffe2_pb2.DeviceOption()
    option.device_type = device_type
    option.device_id = device_id
    if node_name is not None:
        option.node_name = node_name
    if random_seed is not None:
        option.random_seed = random_seed
    if numa_node_id is not None:
        option.numa_node_id = numa_node_id
    if extra_info is not None:
        option.extra_info.extend(extra_info)
    return option


class BlobReference:
    """A blob name, and the net it came from (for ``blob.SomeOp(...)``).

    >>> b = BlobReference("X"); (b == "X", str(b + "_grad"), repr(b))
    (True, 'X_grad', 'BlobReference("X")')
    """

    def __init__(self, name: str | bytes, net: Any = None) -> None:
        self._name = name.decode("utf-8") if isinstance(name, bytes) else str(name)
        self._from_net = net
        self.meta: dict[str, Any] = {}

    def __hash__(self) -> int:
        return hash(self._name)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            return self._name == other
        if isinstance(other, BlobReference):
            return self._name == other._name
        return False

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __str__(self) -> str:
        return self._name

    def __repr__(self) -> str:
        return f'BlobReference("{self._name}")'

    def __add__(self, other: str) -> "BlobReference":
        if not isinstance(other, str):
            raise BlobTypeError("Cannot add BlobReference to a non-string.",
                                expected="str", found=type(other).__name__)
        return BlobReference(self._name + other, self._from_net)

    def __radd__(self, other: str) -> "BlobReference":
        if not isinstance(other, str):
            raise BlobTypeError("Cannot add a non-string to BlobReference.",
                                expected="str", found=type(other).__name__)
        return BlobReference(other + self._name, self._from_net)

    def Net(self) -> Any:
        return self._from_net

    def GetNameScope(self) -> str:
        return self._name[: self._name.rfind("/") + 1]

    def GetUnscopedName(self) -> str:
        return self._name[self._name.rfind("/") + 1:]

    def _CreateAndAddToNet(self, op_type: str, inputs: Any = None, *args: Any, **kwargs: Any) -> Any:
        inputs = _rectify(inputs) if inputs is not None else []
        inputs.insert(0, self)
        return self._from_net.__getattr__(op_type)(inputs, *args, **kwargs)

    def __getattr__(self, op_type: str) -> Any:
        if op_type.startswith("_"):
            raise AttributeError(op_type)
        if self._from_net is None:
            raise AttributeError(
                "You cannot use a blob reference that does not have a net source to create "
                "operators. Create the operator from an explicit net object.")
        if not IsOperator(op_type):
            raise _not_an_operator(op_type)
        return lambda *args, **kwargs: self._CreateAndAddToNet(op_type, *args, **kwargs)

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(registry.registered_types()))


def ScopedBlobReference(name: str, *args: Any, **kwargs: Any) -> BlobReference:
    """A BlobReference whose name has the current name-scope prefix."""
    return BlobReference(ScopedName(name), *args, **kwargs)


def _not_an_operator(op_type: str) -> OperatorAttributeError:
    near = did_you_mean(op_type, registry.registered_types())
    names = near[len("; did you mean "):-1].replace(" or ", ",").replace("'", "") if near else ""
    return OperatorAttributeError(
        f"Method {op_type} is not a registered operator. Did you mean: [{names}]",
        found=repr(op_type))


def _rectify(blobs: Any, net: Any = None) -> list[BlobReference]:
    """Caffe2's _RectifyInputOutput: str / BlobReference / list of them -> references."""
    if isinstance(blobs, (str, bytes)):
        return [ScopedBlobReference(blobs.decode() if isinstance(blobs, bytes) else blobs, net)]
    if isinstance(blobs, BlobReference):
        return [blobs]
    if isinstance(blobs, (list, tuple)):
        out = []
        for i, blob in enumerate(blobs):
            if isinstance(blob, str):
                out.append(ScopedBlobReference(blob, net))
            elif isinstance(blob, BlobReference):
                out.append(blob)
            else:
                raise BlobTypeError(f"I/O blob #{i} of unsupported type: {blob} of type {type(blob)}")
        return out
    raise BlobTypeError(f"Unknown input/output type: {blobs} of type {type(blobs)}.")


def CreateOperator(
    operator_type: str,
    inputs: Any,
    outputs: Any,
    name: str = "",
    control_input: Any = None,
    device_option: caffe2_pb2.DeviceOption | None = None,
    arg: Any = None,
    engine: str | None = None,
    debug_info: str | None = None,
    **kwargs: Any,
) -> caffe2_pb2.OperatorDef:
    """Build an OperatorDef (it is not run). Keyword arguments become Arguments by
    Caffe2's MakeArgument rules; ``random_seed`` goes to the device option.

    >>> op = CreateOperator("SparseDropoutWithReplacement", ["X", "L"], ["Y", "LO"],
    ...                     ratio=0.5, replacement_value=-1)
    >>> (op.type, list(op.input), op.arg[0].name, op.arg[0].f)
    ('SparseDropoutWithReplacement', ['X', 'L'], 'ratio', 0.5)
    """
    operator = caffe2_pb2.OperatorDef()
    operator.type = operator_type
    operator.name = name
    operator.input.extend(str(i) for i in _rectify(inputs))
    operator.output.extend(str(o) for o in _rectify(outputs))
    if control_input:
        operator.control_input.extend(str(i) for i in _rectify(control_input))
    if device_option is not None:
        operator.device_option.CopyFrom(device_option)
    elif CurrentDeviceScope() is not None:
        operator.device_option.CopyFrom(CurrentDeviceScope())
    if engine is not None:
        operator.engine = engine
    if debug_info is not None:
        operator.debug_info = debug_info
    if "random_seed" in kwargs:
        operator.device_option.random_seed = kwargs.pop("random_seed")
    if arg is not None:
        operator.arg.extend(arg)
    for key, value in kwargs.items():
        if value is not None:
            operator.arg.add().CopyFrom(make_argument(key, value))
    if _immediate.IsImmediate():
        _immediate.RunOperatorImmediate(operator)
    return operator


def CreatePythonOperator(f: Any, inputs: Any, outputs: Any, grad_f: Any = None,
                         pass_workspace: bool = False, python_func_type: Any = None,
                         *args: Any, **kwargs: Any) -> caffe2_pb2.OperatorDef:
    """A ``Python`` op running ``f(inputs, outputs)`` in this process (its gradient,
    ``PythonGradient``, runs ``grad_f``); see ``ops/utility/python_op.py``."""
    from caffe2lite.ops.utility.python_op import register_python_function

    kwargs["token"] = register_python_function(f, grad_f, python_func_type, pass_workspace)
    return CreateOperator("Python", inputs, outputs, *args, **kwargs)


def SetEnginePref(op_engine_pref: dict, global_engine_pref: dict) -> None:
    """Caffe2's engine preferences: ``{device_type: {op_type: [engines]}}`` and
    ``{device_type: [engines]}``, tried for ops that name no engine."""
    from caffe2lite.runtime.engines import set_engine_pref

    set_engine_pref(op_engine_pref, global_engine_pref)
