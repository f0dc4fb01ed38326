"""The limits every net, plan and tensor file is read under.

Net files come from other people and other tools, so the loaders refuse what is
too deep, too large or too many before doing any heavy work, with a
:class:`~caffe2lite.errors.ProtoParseError` naming the file and the limit. Each
limit is a module attribute read at call time: raise it by assigning, e.g.
``caffe2lite.io.limits.MAX_OPS_PER_NET = 10**6``.

``MAX_NESTING``
    How many messages deep a file may nest (the file's own message is level 0;
    each submessage, e.g. NetDef -> op -> arg -> n, adds one). 100 is the default
    recursion limit of protobuf's parsers, which Caffe2 read its files with. The
    same count applies to binary and text files, nets and plans. The protobuf
    library itself reads :data:`PROTOBUF_MAX_NESTING` levels; raising this limit
    above it lifts protobuf's (process-wide, with the upb backend) and gives the
    text parser and printer the stack they need.
``MAX_OPS_PER_NET``
    Operators in one NetDef (nested nets each counted on their own). Caffe2 had
    no such limit; 100,000 is far above real nets and keeps a text file at the
    limit to seconds of parsing.
``MAX_ARGUMENT_BYTES``
    The encoded size of one Argument (GivenTensorFill values included): 512 MiB,
    the size above which Caffe2's binary reader warned.
``MAX_FILE_BYTES``
    The size of a file, checked before it is read: 1 GiB, the total-bytes limit
    Caffe2's binary reader set on protobuf (text files get the same).
``MAX_TENSOR_DIMS``
    Dimensions of a TensorProto: numpy's limit, 64 from numpy 2 on and 32 before
    (Caffe2 had none of its own). Dims must also be >= 0 and their product must fit in int64, the type
    Caffe2 counted elements in.
"""

from __future__ import annotations

import numpy as np

MAX_NESTING = 100
PROTOBUF_MAX_NESTING = 100
MAX_OPS_PER_NET = 100_000
MAX_ARGUMENT_BYTES = 512 << 20
MAX_FILE_BYTES = 1 << 30
MAX_TENSOR_DIMS = 64 if int(np.__version__.split(".")[0]) >= 2 else 32
