"""Blobs <-> serialized ``BlobProto`` records, laid out as Caffe2's serializer wrote them.

What Caffe2's ``SerializeBlob`` gave for each kind of blob (one ``(key, bytes)``
record each, in this order):

* a tensor (a numpy array here; STRING tensors are object arrays of ``bytes``): one
  record per chunk of at most ``chunk_size`` elements of the flattened tensor (one
  record for an empty tensor), keyed ``<name>#%<chunk index>``. Each value is a
  BlobProto ``{name, type: "Tensor", tensor}`` whose TensorProto holds the whole
  tensor's ``dims``, ``data_type``, ``segment {begin, end}`` (the chunk's element
  range), ``name``, ``device_detail {device_type: 0}`` (CPU), the chunk's values in
  the type's field (see :mod:`caffe2lite.io.tensor`) and, for FLOAT,
  ``data_format: FMT_PROTOBUF`` (the last Caffe2 releases set it explicitly).
* a string blob (``bytes``): one record keyed ``<name>``, a BlobProto
  ``{name, type: "std::string", content}``.

Caffe2's default chunk size (its flag ``caffe2_tensor_chunk_size``) is 1,000,000
elements; :data:`NO_CHUNKING` writes every tensor as one chunk. Protobuf writes the
fields of a message in field-number order, so these bytes are Caffe2's bytes.

Reading is :class:`BlobAssembler`: records go in one at a time, the key is turned
into a blob name (the ``#%`` suffix cut, Caffe2's ``strip_prefix`` / ``add_prefix``
applied), chunks are counted as Caffe2's ``ProcessBlob`` counted them (with its
messages), and :meth:`BlobAssembler.finish` checks that every blob is complete and
builds the arrays. Nothing here unpickles or runs code: a value is a protobuf message
and only numbers, bytes and strings come out of it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from caffe2lite.errors import (
    BlobNotFoundError,
    BlobTypeError,
    EnforceError,
    ProtoParseError,
)
from caffe2lite.io.tensor import DTYPES, numpy_to_tensor, tensor_to_numpy
from caffe2lite.proto import caffe2_pb2

BlobProto = caffe2_pb2.BlobProto
TensorProto = caffe2_pb2.TensorProto


def _options_classes() -> tuple[type, type]:
    """Caffe2's ``BlobSerializationOptions`` {blob_name_regex = 1, chunk_size = 2
    (int64), float_format = 3 (FLOAT_DEFAULT, FLOAT_PROTOBUF, FLOAT_BFLOAT16)} and
    ``SerializationOptions`` {repeated options = 1}, which caffe2lite's caffe2.proto
    lacks, built here with the same field numbers (the bytes Caffe2 wrote parse)."""
    from google.protobuf import descriptor_pb2

    from caffe2lite.io.dynproto import message_classes

    f = descriptor_pb2.FieldDescriptorProto
    proto = descriptor_pb2.FileDescriptorProto(
        name="caffe2lite/io/serialization_options.proto", package="caffe2lite.serde",
        syntax="proto2")
    blob = proto.message_type.add(name="BlobSerializationOptions")
    blob.enum_type.add(name="FloatFormat").value.extend([
        descriptor_pb2.EnumValueDescriptorProto(name=n, number=i)
        for i, n in enumerate(["FLOAT_DEFAULT", "FLOAT_PROTOBUF", "FLOAT_BFLOAT16"])])
    blob.field.add(name="blob_name_regex", number=1, label=f.LABEL_OPTIONAL,
                   type=f.TYPE_STRING)
    blob.field.add(name="chunk_size", number=2, label=f.LABEL_OPTIONAL, type=f.TYPE_INT64)
    blob.field.add(name="float_format", number=3, label=f.LABEL_OPTIONAL, type=f.TYPE_ENUM,
                   type_name=".caffe2lite.serde.BlobSerializationOptions.FloatFormat")
    options = proto.message_type.add(name="SerializationOptions")
    options.field.add(name="options", number=1, label=f.LABEL_REPEATED, type=f.TYPE_MESSAGE,
                      type_name=".caffe2lite.serde.BlobSerializationOptions")
    classes = message_classes(proto, ("BlobSerializationOptions", "SerializationOptions"))
    return classes["BlobSerializationOptions"], classes["SerializationOptions"]


BlobSerializationOptions, SerializationOptions = _options_classes()
FLOAT_BFLOAT16 = 2

TENSOR_TYPE = "Tensor"
STRING_TYPE = "std::string"
CHUNK_ID_SEPARATOR = "#%"
DEFAULT_CHUNK_SIZE = 1_000_000
NO_CHUNKING = -1


def blob_name_from_key(key: str, strip_prefix: str = "", add_prefix: str = "") -> str:
    """Caffe2's ``buildBlobNameFromDbKey``: the key up to ``#%``, then everything up to
    and including the first ``strip_prefix`` removed, then ``add_prefix`` put in front.

    >>> blob_name_from_key("gpu_0/w#%3", "gpu_0/", "m/")
    'm/w'
    """
    cut = key.find(CHUNK_ID_SEPARATOR)
    name = key if cut < 0 else key[:cut]
    if strip_prefix:
        at = name.find(strip_prefix)
        if at >= 0:
            name = name[at + len(strip_prefix):]
    return add_prefix + name


def serialize_blob(name: str, value: Any, chunk_size: int = DEFAULT_CHUNK_SIZE,
                   bfloat16: bool = False) -> list[tuple[str, bytes]]:
    """The ``(key, serialized BlobProto)`` records Caffe2 wrote for blob ``name``.

    ``chunk_size`` is a positive number of elements or :data:`NO_CHUNKING`;
    ``bfloat16`` writes a float32 tensor as bfloat16 (Caffe2's FLOAT_BFLOAT16).

    >>> [k for k, _ in serialize_blob("x", np.arange(5, dtype=np.int32), chunk_size=2)]
    ['x#%0', 'x#%1', 'x#%2']
    """
    if isinstance(value, bytes):
        proto = BlobProto(name=name, type=STRING_TYPE, content=value)
        return [(name, proto.SerializeToString())]
    if value is None:
        raise BlobNotFoundError(f"blob {name} is empty: nothing to serialize", blob=name)
    if not isinstance(value, np.ndarray):
        raise BlobTypeError(f"No known serializer for {type(value).__name__}.", blob=name)
    if chunk_size != NO_CHUNKING and (isinstance(chunk_size, bool) or chunk_size < 1):
        raise EnforceError("chunk_size must be a positive number of elements or -1 "
                           "(no chunking)", expected="an int >= 1 or -1", found=chunk_size)
    flat = value.reshape(-1)
    n = flat.size
    step = n + 1 if chunk_size == NO_CHUNKING else int(chunk_size)
    records = []
    for begin in range(0, max(n, 1), step):
        end = min(begin + step, n)
        records.append((f"{name}{CHUNK_ID_SEPARATOR}{begin // step}",
                        _tensor_chunk(name, flat[begin:end], value.shape, begin, end,
                                      bfloat16)))
    return records


def _tensor_chunk(name: str, part: np.ndarray, shape: tuple, begin: int, end: int,
                  bfloat16: bool = False) -> bytes:
    if bfloat16 and part.dtype == np.float32:
        tensor = TensorProto(data_type=TensorProto.FLOAT, name=name,
                             data_format=TensorProto.FMT_BFLOAT16,
                             raw_data=to_bfloat16_bytes(part))
    else:
        tensor = numpy_to_tensor(part, name)
        if tensor.data_type == TensorProto.FLOAT:
            tensor.data_format = TensorProto.FMT_PROTOBUF
    del tensor.dims[:]
    tensor.dims.extend(shape)
    tensor.segment.begin = begin
    tensor.segment.end = end
    tensor.device_detail.device_type = caffe2_pb2.PROTO_CPU
    proto = BlobProto(name=name, type=TENSOR_TYPE)
    proto.tensor.CopyFrom(tensor)
    return proto.SerializeToString()


def to_bfloat16_bytes(values: np.ndarray) -> bytes:
    """float32 -> bfloat16 as Caffe2's fbgemm conversion did (2**15 added to the bits,
    then the high half kept: round to nearest, ties away from zero), little-endian."""
    bits = np.ascontiguousarray(values, dtype=np.float32).view(np.uint32).astype(np.uint64)
    return ((bits + (1 << 15)) >> 16).astype("<u2").tobytes()


def blob_options(name: str, options: Any) -> tuple[int, bool]:
    """``(chunk_size, bfloat16)`` for blob ``name`` from a SerializationOptions: the
    first entry whose ``blob_name_regex`` is empty or matches the whole name (Caffe2's
    GetBlobOptions); a chunk_size of 0 is the default, -1 no chunking."""
    import re

    for entry in getattr(options, "options", ()):
        regex = entry.blob_name_regex
        if not regex or re.fullmatch(regex, name):
            size = entry.chunk_size
            chunk = DEFAULT_CHUNK_SIZE if size == 0 else NO_CHUNKING if size == -1 else size
            return int(chunk), entry.float_format == FLOAT_BFLOAT16
    return DEFAULT_CHUNK_SIZE, False


def parse_blob_proto(data: bytes, where: str = "") -> BlobProto:
    """Parse one serialized BlobProto; ``where`` names the record in errors."""
    from caffe2lite.io.protoio import parse_message

    try:  # the loaders' checks (nesting, sizes, tensor dims) apply to saved blobs too
        return parse_message(bytes(data), BlobProto, name=where or "<bytes>", fmt="binary")
    except ProtoParseError as e:
        raise ProtoParseError(f"Couldn't parse Proto{': ' + where if where else ''} "
                              f"(not a BlobProto: {e})") from None


@dataclass
class _BlobState:
    """Caffe2's ``BlobState`` plus what is needed to build the value."""

    total: int = 0
    current: int = 0
    is_tensor: bool = False
    tensor: TensorProto | None = None  # the first chunk (dims, data type)
    parts: list[tuple[int, np.ndarray]] = field(default_factory=list)
    value: Any = None


class BlobAssembler:
    """Blobs from BlobProto records, checked as Caffe2's Load checked them.

    >>> asm = BlobAssembler()
    >>> for key, data in serialize_blob("x", np.arange(3.0), chunk_size=2):
    ...     asm.add(key, data)
    'x'
    'x'
    >>> asm.finish()["x"]
    array([0., 1., 2.])
    """

    def __init__(self, strip_prefix: str = "", add_prefix: str = "") -> None:
        self.strip_prefix, self.add_prefix = strip_prefix, add_prefix
        self.states: dict[str, _BlobState] = {}
        self.loaded = 0  # blobs complete so far (Caffe2's loaded_blobs)

    def name_of(self, key: str) -> str:
        return blob_name_from_key(key, self.strip_prefix, self.add_prefix)

    def add(self, key: str, data: bytes, where: str = "") -> str:
        """Take one record; returns the blob name it belongs to."""
        name = self.name_of(key)
        proto = parse_blob_proto(data, where or f"key {key!r}")
        state = self.states.get(name)
        if proto.HasField("content_num_chunks"):
            raise EnforceError(f"No registered deserializer for type {proto.type}",
                               blob=name, expected="a Tensor or std::string blob",
                               found=f"a blob of type {proto.type!r} in content chunks")
        if proto.type != TENSOR_TYPE:
            value = self._non_tensor(proto, name)
            if state is not None:
                raise EnforceError(f"Blob duplicated: {name}", blob=name)
            self.states[name] = _BlobState(value=value)
            self.loaded += 1
            return name
        if not proto.HasField("tensor"):
            raise ProtoParseError(f"blob {name}: a Tensor BlobProto without a tensor")
        tensor = proto.tensor
        if state is not None:
            if not state.is_tensor:
                raise EnforceError(f"Must be tensor {name}", blob=name)
            if state.current >= state.total:
                raise EnforceError(
                    f"Found an extra part for an already filled tensor: {name}", blob=name)
            if not tensor.HasField("segment"):
                raise EnforceError(f"Partial tensor must have a segment: {name}", blob=name)
            self._same_tensor(state.tensor, tensor, name)
            begin, end = self._segment(tensor, state.total, name)
            state.current += end - begin
            if state.current > state.total:
                raise EnforceError(
                    f"Tensor parts are bigger than target size for tensor: {name}",
                    blob=name)
        else:
            if any(d < 0 for d in tensor.dims):
                raise ProtoParseError(f"blob {name}: negative dimension in dims "
                                      f"{list(tensor.dims)}")
            total = int(np.prod(np.array(tensor.dims, dtype=object)))  # no overflow
            begin, end = (self._segment(tensor, total, name)
                          if tensor.HasField("segment") else (0, total))
            state = self.states[name] = _BlobState(
                total=total, current=end - begin, is_tensor=True, tensor=tensor)
        state.parts.append((begin, self._chunk_values(tensor, begin, end, name)))
        if state.current == state.total:
            self.loaded += 1
        return name

    @staticmethod
    def _non_tensor(proto: BlobProto, name: str) -> Any:
        if proto.type == STRING_TYPE:
            return bytes(proto.content)
        raise EnforceError(f"No registered deserializer for type {proto.type}", blob=name,
                           expected=f"{TENSOR_TYPE!r} or {STRING_TYPE!r}",
                           found=repr(proto.type))

    @staticmethod
    def _segment(tensor: TensorProto, total: int, name: str) -> tuple[int, int]:
        begin, end = tensor.segment.begin, tensor.segment.end
        if not 0 <= begin <= end <= total:
            raise ProtoParseError(
                f"blob {name}: segment [{begin}, {end}) is not inside the tensor's "
                f"{total} elements")
        return begin, end

    @staticmethod
    def _same_tensor(first: TensorProto | None, tensor: TensorProto, name: str) -> None:
        assert first is not None
        if list(first.dims) != list(tensor.dims) or first.data_type != tensor.data_type:
            raise ProtoParseError(
                f"blob {name}: chunks disagree on the tensor "
                f"(dims {list(first.dims)} type {first.data_type} then dims "
                f"{list(tensor.dims)} type {tensor.data_type})")

    @staticmethod
    def _chunk_values(tensor: TensorProto, begin: int, end: int, name: str) -> np.ndarray:
        part = TensorProto()
        part.CopyFrom(tensor)
        part.ClearField("segment")
        del part.dims[:]
        part.dims.append(end - begin)
        if not part.name:
            part.name = name
        return tensor_to_numpy(part)

    def finish(self) -> dict[str, Any]:
        """Check every blob is complete (Caffe2's ``validateBlobStates``) and give
        ``{name: value}`` in the order the blobs were first seen."""
        for name, state in self.states.items():
            if state.current != state.total:
                raise EnforceError(
                    f"Data size mismatch for blob {name}. Expected: {state.total} "
                    f"Read: {state.current}", blob=name)
        return {name: self._value(name, state) for name, state in self.states.items()}

    def _value(self, name: str, state: _BlobState) -> Any:
        if not state.is_tensor:
            return state.value
        assert state.tensor is not None
        shape = tuple(state.tensor.dims)
        dtype = DTYPES.get(state.tensor.data_type, np.dtype(np.float32))
        if len(state.parts) == 1 and state.parts[0][1].size == state.total:
            return state.parts[0][1].astype(dtype, copy=False).reshape(shape)
        parts = sorted(state.parts, key=lambda p: p[0])
        covered = 0
        for begin, values in parts:
            if begin != covered:
                raise ProtoParseError(
                    f"blob {name}: its chunks overlap or leave a gap at element "
                    f"{min(begin, covered)}")
            covered += values.size
        flat = np.concatenate([values for _, values in parts])
        return flat.astype(dtype, copy=False).reshape(shape)


def deserialize_records(records: Iterable[tuple[str, bytes]]) -> dict[str, Any]:
    """``{blob name: value}`` from every record (all chunks of every blob).

    >>> deserialize_records(serialize_blob("s", b"hi"))
    {'s': b'hi'}
    """
    asm = BlobAssembler()
    for key, data in records:
        asm.add(key, data)
    return asm.finish()


def serialize_value(name: str, value: Any) -> bytes:
    """One BlobProto holding the whole blob (Caffe2's ``SerializeBlob(blob, name)``,
    no chunking): the bytes ``workspace.SerializeBlob`` gives."""
    return serialize_blob(name, value, NO_CHUNKING)[0][1]


def deserialize_value(data: bytes) -> Any:
    """The value one whole-blob BlobProto holds."""
    asm = BlobAssembler()
    name = asm.add(parse_blob_proto(data).name or "blob", data)
    return asm.finish()[name]
