"""The wire format: field numbers, round trips, real Caffe2 files.

That caffe2_pb2 is protoc's output for proto/caffe2.proto: tests/test_proto_generated.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from google.protobuf import descriptor_pb2

from caffe2lite.proto import caffe2_pb2
from caffe2lite.protoio import load_net, load_plan, load_proto, save_proto

ROOT = Path(__file__).resolve().parents[1]
REALNETS = Path(__file__).resolve().parents[1].parent / "shared" / "realnets"


def test_descriptor_is_the_file_caffe2_proto():
    fdp = descriptor_pb2.FileDescriptorProto.FromString(
        caffe2_pb2.DESCRIPTOR.serialized_pb
    )
    assert (fdp.name, fdp.package, fdp.syntax) == ("caffe2.proto", "caffe2", "")
    assert caffe2_pb2.NetDef.DESCRIPTOR.full_name == "caffe2.NetDef"
    assert caffe2_pb2.NetDef.__module__ == "caffe2lite.proto.caffe2_pb2"


FIELD_NUMBERS = {
    "TensorProto": {"dims": 1, "data_type": 2, "data_format": 15, "float_data": 3, "int32_data": 4,
                    "byte_data": 5, "string_data": 6, "double_data": 9, "int64_data": 10,
                    "raw_data": 13, "name": 7, "device_detail": 8, "segment": 11},
    "QTensorProto": {"dims": 1, "precision": 2, "scale": 3, "bias": 4, "is_signed": 5, "data": 6,
                     "name": 7, "data_type": 8, "scales": 9, "biases": 10, "axis": 11,
                     "is_multiparam": 12},
    "TensorShape": {"dims": 1, "data_type": 2, "unknown_dims": 3, "unknown_shape": 4, "name": 5},
    "Argument": {"name": 1, "f": 2, "i": 3, "s": 4, "t": 10, "n": 8, "floats": 5, "ints": 6,
                 "strings": 7, "tensors": 11, "nets": 9, "qtensors": 12},
    "DeviceOption": {"device_type": 1, "device_id": 2, "random_seed": 3, "node_name": 4,
                     "numa_node_id": 5, "extra_info": 6},
    "OperatorDef": {"input": 1, "output": 2, "name": 3, "type": 4, "arg": 5, "device_option": 6,
                    "engine": 7, "control_input": 8, "is_gradient_op": 9, "debug_info": 10,
                    "domain": 11, "op_version": 12},
    "PartitionInfo": {"name": 1, "device_id": 2, "extra_info": 3, "backend_options": 4},
    "NetDef": {"name": 1, "op": 2, "type": 3, "num_workers": 4, "device_option": 5, "arg": 6,
               "external_input": 7, "external_output": 8, "partition_info": 9},
    "ExecutionStep": {"name": 1, "substep": 2, "network": 3, "num_iter": 4, "criteria_network": 5,
                      "report_net": 7, "report_interval": 8, "run_every_ms": 11,
                      "concurrent_substeps": 6, "should_stop_blob": 9, "only_once": 10,
                      "create_workspace": 12, "num_concurrent_instances": 13},
    "PlanDef": {"name": 1, "network": 2, "execution_step": 3},
    "BlobProto": {"name": 1, "type": 2, "tensor": 3, "content": 4, "qtensor": 5,
                  "content_num_chunks": 6, "content_chunk_id": 7},
    "DBReaderProto": {"name": 1, "source": 2, "db_type": 3, "key": 4},
}  # fmt: skip


@pytest.mark.parametrize("message", sorted(FIELD_NUMBERS))
def test_field_numbers_are_caffe2s(message):
    fields = getattr(caffe2_pb2, message).DESCRIPTOR.fields_by_name
    assert {name: f.number for name, f in fields.items()} == FIELD_NUMBERS[message]


def test_enums_defaults_and_options():
    assert dict(caffe2_pb2.TensorProto.DataType.items()) == {
        "UNDEFINED": 0, "FLOAT": 1, "INT32": 2, "BYTE": 3, "STRING": 4, "BOOL": 5,
        "UINT8": 6, "INT8": 7, "UINT16": 8, "INT16": 9, "INT64": 10, "FLOAT16": 12,
        "DOUBLE": 13, "ZERO_COLLISION_HASH": 14, "REBATCHING_BUFFER": 15,
    }  # fmt: skip
    assert dict(caffe2_pb2.TensorProto.SerializationFormat.items()) == {
        "FMT_PROTOBUF": 0, "FMT_BFLOAT16": 1,
    }  # fmt: skip
    assert list(caffe2_pb2.DeviceTypeProto.values()) == list(range(12))
    assert caffe2_pb2.DeviceTypeProto.Name(11) == "PROTO_COMPILE_TIME_MAX_DEVICE_TYPES"
    assert caffe2_pb2.TensorProto().data_type == caffe2_pb2.TensorProto.FLOAT
    assert caffe2_pb2.QTensorProto().data_type == caffe2_pb2.TensorProto.INT32
    assert caffe2_pb2.TensorShape().data_type == caffe2_pb2.TensorProto.FLOAT
    fdp = descriptor_pb2.FileDescriptorProto.FromString(
        caffe2_pb2.DESCRIPTOR.serialized_pb
    )
    tensor = fdp.message_type[0]
    assert [(r.start, r.end) for r in tensor.reserved_range] == [(12, 13), (14, 15)]
    packed = {f.name for m in fdp.message_type for f in m.field if f.options.packed}
    assert packed == {"float_data", "int32_data", "double_data", "int64_data", "data"}
    fields = caffe2_pb2.ExecutionStep.DESCRIPTOR.fields_by_name
    assert fields["criteria_network"].GetOptions().deprecated is True


def test_device_aliases_of_caffe2_python():
    aliases = ["CPU", "CUDA", "MKLDNN", "OPENGL", "OPENCL", "IDEEP", "HIP",
               "COMPILE_TIME_MAX_DEVICE_TYPES"]  # fmt: skip
    assert [getattr(caffe2_pb2, a) for a in aliases] == [0, 1, 2, 3, 4, 5, 6, 11]


def _sample_net() -> caffe2_pb2.NetDef:
    net = caffe2_pb2.NetDef(
        name="n", type="simple", external_input=["X"], external_output=["Y"]
    )
    op = net.op.add(
        type="SparseDropoutWithReplacement", input=["X", "L"], output=["Y", "OL"]
    )
    op.arg.add(name="ratio", f=0.5)
    op.arg.add(name="replacement_value", i=-1)
    op.arg.add(name="shape", ints=[2, 3])
    op.arg.add(name="mode", s="é".encode())
    op.arg.add(
        name="t", t=caffe2_pb2.TensorProto(dims=[2], int64_data=[1, 2], data_type=10)
    )
    op.device_option.random_seed = 7
    net.partition_info.add(name="p0", device_id=[0, 2])
    return net


@pytest.mark.parametrize("suffix", [".pb", ".pbtxt", ".prototxt", ".txt", ".bin"])
def test_round_trip_through_files(tmp_path, suffix):
    net = _sample_net()
    path = tmp_path / f"net{suffix}"
    save_proto(net, path)
    assert load_net(path) == net
    is_text = suffix in (".pbtxt", ".prototxt", ".txt")
    assert path.read_bytes().startswith(b'name: "n"\n') == is_text


def test_plan_round_trip(tmp_path):
    plan = caffe2_pb2.PlanDef(name="plan", network=[_sample_net()])
    plan.execution_step.add(name="s", network=["n"], num_iter=3)
    save_proto(plan, tmp_path / "plan.pb")
    save_proto(plan, tmp_path / "plan.pbtxt")
    assert load_plan(tmp_path / "plan.pb") == plan
    assert load_plan(tmp_path / "plan.pbtxt") == plan


def _realnet_files() -> list:
    if not REALNETS.is_dir():
        return [
            pytest.param(None, marks=pytest.mark.skip(reason=f"{REALNETS} is absent"))
        ]
    files = sorted(p for p in REALNETS.rglob("*") if p.suffix in (".pb", ".pbtxt"))
    return [pytest.param(p, id=str(p.relative_to(REALNETS))) for p in files]


@pytest.mark.parametrize("path", _realnet_files())
def test_every_real_caffe2_net_parses(path):
    net = load_net(path)
    assert load_proto(path, caffe2_pb2.NetDef) == net
    if path.stat().st_size:
        assert net.ByteSize() > 0


@pytest.mark.skipif(
    not REALNETS.is_dir(), reason="the shared realnets folder is absent"
)
def test_real_nets_content():
    assert len(list(REALNETS.rglob("*.pbtxt"))) == 148
    lenet = load_net(REALNETS / "pytorch_caffe2_cpp_binding" / "predict_net.pb")
    assert lenet.name == "torch-jit-export_predict"
    assert [op.type for op in lenet.op] == [
        "Conv", "Add", "MaxPool", "Relu", "Conv", "Add", "MaxPool", "Relu", "Reshape", "FC", "FC",
    ]  # fmt: skip
    assert list(lenet.external_input) == [str(i) for i in range(1, 10)]
    assert list(lenet.external_output) == ["26"]
    partitioned = load_net(
        REALNETS / "glow_caffe2Models" / "pre_partitioned_fill_test_predict_net.pbtxt"
    )
    assert [(p.name, list(p.device_id)) for p in partitioned.partition_info] == [
        ("p0", [0, 2]), ("p1", [1]), ("p2", [2]),
    ]  # fmt: skip
    lengths_sum = load_net(REALNETS / "glow_caffe2Models" / "lengths_sum.pbtxt")
    assert (lengths_sum.name, lengths_sum.op[0].type) == ("lengthsSum", "LengthsSum")
    assert list(lengths_sum.op[0].input) == ["data", "lengths"]
