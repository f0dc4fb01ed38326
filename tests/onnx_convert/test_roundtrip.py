"""Round trips: a caffe2lite net -> ONNX (the export side) -> a caffe2lite net again
(this importer) gives the same outputs as the original net, on hand-built nets and on
the real Caffe2 nets that export."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("onnx")
frontend = pytest.importorskip("caffe2lite.onnx.frontend")

from c2l_test_support.nets import run_net_outputs
from c2l_test_support.realnets import CASES, REALNETS, repair

from caffe2lite import core
from caffe2lite.io.protoio import load_net
from caffe2lite.onnx.backend import (
    CONVERTERS,
    OnnxImportError,
    onnx_to_caffe2_nets,
    prepare,
)
from caffe2lite.schema.shapes import TensorShape

F = np.float32
RNG = np.random.default_rng(7)


def _r(*shape):
    return RNG.uniform(-1, 1, size=shape).astype(F)


def _pos(*shape):
    return RNG.uniform(0.5, 2, size=shape).astype(F)


def round_trip(net, init, inputs, rtol=1e-4, atol=1e-5):
    """Export, import, run both nets on ``inputs``; returns the imported nets."""
    net = net.Proto() if hasattr(net, "Proto") else net
    init = init.Proto() if hasattr(init, "Proto") else init
    shapes = {k: TensorShape(v.shape, v.dtype) for k, v in inputs.items()}
    model = frontend.caffe2_net_to_onnx_model(net, init, shapes)
    init2, net2 = onnx_to_caffe2_nets(model)
    want = run_net_outputs(net, init, inputs)
    got = run_net_outputs(net2, init2, {k: v for k, v in inputs.items() if k in net2.external_input})
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.shape == w.shape and g.dtype == w.dtype, (g.shape, w.shape, g.dtype, w.dtype)
        np.testing.assert_allclose(g, w, rtol=rtol, atol=atol)
    # the same through the backend's own runner
    rep = prepare(model)
    outs = rep.run({k: v for k, v in inputs.items() if k in rep.uninitialized})
    for g, w in zip(outs, want):
        np.testing.assert_allclose(g, w, rtol=rtol, atol=atol)
    return init2, net2


def _params(init, **values):
    for name, value in values.items():
        init.GivenTensorFill([], name, values=value.reshape(-1).tolist(),
                             shape=list(value.shape))


def test_cnn_round_trip():
    net, init = core.Net("cnn"), core.Net("cnn_init")
    _params(init, w1=_r(4, 3, 3, 3), b1=_r(4), s=_pos(4), bb=_r(4), m=_r(4), v=_pos(4),
            w2=_r(4, 2, 3, 3), b2=_r(4), wf=_r(5, 4), bf=_r(5))
    net.Conv(["data", "w1", "b1"], "c1", kernel=3, pad=1)
    net.SpatialBN(["c1", "s", "bb", "m", "v"], "bn", is_test=1, epsilon=1e-3)
    net.Relu(["bn"], "r1")
    net.MaxPool(["r1"], "p1", kernel=2, stride=2)
    net.Conv(["p1", "w2", "b2"], "c2", kernel=3, group=2, stride=2, pad=1)
    net.AveragePool(["c2"], "p2", kernel=2, stride=2)
    net.FC(["p2", "wf", "bf"], "fc")
    net.Softmax(["fc"], "prob")
    net.Proto().external_output.append("prob")
    _, net2 = round_trip(net, init, {"data": _r(2, 3, 8, 8)})
    assert "Conv" in [op.type for op in net2.op] and "SpatialBN" in [op.type for op in net2.op]


def test_mlp_round_trip():
    net, init = core.Net("mlp"), core.Net("mlp_init")
    _params(init, w1=_r(8, 6), b1=_r(8), w2=_r(3, 8), b2=_r(3))
    net.FC(["x", "w1", "b1"], "h1")
    net.Tanh(["h1"], "t1")
    net.LeakyRelu(["t1"], "l1", alpha=0.2)
    net.FC(["l1", "w2", "b2"], "h2")
    net.Sigmoid(["h2"], "y")
    net.Proto().external_output.append("y")
    _, net2 = round_trip(net, init, {"x": _r(4, 6)})
    assert [op.type for op in net2.op].count("FC") == 2


def test_elementwise_and_shape_round_trip():
    net = core.Net("shapes")
    net.Add(["a", "b"], "s")
    net.Mul(["s", "a"], "p")
    net.Transpose(["p"], "t", axes=[1, 0, 2])
    net.Reshape(["t"], ["rs", "old"], shape=[3, -1])
    net.Concat(["rs", "rs"], ["cat", "info"], axis=1)
    net.Split(["cat"], ["s1", "s2"], axis=1, split=[5, 11])
    net.Clip(["s2"], "clipped", min=-0.5, max=0.5)
    net.Exp(["s1"], "e")
    net.ReduceMean(["e"], "rm", axes=[1], keepdims=0)
    net.Sum(["clipped", "clipped"], "twice")
    net.Proto().external_output.extend(["rm", "twice"])
    round_trip(net, None, {"a": _r(2, 3, 4), "b": _r(4)})


def test_norms_and_resize_round_trip():
    net, init = core.Net("norms"), core.Net("norms_init")
    _params(init, g=_pos(3), bt=_r(3), slope=_pos(3))
    net.InstanceNorm(["x", "g", "bt"], "inorm", epsilon=1e-4)
    net.PRelu(["inorm", "slope"], "pr")
    net.LRN(["pr"], ["lrn", "lrn_scale"], size=3, alpha=1e-2, beta=0.75, bias=2.0)
    net.ResizeNearest(["lrn"], "up", width_scale=2.0, height_scale=2.0)
    net.LayerNorm(["up"], ["ln", "mean", "std"], axis=2)
    net.Proto().external_output.append("ln")
    round_trip(net, init, {"x": _r(2, 3, 4, 5)}, atol=1e-4)


_RUNNABLE = [] if REALNETS is None else [
    c for c in CASES if c.refuse is None or c.check is not None]


@pytest.mark.skipif(REALNETS is None, reason="shared/realnets is not beside the checkout")
@pytest.mark.parametrize("case", _RUNNABLE, ids=[c.id for c in _RUNNABLE])
def test_real_net_round_trip(case):
    """Every real Caffe2 net that exports comes back and computes the same."""
    net = load_net(REALNETS / case.net)
    if case.refuse is not None:
        net = repair(net)
    init = load_net(REALNETS / case.init) if case.init else None
    inputs = {k: np.asarray(v) for k, v in case.inputs(np.random.default_rng(0)).items()}
    shapes = {k: TensorShape(v.shape, v.dtype) for k, v in inputs.items()}
    try:
        model = frontend.caffe2_net_to_onnx_model(net, init, shapes)
    except frontend.ExportError as e:  # the export side says which ops have no ONNX form
        pytest.skip(f"does not export: {type(e).__name__}")
    if sum(int(np.prod(t.dims)) for t in model.graph.initializer) > 1_000_000:
        pytest.skip("parameters of millions of values: slow, and no new path here")
    unknown = {n.op_type for n in model.graph.node} - set(CONVERTERS)
    if unknown:  # ONNX ops with no Caffe2 counterpart (e.g. CumSum): import says so
        with pytest.raises(OnnxImportError, match="|".join(sorted(unknown))):
            onnx_to_caffe2_nets(model)
        return
    round_trip(net, init, inputs)


ZOO = ["bvlc_alexnet", "densenet121", "inception_v1", "inception_v2", "resnet50"]


@pytest.mark.skipif(REALNETS is None, reason="shared/realnets is not beside the checkout")
@pytest.mark.parametrize("name", ZOO)
def test_zoo_net_round_trip(name):
    """Model zoo nets with random parameters in an init net: exported (parameters
    become initializers), imported (initializers become Given*Fill ops), same output."""
    from caffe2lite.inference.params import load_value_info, random_parameters
    from caffe2lite.onnx._import_context import fill_ops
    from caffe2lite.proto import caffe2_pb2

    net = load_net(REALNETS / f"model_zoo/{name}__predict_net.pbtxt")
    shapes = load_value_info(REALNETS / f"model_zoo/{name}__value_info.json")
    params = random_parameters(net, shapes, free_dim=8, seed=0)
    data = {k: np.random.default_rng(1).standard_normal(s.dims).astype(s.dtype)
            for k, s in shapes.items()}
    init = caffe2_pb2.NetDef()
    init.name = name + "_init"
    for key, value in params.items():
        fill_ops(key, value, lambda hint: hint + "_tmp", into=init.op)
    init2, _ = round_trip(net, init, data)
    assert init2.op and {op.type for op in init2.op} <= {
        "GivenTensorFill", "GivenTensorInt64Fill", "GivenTensorIntFill"}
