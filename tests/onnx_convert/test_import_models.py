"""Whole-model ONNX import: small nets built with onnx.helper, models exported by
torch, the backend API (prepare / run / run_node / run_model), the grouped error for
unsupported ops, and untrusted files that do not parse or fail the checker."""

from __future__ import annotations

import io
import sys

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")

from onnx import TensorProto, helper, numpy_helper

from caffe2lite.errors import Caffe2LiteError
from caffe2lite.onnx import backend
from caffe2lite.onnx.backend import OnnxImportError

F = np.float32
RNG = np.random.default_rng(1)


def _r(*shape):
    return RNG.uniform(-1, 1, size=shape).astype(F)


def _model(nodes, inputs, outputs, inits, opset=17, name="net"):
    graph = helper.make_graph(
        nodes, name,
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in inputs],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, None) for n in outputs],
        [numpy_helper.from_array(v, k) for k, v in inits.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    return onnx.shape_inference.infer_shapes(model)


def _ort(model, feeds):
    ort = pytest.importorskip("onnxruntime")
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return sess.run(None, feeds)


def _assert_close(got, want, rtol=1e-4, atol=1e-5):
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert np.asarray(g).shape == w.shape and np.asarray(g).dtype == w.dtype
        np.testing.assert_allclose(g, w, rtol=rtol, atol=atol)


def cnn_model(batch="N"):
    """Conv-BN-Relu-MaxPool-Conv-Relu-GlobalAveragePool-Flatten-Gemm-Softmax."""
    n = helper.make_node
    nodes = [
        n("Conv", ["x", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1], name="conv1"),
        n("BatchNormalization", ["c1", "g", "beta", "mu", "var"], ["bn"], name="bn1"),
        n("Relu", ["bn"], ["r1"]),
        n("MaxPool", ["r1"], ["p1"], kernel_shape=[2, 2], strides=[2, 2]),
        n("Conv", ["p1", "w2"], ["c2"], strides=[1, 1]),
        n("Relu", ["c2"], ["r2"]),
        n("GlobalAveragePool", ["r2"], ["gap"]),
        n("Flatten", ["gap"], ["flat"]),
        n("Gemm", ["flat", "wf", "bf"], ["logits"], transB=1, name="fc"),
        n("Softmax", ["logits"], ["prob"], axis=1),
    ]
    inits = {"w1": _r(4, 3, 3, 3), "b1": _r(4), "g": _r(4), "beta": _r(4), "mu": _r(4),
             "var": RNG.uniform(0.5, 2, 4).astype(F), "w2": _r(6, 4, 3, 3),
             "wf": _r(5, 6), "bf": _r(5)}
    return _model(nodes, [("x", [batch, 3, 8, 8])], ["prob", "logits"], inits, name="cnn")


def mlp_model():
    n = helper.make_node
    nodes = [
        n("MatMul", ["x", "w1"], ["h1"]), n("Add", ["h1", "b1"], ["a1"]),
        n("Tanh", ["a1"], ["t1"]),
        n("Gemm", ["t1", "w2", "b2"], ["a2"], alpha=0.5, beta=1.5),
        n("Sigmoid", ["a2"], ["y"]),
    ]
    inits = {"w1": _r(6, 8), "b1": _r(8), "w2": _r(8, 3), "b2": _r(3)}
    return _model(nodes, [("x", [4, 6])], ["y"], inits, name="mlp")


def test_cnn_matches_onnxruntime_and_keeps_output_order():
    model = cnn_model()
    x = _r(2, 3, 8, 8)
    got = backend.prepare(model).run([x])
    _assert_close(got, _ort(model, {"x": x}))
    assert got.keys() == ["prob", "logits"] and got._fields == ("prob", "logits")
    assert list(got._asdict()) == ["prob", "logits"]
    with pytest.raises(KeyError, match="'nope' is not an output"):
        got["nope"]
    with pytest.raises(AttributeError):
        got.nope  # noqa: B018
    np.testing.assert_array_equal(got.prob, got[0])
    np.testing.assert_array_equal(got["logits"], got[1])


def test_cnn_ops_are_caffe2_ops():
    init_net, predict_net = backend.onnx_to_caffe2_nets(cnn_model())
    assert [op.type for op in predict_net.op] == [
        "Conv", "SpatialBN", "Relu", "MaxPool", "Conv", "Relu", "AveragePool", "Flatten",
        "FC", "Softmax"]
    assert {op.type for op in init_net.op} == {"GivenTensorFill"}
    assert len(init_net.op) == 9
    bn = predict_net.op[1]
    assert {a.name: a.i for a in bn.arg if a.name == "is_test"} == {"is_test": 1}


def test_mlp_matches_onnxruntime_with_dict_inputs():
    model = mlp_model()
    x = _r(4, 6)
    _assert_close(backend.prepare(model).run({"x": x}), _ort(model, {"x": x}))


def test_rep_runs_repeatedly_and_single_array_input():
    model = mlp_model()
    rep = backend.prepare(model)
    for _ in range(3):
        x = _r(4, 6)
        _assert_close(rep.run(x), _ort(model, {"x": x}))


def test_run_model_and_run_node():
    model = mlp_model()
    x = _r(4, 6)
    _assert_close(backend.run_model(model, [x]), _ort(model, {"x": x}))
    node = helper.make_node("Softmax", ["a"], ["b"], axis=0)
    a = _r(3, 4)
    out = backend.run_node(node, [a])
    e = np.exp(a - a.max(0))
    np.testing.assert_allclose(out.b, e / e.sum(0), rtol=1e-5)
    out = backend.run_node(helper.make_node("Add", ["p", "q"], ["s"]),
                           {"p": a, "q": np.ones(4, F)})
    np.testing.assert_allclose(out[0], a + 1)


def test_supports_device_and_graph_to_net_api():
    assert backend.supports_device("CPU")
    assert not backend.supports_device("CUDA")
    init_net, predict_net = backend.Caffe2Backend.onnx_graph_to_caffe2_net(mlp_model())
    assert predict_net.name == "mlp_predict" and init_net.name == "mlp_init"
    assert predict_net.external_input[0] == "x"
    with pytest.raises(OnnxImportError, match="CPU only"):
        backend.prepare(mlp_model(), device="CUDA:0")


def test_path_bytes_and_file_object(tmp_path):
    model = mlp_model()
    path = tmp_path / "mlp.onnx"
    path.write_bytes(model.SerializeToString())
    x = _r(4, 6)
    want = _ort(model, {"x": x})
    for source in (str(path), path, model.SerializeToString(),
                   io.BytesIO(model.SerializeToString())):
        _assert_close(backend.prepare(source).run([x]), want)
    a, b = backend.onnx_to_caffe2_nets(str(path))
    assert (a, b) == backend.onnx_to_caffe2_nets(model)


def test_graph_inputs_that_are_initializers_are_not_fed():
    model = mlp_model()
    model.graph.input.append(helper.make_tensor_value_info("w1", TensorProto.FLOAT, [6, 8]))
    rep = backend.prepare(model)
    assert rep.uninitialized == ["x"]
    x = _r(4, 6)
    _assert_close(rep.run([x]), _ort(model, {"x": x}))


def test_fed_graph_input_overrides_its_initializer_from_the_first_run():
    graph = helper.make_graph(
        [helper.make_node("Add", ["x", "bias"], ["y"])], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2]),
         helper.make_tensor_value_info("bias", TensorProto.FLOAT, [2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])],
        [numpy_helper.from_array(np.array([10, 20], F), "bias")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    rep = backend.prepare(model)
    x = np.array([1, 2], F)
    for _ in range(2):
        np.testing.assert_array_equal(rep.run({"x": x, "bias": np.ones(2, F)}).y, [2, 3])
    np.testing.assert_array_equal(backend.prepare(model).run(x).y, [11, 22])


def test_wrong_number_of_inputs_message():
    rep = backend.prepare(mlp_model())
    with pytest.raises(Caffe2LiteError) as e:
        rep.run([_r(4, 6), _r(4, 6)])
    assert str(e.value) == "Expected 1 values for uninitialized graph inputs (x), but got 2."
    assert isinstance(e.value, RuntimeError)
    graph = helper.make_graph([helper.make_node("Identity", ["c"], ["y"])], "g", [],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])],
                              [numpy_helper.from_array(np.ones(1, F), "c")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    with pytest.raises(Caffe2LiteError, match=r"Expected 0 values .* \(\), but got 1\."):
        backend.prepare(model).run(np.ones(1, F))


def test_opset_version_override_changes_softmax_semantics():
    node = helper.make_node("Softmax", ["x"], ["y"], axis=1)
    model = _model([node], [("x", [2, 3, 4])], ["y"], {}, opset=13)
    x = _r(2, 3, 4)
    per_axis = backend.prepare(model).run([x]).y
    np.testing.assert_allclose(per_axis.sum(axis=1), np.ones((2, 4)), rtol=1e-5)
    _, predict_net = backend.onnx_to_caffe2_nets(model, opset_version=11)
    assert [op.type for op in predict_net.op] == ["Softmax"]
    _, predict_net13 = backend.onnx_to_caffe2_nets(model)
    assert [op.type for op in predict_net13.op] == ["Transpose", "Softmax", "Transpose"]


# -- unsupported ops: all listed at once ------------------------------------------


def test_unsupported_ops_are_listed_together_word_for_word():
    n = helper.make_node
    nodes = [
        n("Round", ["x"], ["h1"], name="round1"),
        n("MaxPool", ["h1"], ["p", "where"], kernel_shape=[2, 2], name="pool"),
        n("Round", ["p"], ["h2"], name="round2"),
        n("Relu", ["h2"], ["r"]),
        n("Round", ["r"], ["h3"]),
        n("Det", ["h3"], ["y"], name="det"),
    ]
    model = _model(nodes, [("x", [1, 1, 4, 4])], ["y"], {})
    with pytest.raises(OnnxImportError) as e:
        backend.onnx_to_caffe2_nets(model)
    assert str(e.value) == (
        "cannot import the ONNX model: 5 node(s) use operators caffe2lite cannot express:\n"
        "  Round: 3 node(s): round1, round2, #4\n"
        "  MaxPool (the Indices output): 1 node(s): pool\n"
        "  Det: 1 node(s): det")
    assert not isinstance(e.value, ImportError)
    with pytest.raises(OnnxImportError):
        backend.prepare(model)


def test_custom_domain_op_is_unsupported():
    node = helper.make_node("Relu", ["x"], ["y"], domain="com.example", name="custom")
    graph = helper.make_graph(
        [node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17),
                                                    helper.make_opsetid("com.example", 1)])
    model.ir_version = 8
    with pytest.raises(OnnxImportError, match=r"com\.example\.Relu: 1 node\(s\): custom"):
        backend.onnx_to_caffe2_nets(model)


# -- untrusted files -----------------------------------------------------------------


def test_truncated_file_is_a_clear_error(tmp_path):
    data = cnn_model().SerializeToString()
    path = tmp_path / "cut.onnx"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(OnnxImportError) as e:
        backend.onnx_to_caffe2_nets(str(path))
    msg = str(e.value)
    assert msg.startswith(f"ONNX file '{path}' is not a valid ONNX model")
    assert "truncated" in msg


@pytest.mark.parametrize("data", [b"\xff\xff\xff\xff", b"not an onnx model at all\n" * 3,
                                  b"\x0a\xff\xff\xff\xff\x0f"])
def test_garbage_bytes_are_a_clear_error(data):
    with pytest.raises(OnnxImportError, match="is not a valid ONNX model"):
        backend.onnx_to_caffe2_nets(data)


def test_empty_and_checker_failing_models():
    with pytest.raises(OnnxImportError, match="the ONNX model is not a valid ONNX model"):
        backend.onnx_to_caffe2_nets(b"")
    bad = helper.make_model(helper.make_graph(
        [helper.make_node("Relu", ["nowhere"], ["y"])], "bad",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])]))
    with pytest.raises(OnnxImportError, match="is not a valid ONNX model: .*nowhere"):
        backend.onnx_to_caffe2_nets(bad)


def test_missing_file_and_wrong_type(tmp_path):
    with pytest.raises(OnnxImportError, match="cannot read ONNX file"):
        backend.onnx_to_caffe2_nets(str(tmp_path / "missing.onnx"))
    with pytest.raises(OnnxImportError, match="found int"):
        backend.onnx_to_caffe2_nets(3)


def test_without_onnx_the_error_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(OnnxImportError) as e:
        backend.onnx_to_caffe2_nets(b"")
    assert "pip install 'caffe2lite[onnx]'" in str(e.value)


# -- models exported by torch ----------------------------------------------------------


def _torch_export(module, example):
    torch = pytest.importorskip("torch")
    f = io.BytesIO()
    with torch.no_grad():
        torch.onnx.export(module.eval(), (example,), f, dynamo=False,
                          input_names=["x"], output_names=["y"])
    return f.getvalue()


def test_torch_cnn():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)

    class CNN(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv2d(3, 4, 3, padding=1)
            self.bn = torch.nn.BatchNorm2d(4)
            self.conv2 = torch.nn.Conv2d(4, 4, 3, stride=2, groups=2)
            self.fc = torch.nn.Linear(4 * 2 * 2, 5)

        def forward(self, x):
            x = torch.nn.functional.max_pool2d(torch.relu(self.bn(self.conv(x))), 2)
            x = torch.nn.functional.leaky_relu(self.conv2(x), 0.1)
            x = torch.nn.functional.adaptive_avg_pool2d(x, 2)
            return torch.log_softmax(self.fc(torch.flatten(x, 1)), -1)

    module = CNN()
    with torch.no_grad():  # give BN non-trivial statistics
        module.bn.running_mean.uniform_(-1, 1)
        module.bn.running_var.uniform_(0.5, 2)
    x = torch.randn(2, 3, 12, 12)
    data = _torch_export(module, x)
    got = backend.prepare(data).run([x.numpy()])
    with torch.no_grad():
        want = module(x).numpy()
    np.testing.assert_allclose(got.y, want, rtol=1e-4, atol=1e-5)
    _assert_close(got, _ort(onnx.load_from_string(data), {"x": x.numpy()}))


def test_torch_mlp():
    torch = pytest.importorskip("torch")
    torch.manual_seed(1)
    module = torch.nn.Sequential(
        torch.nn.Linear(6, 16), torch.nn.GELU(), torch.nn.LayerNorm(16),
        torch.nn.Linear(16, 8), torch.nn.ELU(), torch.nn.Dropout(0.3),
        torch.nn.Linear(8, 3), torch.nn.Softmax(dim=1))
    x = torch.randn(5, 6)
    data = _torch_export(module, x)
    got = backend.prepare(data).run({"x": x.numpy()})
    with torch.no_grad():
        want = module.eval()(x).numpy()
    np.testing.assert_allclose(got.y, want, rtol=1e-4, atol=1e-5)


def test_input_types_no_kernel_takes_are_listed():
    n = helper.make_node
    graph = helper.make_graph(
        [n("Cast", ["img"], ["f"], to=TensorProto.FLOAT16, name="to_half"),
         n("Relu", ["f"], ["r"], name="relu_half"),
         n("Reshape", ["img", "shape"], ["flat"], name="flat"),
         n("Add", ["flat", "flat"], ["y"], name="add_u8")], "g",
        [helper.make_tensor_value_info("img", TensorProto.UINT8, [2, 3])],
        [helper.make_tensor_value_info("y", TensorProto.UINT8, [6]),
         helper.make_tensor_value_info("r", TensorProto.FLOAT16, [2, 3])],
        [numpy_helper.from_array(np.array([6], np.int64), "shape")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    with pytest.raises(OnnxImportError) as e:
        backend.onnx_to_caffe2_nets(model)
    assert str(e.value).splitlines()[1:] == [
        "  Cast (float16 to or from a type other than float): 1 node(s): to_half",
        "  Relu (float16 inputs): 1 node(s): relu_half",
        "  Add (uint8 inputs): 1 node(s): add_u8"]


def test_uint8_image_input_cast_to_float():
    n = helper.make_node
    graph = helper.make_graph(
        [n("Cast", ["img"], ["f"], to=TensorProto.FLOAT), n("Transpose", ["f"], ["t"]),
         n("Reshape", ["img", "shape"], ["flat"]), n("Cast", ["flat"], ["y"], to=6)], "g",
        [helper.make_tensor_value_info("img", TensorProto.UINT8, [2, 3])],
        [helper.make_tensor_value_info("t", TensorProto.FLOAT, [3, 2]),
         helper.make_tensor_value_info("y", TensorProto.INT32, [6])],
        [numpy_helper.from_array(np.array([6], np.int64), "shape")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    img = np.array([[0, 7, 255], [3, 128, 9]], np.uint8)
    got = backend.prepare(model).run([img])
    np.testing.assert_array_equal(got.t, img.T.astype(F))
    np.testing.assert_array_equal(got.y, img.reshape(-1).astype(np.int32))


def test_initializers_of_types_caffe2lite_lacks_are_listed():
    graph = helper.make_graph(
        [helper.make_node("Identity", ["u"], ["y"])], "g", [],
        [helper.make_tensor_value_info("y", TensorProto.UINT64, [2])],
        [numpy_helper.from_array(np.array([1, 2], np.uint64), "u")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    with pytest.raises(OnnxImportError) as e:
        backend.onnx_to_caffe2_nets(model)
    assert str(e.value) == (
        "cannot import the ONNX model: 1 node(s) or value(s) that caffe2lite cannot "
        "express:\n  initializer (dtype uint64): 1 value(s): u")


def test_torch_attention_block_with_dynamic_axes():
    """Embedding, LayerNorm, a causal-masked two-head attention (Trilu, Where, Softmax,
    batched MatMul), Pad and Clip, exported with dynamic batch and sequence axes: one
    prepared model runs at several sizes."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(2)

    class Attention(torch.nn.Module):
        def __init__(self, d=8, heads=2):
            super().__init__()
            self.emb, self.ln = torch.nn.Embedding(10, d), torch.nn.LayerNorm(d)
            self.qkv, self.out, self.heads = torch.nn.Linear(d, 3 * d), torch.nn.Linear(d, d), heads

        def forward(self, ids, x):
            x = x + self.emb(ids)
            b, t, d = x.shape
            q, k, v = (z.view(b, t, self.heads, d // self.heads).transpose(1, 2)
                       for z in self.qkv(self.ln(x)).split(d, dim=-1))
            a = (q @ k.transpose(-2, -1)) / (d // self.heads) ** 0.5
            causal = torch.tril(torch.ones(t, t, dtype=torch.bool))
            a = a.masked_fill(~causal, float("-inf")).softmax(-1)
            y = (a @ v).transpose(1, 2).reshape(b, t, d)
            return (x + self.out(y), a.argmax(-1),
                    torch.nn.functional.pad(x, (1, 1)).sum(-1),
                    x.clamp(-0.5, 0.5).max(dim=1).values)

    module = Attention().eval()
    ids, x = torch.randint(0, 10, (2, 5)), torch.randn(2, 5, 8)
    f = io.BytesIO()
    with torch.no_grad():
        torch.onnx.export(module, (ids, x), f, dynamo=False, input_names=["ids", "x"],
                          output_names=["y", "top", "padded", "peak"], opset_version=17,
                          dynamic_axes={"ids": {0: "B", 1: "T"}, "x": {0: "B", 1: "T"}})
    rep = backend.prepare(f.getvalue())
    for b, t in ((2, 5), (3, 7), (1, 1)):
        ids, x = torch.randint(0, 10, (b, t)), torch.randn(b, t, 8)
        got = rep.run([ids.numpy(), x.numpy()])
        with torch.no_grad():
            want = module(ids, x)
        for g, w in zip(got, want):
            assert g.shape == tuple(w.shape) and g.dtype == w.numpy().dtype
            np.testing.assert_allclose(g, w.numpy(), rtol=1e-4, atol=1e-5)


def test_declared_huge_sizes_make_no_huge_constants():
    """An untrusted model may declare any size: converters that build index vectors or
    masks from declared sizes refuse, or build them at run time, instead of
    allocating them while importing."""
    n = helper.make_node
    big = 10**8
    graph = helper.make_graph(
        [n("Pad", ["x", "pads"], ["padded"], mode="edge", name="pad"),
         n("Trilu", ["x"], ["tri"], name="tri"),
         n("Pad", ["x", "pads"], ["y"], name="constant_pad")], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [big, big])],
        [helper.make_tensor_value_info(o, TensorProto.FLOAT, None)
         for o in ("padded", "tri", "y")],
        [numpy_helper.from_array(np.array([0, 1, 0, 2], np.int64), "pads")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    model = onnx.shape_inference.infer_shapes(model)
    with pytest.raises(OnnxImportError) as e:
        backend.onnx_to_caffe2_nets(model)
    assert str(e.value).splitlines()[1:] == [
        "  Pad (a mode=edge index of 100000003 elements (at most 4194304)): 1 node(s): pad"]


@pytest.mark.parametrize("make", [cnn_model, mlp_model], ids=["cnn", "mlp"])
def test_mutated_files_give_nets_or_import_errors_only(make):
    """Flipped, cut and inserted bytes: an import either succeeds or raises
    OnnxImportError (odd names, data types, attributes included), and a net that
    imports fails only with caffe2lite errors when run."""
    data = make().SerializeToString()
    rng = np.random.default_rng(3)
    for i in range(150):
        b = bytearray(data)
        if i % 3 == 0:
            for _ in range(rng.integers(1, 5)):
                b[rng.integers(len(b))] = rng.integers(256)
        elif i % 3 == 1:
            b = b[: rng.integers(len(b))]
        else:
            pos = rng.integers(len(b))
            b[pos:pos] = rng.integers(0, 256, rng.integers(1, 20)).astype(np.uint8).tobytes()
        try:
            rep = backend.prepare(bytes(b))
        except OnnxImportError:
            continue
        dims = [d.dim_value or 2 for d in
                onnx.load_from_string(bytes(b)).graph.input[0].type.tensor_type.shape.dim]
        if np.prod(dims) > 10**6:
            continue
        try:
            rep.run([_r(*dims)])
        except Caffe2LiteError:
            pass
