"""Predictor DBs: a ModelHelper-trained MLP saved with predictor_exporter and loaded
back (prepare_prediction_net, Predictor.from_db) gives the same outputs; the DB's
layout and the MetaNetDef are Caffe2's."""

from __future__ import annotations

import numpy as np
import pytest

from caffe2lite import brew, core, model_helper, optimizer, workspace
from caffe2lite import predictor_exporter as pe
from caffe2lite.errors import ApiValueError, ProtoParseError
from caffe2lite.io.blobproto import deserialize_records
from caffe2lite.io.db import read_db
from caffe2lite.predictor import Predictor
from caffe2lite.predictor import predictor_py_utils as utils
from caffe2lite.predictor.metanet import MetaNetDef
from caffe2lite.predictor.metanet import predictor_constants as pc
from caffe2lite.proto import caffe2_pb2


def mlp(model, data):
    h = brew.fc(model, data, "fc1", dim_in=2, dim_out=8)
    h = brew.relu(model, h, "fc1_relu")
    return brew.fc(model, h, "logit", dim_in=8, dim_out=1)


@pytest.fixture
def trained(tmp_path):
    """An MLP trained for a few steps; returns (predict net, params, test input,
    expected output)."""
    workspace.ResetWorkspace(str(tmp_path))
    train = model_helper.ModelHelper(name="mlp_train")
    train.param_init_net.Proto().device_option.random_seed = 7
    logit = mlp(train, "x")
    xent = train.net.SigmoidCrossEntropyWithLogits([logit, "label"], "xent")
    loss = train.AveragedLoss(xent, "loss")
    train.AddGradientOperators([loss])
    optimizer.build_sgd(train, base_learning_rate=0.3)
    deploy = model_helper.ModelHelper(name="mlp_deploy", param_model=train,
                                      init_params=False)
    deploy.net.Sigmoid([mlp(deploy, "x")], "prob")
    rng = np.random.default_rng(0)
    workspace.FeedBlob("x", rng.uniform(-1, 1, (16, 2)).astype(np.float32))
    workspace.FeedBlob("label", rng.integers(0, 2, (16, 1)).astype(np.float32))
    workspace.RunNetOnce(train.param_init_net)
    workspace.CreateNet(train.net)
    workspace.RunNet(train.net.Proto().name, 20)
    x = rng.uniform(-1, 1, (5, 2)).astype(np.float32)
    workspace.FeedBlob("x", x)
    workspace.RunNetOnce(deploy.net)
    expected = workspace.FetchBlob("prob")
    workspace.FeedBlob("prob", expected)
    params = [str(p) for p in deploy.GetParams()]
    assert params == ["fc1_w", "fc1_b", "logit_w", "logit_b"]
    yield deploy.net, params, x, expected
    workspace.ResetWorkspace()


def export(tmp_path, trained, name=""):
    net, params, _x, _ = trained
    meta = pe.PredictorExportMeta(predict_net=net, parameters=params, inputs=["x"],
                                  outputs=["prob"], shapes={"x": (5, 2)}, name=name)
    path = str(tmp_path / "model.minidb")
    pe.save_to_db("minidb", path, meta)
    return path, meta


def test_round_trip_prepare_prediction_net(tmp_path, trained):
    path, _ = export(tmp_path, trained)
    _, params, x, expected = trained
    saved = {p: workspace.FetchBlob(p) for p in params}
    workspace.ResetWorkspace(str(tmp_path))
    predict_net = pe.prepare_prediction_net(path, "minidb")
    for p in params:
        np.testing.assert_array_equal(workspace.FetchBlob(p), saved[p])
    np.testing.assert_array_equal(workspace.FetchBlob("x"), np.zeros((5, 2), np.float32))
    workspace.FeedBlob("x", x)
    workspace.RunNet(predict_net.Proto().name)
    np.testing.assert_array_equal(workspace.FetchBlob("prob"), expected)


def test_round_trip_predictor_from_db(tmp_path, trained):
    path, _ = export(tmp_path, trained)
    _, _, x, expected = trained
    workspace.ResetWorkspace(str(tmp_path))
    predictor = Predictor.from_db(path, "minidb")
    assert predictor.input_names == ["x"] and predictor.output_names == ["prob"]
    np.testing.assert_array_equal(predictor.run([x])[0], expected)
    np.testing.assert_array_equal(predictor.run({"x": x})[0], expected)
    assert workspace.Blobs() == []  # the predictor's workspace is its own


def test_db_layout_is_caffe2s(tmp_path, trained):
    path, _meta = export(tmp_path, trained)
    records = read_db("minidb", path)
    assert [k for k, _ in records] == ["!!META_NET_DEF", "fc1_w#%0", "fc1_b#%0",
                                       "logit_w#%0", "logit_b#%0"]
    values = deserialize_records(records)
    meta_net_def = MetaNetDef()
    meta_net_def.ParseFromString(values["!!META_NET_DEF"])
    assert [kv.key for kv in meta_net_def.nets] == [
        "PREDICT_INIT_NET_TYPE", "GLOBAL_INIT_NET_TYPE", "PREDICT_NET_TYPE"]
    assert [(kv.key, list(kv.value)) for kv in meta_net_def.blobs] == [
        ("PARAMETERS_BLOB_TYPE", ["fc1_w", "fc1_b", "logit_w", "logit_b"]),
        ("INPUTS_BLOB_TYPE", ["x"]), ("OUTPUTS_BLOB_TYPE", ["prob"])]
    global_init = utils.GetNet(meta_net_def, pc.GLOBAL_INIT_NET_TYPE)
    assert global_init.name.startswith("global-init")  # core.Net names are unique
    assert [(op.type, list(op.input), list(op.output)) for op in global_init.op] == [
        ("Load", ["!!PREDICTOR_DBREADER"], ["fc1_w", "fc1_b", "logit_w", "logit_b"])]
    # twice, as in Caffe2: net.Load declares its input, then the exporter adds it again
    assert list(global_init.external_input) == ["!!PREDICTOR_DBREADER"] * 2
    init = utils.GetNet(meta_net_def, pc.PREDICT_INIT_NET_TYPE)
    assert [(op.type, list(op.output)) for op in init.op] == [
        ("ConstantFill", ["x"]), ("ConstantFill", ["prob"])]
    predict = utils.GetNet(meta_net_def, pc.PREDICT_NET_TYPE)
    assert list(predict.external_input) == ["x", "fc1_w", "fc1_b", "logit_w", "logit_b"]
    assert list(predict.external_output) == ["prob"]


def test_metanet_bytes():
    # MetaNetDef { blobs { key: "K" value: "a" } modelInfo { project: "p" } }
    meta = MetaNetDef()
    utils.AddBlobs(meta, "K", ["a"])
    pe.set_model_info(meta, "p", "c", "1")
    assert meta.SerializeToString() == (
        b"\x0a\x06" + b"\x0a\x01K" + b"\x12\x01a"
        + b"\x1a\x09" + b"\x0a\x01p" + b"\x12\x01c" + b"\x1a\x011")
    assert meta.modelInfo.predictorType == "SINGLE_PREDICTOR"


def test_names_of_a_named_predictor():
    helper = pe.get_predictor_exporter_helper("sub")
    assert helper.predict_net_name() == "PREDICT_NET_TYPE_sub"
    assert helper.global_init_name() == "GLOBAL_INIT_NET_TYPE_sub"
    assert helper.parameters_name() == "PARAMETERS_BLOB_TYPE_sub"
    assert pc.META_NET_DEF == "!!META_NET_DEF"
    assert pc.PREDICTOR_DBREADER == "!!PREDICTOR_DBREADER"
    assert pc.DEFERRED_BLOB_READER == "__DEFERRED_BLOB_READER__"


def test_meta_checks():
    net = core.Net("n")
    with pytest.raises(ApiValueError, match="All inputs to the predictor should be unique"):
        pe.PredictorExportMeta(net, [], ["x", "x"], [])
    with pytest.raises(ApiValueError, match="Parameters and inputs are required to be "
                       "disjoint"):
        pe.PredictorExportMeta(net, ["w"], ["w"], [])
    with pytest.raises(ApiValueError, match="Parameters and outputs are required to be "
                       "disjoint"):
        pe.PredictorExportMeta(net, ["w"], [], ["w"])


def test_predictor_from_nets():
    init = core.Net("init")
    init.GivenTensorFill([], "w", shape=[2, 2], values=[1.0, 2.0, 3.0, 4.0])
    init.ConstantFill([], "b", shape=[2], value=0.5)
    net = core.Net("predict")
    net.FC(["data", "w", "b"], "out")  # core.Net declares data, w, b as external inputs
    net.Proto().external_output.append("out")
    x = np.array([[1.0, 1.0]], np.float32)
    for args in [(init, net), (init.Proto(), net.Proto()),
                 (init.Proto().SerializeToString(), net.Proto().SerializeToString())]:
        p = Predictor(*args)
        assert p.input_names == ["data"]
        np.testing.assert_allclose(p.run([x])[0], [[3.5, 7.5]])
    with pytest.raises(Exception, match="did you mean 'data'"):
        p.run({"dta": x})
    with pytest.raises(ApiValueError, match="2 inputs given"):
        p.run([x, x])


def test_named_predictor_from_db(tmp_path, trained):
    path, _ = export(tmp_path, trained, name="sub")
    _, _, x, expected = trained
    predictor = Predictor.from_db(path, "minidb", name="sub")
    np.testing.assert_array_equal(predictor.run([x])[0], expected)
    with pytest.raises(ApiValueError, match="has no net PREDICT_NET_TYPE"):
        Predictor.from_db(path, "minidb")


@pytest.mark.parametrize("payload, reason", [
    (b"\xff\xff\xff", "as binary: caffe2lite.metanet.MetaNetDef: data ends inside the "
                         "field that starts at byte 0"),
    # a TensorProtos message (field 1 holding a TensorProto) is not a MetaNetDef
    (caffe2_pb2.TensorProtos(protos=[caffe2_pb2.TensorProto(dims=[1], name="t")])
     .SerializeToString(), "as binary: caffe2lite.metanet.MetaNetDef.blobs[0].key: wire "
                           "type 0, expected 2, at byte 2"),
])
def test_a_predictor_db_whose_meta_net_def_is_not_one_is_refused(tmp_path, payload,
                                                                   reason):
    """The MetaNetDef blob goes through the checked loader: garbage or another
    message gives a ProtoParseError naming the DB file and the blob, from both
    readers."""
    path = str(tmp_path / "bad.minidb")
    workspace.ResetWorkspace(str(tmp_path))
    workspace.FeedBlob(pc.META_NET_DEF, payload)
    workspace.RunOperatorOnce(core.CreateOperator(
        "Save", [pc.META_NET_DEF], [], db=path, db_type="minidb", absolute_path=True))
    workspace.ResetWorkspace(str(tmp_path))
    where = f"cannot parse {path} blob {pc.META_NET_DEF} as caffe2lite.metanet.MetaNetDef: "
    with pytest.raises(ProtoParseError) as info:
        Predictor.from_db(path, "minidb")
    assert str(info.value) == where + reason
    with pytest.raises(ProtoParseError) as info:
        pe.prepare_prediction_net(path, "minidb")
    assert str(info.value) == where + reason
