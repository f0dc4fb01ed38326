"""Message classes for a FileDescriptorProto built in code, on every supported protobuf.

Used for the few Caffe2 messages whose ``.proto`` files caffe2lite does not compile
(serialization options, the predictor's metanet): the same field numbers as Caffe2,
so the bytes Caffe2 wrote parse.
"""

from __future__ import annotations

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory


def message_classes(proto: descriptor_pb2.FileDescriptorProto,
                    names: list[str] | tuple[str, ...]) -> dict[str, type]:
    """Add ``proto`` to the default pool (once per process) and return the classes of
    its messages ``names``, by name.

    >>> p = descriptor_pb2.FileDescriptorProto(name="doc/example.proto", package="doc")
    >>> _ = p.message_type.add(name="Empty")
    >>> message_classes(p, ["Empty"])["Empty"]().ByteSize()
    0
    """
    pool = descriptor_pool.Default()
    try:
        file = pool.FindFileByName(proto.name)
    except KeyError:
        pool.AddSerializedFile(proto.SerializeToString())
        file = pool.FindFileByName(proto.name)
    # protobuf >= 4.21 has GetMessageClass; 3.20 (the oldest supported) only the factory.
    get_class = getattr(message_factory, "GetMessageClass", None)
    if get_class is None:
        get_class = message_factory.MessageFactory(pool).GetPrototype  # type: ignore[attr-defined]
    return {name: get_class(file.message_types_by_name[name]) for name in names}
