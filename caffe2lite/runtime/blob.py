"""One blob of a workspace, as Caffe2's Python binding showed it: ``C.Blob`` (feed,
fetch, serialize to a ``BlobProto``, deserialize) and ``C.TensorCPU`` (``blob.tensor()``,
a live view whose ``data`` is the blob's own array).

Blob values are kept in a plain dict (name -> value) owned by the workspace; these
objects are handles on one entry of it.
"""

from __future__ import annotations

from typing import Any, MutableMapping

import numpy as np

from caffe2lite.errors import ApiTypeError, BlobNotFoundError, BlobTypeError, EnforceError
from caffe2lite.proto import caffe2_pb2

Blobs = MutableMapping[str, Any]

# Caffe2 counted a string element of a tensor as sizeof(std::string) plus its bytes.
STRING_ITEM_BYTES = 32


def feed_value(value: Any) -> Any:
    """What the workspace stores for ``value``: a C-contiguous native-order copy of an
    array (strings as an object array of bytes), ``bytes`` for a str/bytes."""
    if isinstance(value, caffe2_pb2.TensorProto):
        from caffe2lite.io.tensor import tensor_to_numpy

        value = tensor_to_numpy(value)
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "SUO":
            items = [v.encode("utf-8") if isinstance(v, str) else v for v in value.ravel().tolist()]
            out = np.empty(len(items), dtype=object)
            out[:] = items
            return out.reshape(value.shape)
        if not value.dtype.isnative:
            return value.astype(value.dtype.newbyteorder("="), order="C")
        return np.array(value, copy=True, order="C")
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, bytes):
        return value
    if type(value).__name__ == "Int8Tensor":
        return value
    raise BlobTypeError(
        "Unexpected type of argument - only numpy array or string are supported for feeding",
        expected="numpy.ndarray, str, bytes or TensorProto", found=type(value).__name__)


def size_bytes(value: Any) -> int:
    """Caffe2's ``GetBlobSizeBytes``: a tensor's bytes (a string element counts as
    sizeof(std::string) plus its length); 0 for a blob that is not a tensor."""
    data = getattr(value, "data", value) if type(value).__name__ == "Int8Tensor" else value
    if not isinstance(data, np.ndarray):
        return 0
    if data.dtype == object:
        return data.size * STRING_ITEM_BYTES + sum(len(v) for v in data.ravel().tolist()
                                                   if isinstance(v, (bytes, str)))
    return int(data.nbytes)


def serialize(name: str, value: Any) -> bytes:
    """A BlobProto (serialised) holding ``value`` under ``name``."""
    from caffe2lite.io.tensor import numpy_to_tensor

    proto = caffe2_pb2.BlobProto(name=name)
    if isinstance(value, np.ndarray):
        proto.type = "Tensor"
        proto.tensor.CopyFrom(numpy_to_tensor(value, name))
    elif isinstance(value, bytes):
        proto.type = "std::string"
        proto.content = value
    elif value is None:
        raise BlobNotFoundError(f"blob {name} is empty: nothing to serialize", blob=name)
    else:
        raise BlobTypeError(f"No known serializer for {type(value).__name__}.", blob=name)
    return proto.SerializeToString()


def deserialize(data: Any) -> tuple[str, Any]:
    """``(name, value)`` from a serialised BlobProto."""
    from caffe2lite.io.tensor import tensor_to_numpy

    if isinstance(data, str):
        raise ApiTypeError("deserialize() takes the bytes of a BlobProto",
                           expected="bytes", found="str")
    from caffe2lite.errors import ProtoParseError
    from caffe2lite.io.protoio import parse_message

    try:  # the loaders' checks (nesting, sizes, UTF-8, tensor dims) apply here too
        proto = parse_message(bytes(data), caffe2_pb2.BlobProto, fmt="binary")
    except ProtoParseError as e:
        raise EnforceError(f"cannot parse a BlobProto: {e}") from None
    if proto.type == "Tensor" or proto.HasField("tensor"):
        return proto.name, tensor_to_numpy(proto.tensor)
    if proto.type == "std::string":
        return proto.name, bytes(proto.content)
    raise BlobTypeError(f"No known deserializer for {proto.type}.", blob=proto.name,
                        expected="Tensor or std::string", found=repr(proto.type))


class TensorCPU:
    """``blob.tensor()``: the blob's tensor, in place. ``data`` is the stored array
    itself, so writing into it changes the blob (Caffe2's ``C.TensorCPU``)."""

    def __init__(self, blobs: Blobs, name: str) -> None:
        self._blobs, self._name = blobs, name

    @property
    def data(self) -> np.ndarray:
        value = self._blobs.get(self._name)
        if not isinstance(value, np.ndarray):
            raise BlobTypeError(f"blob {self._name} does not hold a tensor", blob=self._name,
                                found=type(value).__name__)
        return value

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.data.shape)

    @property
    def _shape(self) -> tuple[int, ...]:
        return self.shape

    def init(self, dims: Any, caffe_type: int) -> None:
        """Give the blob a fresh tensor of ``dims`` and TensorProto type ``caffe_type``."""
        from caffe2lite.io.tensor import dtype_from_name_or_enum

        if caffe_type == caffe2_pb2.TensorProto.STRING:
            raise EnforceError("Cannot initialize a string tensor from Python.",
                               expected="a numeric data type", found="STRING")
        self._blobs[self._name] = np.zeros(tuple(int(d) for d in dims),
                                           dtype=dtype_from_name_or_enum(caffe_type))

    def reshape(self, dims: Any) -> None:
        """Caffe2's Tensor::Resize: keep the data when the size is unchanged."""
        dims = tuple(int(d) for d in dims)
        value = self._blobs.get(self._name)
        if isinstance(value, np.ndarray) and value.size == int(np.prod(dims)):
            self._blobs[self._name] = value.reshape(dims)
        else:
            dtype = value.dtype if isinstance(value, np.ndarray) else np.float32
            self._blobs[self._name] = np.zeros(dims, dtype=dtype)

    def feed(self, value: Any) -> bool:
        self._blobs[self._name] = feed_value(value)
        return True

    def fetch(self) -> np.ndarray:
        return self.data.copy()


class Blob:
    """A handle on one named blob of a workspace (Caffe2's ``C.Blob``)."""

    def __init__(self, ws: Any, name: str) -> None:
        self._ws, self._name = ws, name

    def feed(self, arg: Any, device_option: Any = None) -> bool:
        """Store a copy of ``arg`` (an array, a str/bytes, or a TensorProto)."""
        self._ws._blobs[self._name] = feed_value(arg)
        return True

    def fetch(self) -> Any:
        """A copy of the blob's array (``bytes`` for a string blob)."""
        return self._ws.fetch_blob(self._name)

    def is_tensor(self) -> bool:
        return isinstance(self._ws._blobs.get(self._name), np.ndarray)

    def tensor(self) -> TensorCPU:
        """The blob's tensor, in place (writes to ``tensor().data`` change the blob)."""
        return TensorCPU(self._ws._blobs, self._name)

    def serialize(self, name: str) -> bytes:
        """This blob as a serialised BlobProto named ``name``."""
        return serialize(name, self._ws._blobs.get(self._name))

    def deserialize(self, data: bytes) -> None:
        """Replace this blob's value with the one a serialised BlobProto holds."""
        self._ws._blobs[self._name] = deserialize(data)[1]

    def __repr__(self) -> str:
        return f"Blob({self._name!r})"
