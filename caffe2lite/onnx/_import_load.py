"""Reading an untrusted ONNX model: parse, check, opset, inferred value types.

Whatever the input (a path, bytes, a file object or an ``onnx.ModelProto``), a model
that does not parse or fails ``onnx.checker`` is an :class:`OnnxImportError` naming
the source, never a raw protobuf error. onnx itself is imported here, lazily.
"""

from __future__ import annotations

import os
from typing import Any

from caffe2lite.errors import Caffe2LiteError


class OnnxImportError(Caffe2LiteError):
    """An ONNX model that caffe2lite cannot import (or onnx is not installed)."""


OnnxImportError.__module__ = "caffe2lite.onnx.backend"  # where users import it from


def onnx_module() -> Any:
    try:
        import onnx
        import onnx.checker
        import onnx.numpy_helper
        import onnx.shape_inference
    except ImportError:
        raise OnnxImportError(
            "importing ONNX models needs the onnx package: pip install 'caffe2lite[onnx]'"
        ) from None
    return onnx


def load_model(model: Any) -> Any:
    """An ``onnx.ModelProto`` from a ModelProto, bytes, a path or a binary file object,
    parsed and checked."""
    onnx = onnx_module()
    where = "the ONNX model"
    folder = None
    if isinstance(model, onnx.ModelProto):
        proto = model
    else:
        if isinstance(model, (bytes, bytearray, memoryview)):
            data = bytes(model)
        elif isinstance(model, (str, os.PathLike)):
            where = f"ONNX file '{os.fspath(model)}'"
            folder = os.path.dirname(os.path.abspath(os.fspath(model)))
            try:
                with open(model, "rb") as f:
                    data = f.read()
            except OSError as e:
                raise OnnxImportError(f"cannot read {where}: {e.strerror or e}") from None
        elif hasattr(model, "read"):
            data = model.read()
        else:
            raise OnnxImportError(
                "expected an ONNX model as a path, bytes or onnx.ModelProto, "
                f"found {type(model).__name__}")
        proto = onnx.ModelProto()
        try:
            proto.ParseFromString(data)
        except Exception as e:  # noqa: BLE001  (untrusted bytes: any parse failure is ours)
            raise OnnxImportError(
                f"{where} is not a valid ONNX model: it does not parse as an ONNX "
                f"ModelProto ({type(e).__name__}: {e}); the file may be truncated or "
                "not an ONNX file") from None
        if folder is not None and _uses_external_data(proto):
            from onnx.external_data_helper import load_external_data_for_model
            try:
                load_external_data_for_model(proto, folder)
            except Exception as e:  # noqa: BLE001  (missing or bad files: say so)
                raise OnnxImportError(
                    f"cannot load the external data of {where}: {e}") from None
    try:
        onnx.checker.check_model(proto)
    except Exception as e:  # noqa: BLE001  (ValidationError, or a C++ error on odd input)
        raise OnnxImportError(f"{where} is not a valid ONNX model: {e}") from None
    bad = _non_utf8_name(proto.graph)
    if bad is not None:
        raise OnnxImportError(f"{where} is not a valid ONNX model: the name {bad!r} "
                              "is not valid UTF-8")
    return proto


def _non_utf8_name(g: Any) -> str | None:
    """A node, value or initializer name that is not valid UTF-8 (protobuf's proto2
    strings are not checked when parsed; a Caffe2 NetDef could not hold it)."""
    names = [g.name]
    names += [vi.name for vi in list(g.input) + list(g.output) + list(g.value_info)]
    names += [t.name for t in g.initializer]
    for node in g.node:
        names += [node.name, node.op_type, node.domain, *node.input, *node.output]
    for name in names:
        if isinstance(name, bytes):  # how protobuf hands back a string it cannot decode
            return name.decode("utf-8", "replace")
        try:
            name.encode("utf-8")
        except UnicodeEncodeError:
            return name
    return None


def _uses_external_data(proto: Any) -> bool:
    return any(t.data_location == 1 for t in proto.graph.initializer)


def model_opset(proto: Any, opset_version: int | None) -> int:
    if opset_version is not None:
        return int(opset_version)
    for imp in proto.opset_import:
        if imp.domain in ("", "ai.onnx"):
            return int(imp.version)
    raise OnnxImportError("the ONNX model does not import the default ('') operator set")


def value_types(proto: Any) -> dict[str, tuple[Any, int]]:
    """Inferred (dims, elem_type) of every value ONNX shape inference can type."""
    onnx = onnx_module()
    try:
        inferred = onnx.shape_inference.infer_shapes(proto, data_prop=True)
    except Exception:  # noqa: BLE001  (inference is a help, not a requirement)
        inferred = proto
    g = inferred.graph
    types = {}
    for vi in list(g.input) + list(g.value_info) + list(g.output):
        tt = vi.type.tensor_type
        if not vi.type.HasField("tensor_type"):
            continue
        dims = None
        if tt.HasField("shape"):
            dims = tuple(d.dim_value if d.HasField("dim_value") else None
                         for d in tt.shape.dim)
        types[vi.name] = (dims, tt.elem_type)
    return types
