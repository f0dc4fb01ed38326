"""caffe2lite.onnx's public surface: Caffe2's frontend names, the forms value_info
takes, initializers and inputs, single-assignment names for in-place ops, the
grouped error for unexportable ops (word for word), and life without onnx."""

from __future__ import annotations

import builtins
import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")


import caffe2lite.onnx as c2onnx
from caffe2lite import core
from caffe2lite.errors import Caffe2LiteError
from caffe2lite.onnx import ExportError, caffe2_net_to_onnx_model, export
from caffe2lite.onnx.frontend import caffe2_net_to_onnx_graph
from caffe2lite.schema.shapes import TensorShape

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def mlp_nets():
    net, init = core.Net("mlp"), core.Net("mlp_init")
    init.GivenTensorFill(
        [], "W", values=np.arange(6, dtype=np.float32).tolist(), shape=[2, 3]
    )
    init.ConstantFill([], "b", shape=[2], value=0.5)
    init.ConstantFill([], "unused", shape=[4], value=1.0)
    net.FC(["X", "W", "b"], "h")
    net.Relu("h", "h")  # in place
    net.Sigmoid("h", "Y")
    net.Proto().external_input.extend(["X", "W", "b"])
    net.Proto().external_output.append("Y")
    return net, init


def test_caffe2_names_and_the_graph():
    net, init = mlp_nets()
    graph = caffe2_net_to_onnx_graph(
        net.Proto(), init.Proto(), {"X": (onnx.TensorProto.FLOAT, (4, 3))}
    )
    assert [i.name for i in graph.input] == ["X"]
    assert sorted(t.name for t in graph.initializer) == ["W", "b"]  # not 'unused'
    assert [o.name for o in graph.output] == ["Y"]
    assert [n.op_type for n in graph.node] == ["Gemm", "Relu", "Sigmoid"]
    # h is written twice: the first write is renamed, the last keeps its name.
    assert list(graph.node[0].output) == ["h_1"] and list(graph.node[1].output) == ["h"]
    shapes = {
        v.name: [d.dim_value for d in v.type.tensor_type.shape.dim]
        for v in graph.value_info
    }
    assert shapes == {"h_1": [4, 2], "h": [4, 2]}
    model = caffe2_net_to_onnx_model(net, init, {"X": TensorShape((4, 3), np.float32)})
    assert model.opset_import[0].version == 17 and model.producer_name == "caffe2lite"


def test_value_info_forms(tmp_path, export_and_compare):
    net, init = mlp_nets()
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    path = tmp_path / "value_info.json"
    path.write_text('{"X": [1, [5, 3]]}')
    for vi in (
        {"X": (1, [5, 3])},
        {"X": TensorShape((5, 3), np.float32)},
        str(path),
        path,
    ):
        export_and_compare(net, {"X": x}, init, value_info=vi)
    with pytest.raises(
        ExportError,
        match="Please pass value_info as a name -> "
        r"\(type, shape\) dictionary",
    ):
        export(net, init, [("X", 1)])
    with pytest.raises(ExportError, match="value_info entry 'X' must be"):
        export(net, init, {"X": "float"})


def test_symbolic_batch_dimension(onnx_tools):
    net, init = mlp_nets()
    model = export(net, init, {"X": TensorShape(("N", 3), np.float32)})
    (dim, _) = model.graph.input[0].type.tensor_type.shape.dim
    assert dim.dim_param == "N"
    for n in (1, 7):
        x = np.ones((n, 3), np.float32)
        onnx_tools.compare(model, net.Proto(), init.Proto(), {"X": x})


def test_missing_input_type_is_caffe2s_error():
    net, init = mlp_nets()
    with pytest.raises(ExportError, match="^Could not find value info of inputs: X$"):
        export(net, init)


def test_a_filled_blob_named_in_value_info_is_an_input():
    """Caffe2's frontend dropped "fake" init fills of blobs value_info types."""
    net, init = mlp_nets()
    init.ConstantFill([], "X", shape=[1, 3], value=0.0)
    model = export(net, init, {"X": (1, [2, 3])})
    assert [i.name for i in model.graph.input] == ["X"]
    assert "X" not in {t.name for t in model.graph.initializer}


def test_init_blobs_given_as_arrays(export_and_compare):
    net, _ = mlp_nets()
    params = {"W": np.ones((2, 3), np.float32), "b": np.zeros(2, np.float32)}
    model = export(net, params, {"X": (1, [4, 3])})
    assert sorted(t.name for t in model.graph.initializer) == ["W", "b"]


def test_export_writes_the_file(tmp_path):
    net, init = mlp_nets()
    path = tmp_path / "m.onnx"
    model = export(net, init, {"X": (1, [2, 3])}, path=path, opset_version=13)
    assert onnx.load(str(path)) == model and model.opset_import[0].version == 13


def test_opset_out_of_range():
    net, init = mlp_nets()
    with pytest.raises(ExportError, match="unsupported ONNX opset version") as e:
        export(net, init, {"X": (1, [2, 3])}, opset_version=9)
    assert "expected 13 <= opset <=" in str(e.value)


def test_unexportable_ops_listed_together_word_for_word():
    """Every op without an ONNX form, grouped by type with counts and op indices,
    before anything is built (and before the missing input types are mentioned)."""
    with pytest.raises(ExportError) as e:
        export(
            EXAMPLES / "sparse_features/predict_net.pbtxt",
            EXAMPLES / "sparse_features/init_net.pbtxt",
        )
    assert str(e.value) == (
        "cannot export net 'sparse_features_predict' to ONNX: 2 ops have no ONNX "
        "equivalent:\n"
        "  - SparseDropoutWithReplacement (1): op #0 (ratio 0.5 drops at random; only 0 "
        "and 1 are deterministic)\n"
        "  - SparseItemwiseDropoutWithReplacement (1): op #2 (ratio 0.3 "
        "drops at random; only 0 and 1 are deterministic)"
    )
    assert isinstance(e.value, Caffe2LiteError)


def test_forms_without_onnx_equivalent_say_why():
    net = core.Net("n")
    net.SpatialBN(["X", "s", "b", "m", "v"], ["Y"], is_test=0)
    net.Dropout("Y", ["Z"], ratio=0.3)
    net.LRN("Z", ["L", "Ls"], size=3)
    net.Dropout("L", ["D"], ratio=0.3)
    net.Add(["Ls", "D"], "S")
    net.Proto().external_output.append("S")
    net.Proto().external_input.extend(["X", "s", "b", "m", "v"])
    net.Proto().name = "n"
    vi = {"X": (1, [1, 2, 3, 3])} | {k: (1, [2]) for k in "sbmv"}
    with pytest.raises(ExportError) as e:
        export(net, None, vi)
    assert str(e.value) == (
        "cannot export net 'n' to ONNX: 4 ops have no ONNX equivalent:\n"
        "  - SpatialBN (1): op #0 (is_test=0 uses the batch's statistics (export the "
        "inference net))\n"
        "  - Dropout (2): ops #1, #3 (is_test=0 drops at random (export the inference net))\n"
        "  - LRN (1): op #2 (output 'Ls' has no ONNX equivalent and is used)"
    )


def test_unknown_op_type():
    net = core.Net("n")
    net.Relu("X", "Y")
    op = net.Proto().op.add(type="NoSuchOp", input=["Y"], output=["Z"])
    del op
    with pytest.raises(
        ExportError,
        match=r"- NoSuchOp \(1\): op #1 \(not a caffe2lite "
        r"operator\)",
    ):
        export(net, None, {"X": (1, [2])})


def test_mlp_brew_example(export_and_compare):
    """examples/mlp_brew.py's eval model: brew layers, XavierFill/ConstantFill init."""
    spec = importlib.util.spec_from_file_location("mlp_brew", EXAMPLES / "mlp_brew.py")
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    from caffe2lite import model_helper

    model = model_helper.ModelHelper(name="mlp_eval")
    model.param_init_net.Proto().device_option.random_seed = 1234
    model.net.Sigmoid([example.mlp(model, "x")], "prob")
    model.net.Proto().external_output.append("prob")
    x = np.random.default_rng(0).uniform(-1, 1, (8, 2)).astype(np.float32)
    onnx_model = export_and_compare(model.net, {"x": x}, model.param_init_net)
    assert len(onnx_model.graph.initializer) == 6


def test_ctr_model_eval_net(onnx_tools):
    """examples/ctr_model: the eval net (SparseLengthsSum embeddings, FC layers, the
    logistic loss) on a batch its eval data net makes; the ids' count is symbolic."""
    from caffe2lite.io.protoio import load_net
    from caffe2lite.runtime.workspace import Workspace

    folder = EXAMPLES / "ctr_model"
    init = load_net(folder / "init_net.pbtxt")
    net = load_net(folder / "eval_net.pbtxt")
    net.external_output.append("eval_prob")
    ws = Workspace()
    ws.run_net_once(init)
    ws.run_net_once(load_net(folder / "eval_data_net.pbtxt"))
    inputs = {
        n: np.asarray(ws.fetch_blob(n))
        for n in net.external_input
        if n.startswith("eval_")
    }
    shapes = {
        n: TensorShape(("K",) if n.startswith("eval_ids") else v.shape, v.dtype)
        for n, v in inputs.items()
    }
    model = export(net, init, shapes)
    assert "SparseLengthsSum" not in {n.op_type for n in model.graph.node}
    onnx_tools.compare(model, net, init, inputs)


def test_without_onnx_the_error_names_the_extra(monkeypatch):
    net, init = mlp_nets()
    real_import = builtins.__import__

    def no_onnx(name, *args, **kwargs):
        if name == "onnx" or name.startswith("onnx."):
            raise ImportError("No module named 'onnx'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_onnx)
    monkeypatch.delitem(sys.modules, "onnx")
    with pytest.raises(ExportError, match=r"pip install 'caffe2lite\[onnx\]'"):
        export(net, init, {"X": TensorShape((2, 3), np.float32)})


def test_import_model_is_the_backend():
    backend = pytest.importorskip("caffe2lite.onnx.backend")
    assert c2onnx.import_model is backend.onnx_to_caffe2_nets
    with pytest.raises(AttributeError):
        c2onnx.no_such_name  # noqa: B018


def test_outputs_no_op_writes_are_dropped_with_caffe2s_warning():
    net = core.Net("n")
    net.Relu("X", "Y")
    net.Proto().external_output.extend(["Y", "X", "Z"])
    with pytest.warns(
        UserWarning,
        match="There are graph output not produced by any node "
        "or initializer: X, Z! Will drop them.",
    ):
        model = export(net, None, {"X": (1, [2])})
    assert [o.name for o in model.graph.output] == ["Y"]


def test_in_place_on_an_input_and_an_output_written_twice(export_and_compare):
    """X is a graph input and is overwritten, so its writes are X_1, X_2; Y is
    written twice and the last write keeps the name."""
    net = core.Net("n")
    net.Relu("X", "X")
    net.Scale("X", "Y", scale=2.0)
    net.Sigmoid("X", "X")
    net.Add(["Y", "X"], "Y")
    net.Proto().external_output.extend(["X", "Y"])
    model = export_and_compare(net, {"X": np.linspace(-2, 2, 6, dtype=np.float32)})
    assert [o.name for o in model.graph.output] == ["X_2", "Y"]
    assert [list(n.output) for n in model.graph.node] == [
        ["X_1"],
        ["Y_1"],
        ["X_2"],
        ["Y"],
    ]


def test_mask_rcnn_int8_lists_its_int8_ops():
    from c2l_test_support.realnets import REALNETS

    if REALNETS is None:
        pytest.skip("shared/realnets is not beside the checkout")
    with pytest.raises(ExportError) as e:
        export(
            REALNETS / "model_zoo/mask_rcnn_2go__model__int8__model.pbtxt",
            None,
            {"data": (1, [1, 3, 320, 320]), "im_info": (1, [1, 3])},
        )
    text = str(e.value)
    for line in (
        "- Int8Quantize (2): ops #1, #73\n",
        (
            "- Int8Conv (42): ops #4, #5, #8, #9, #11, #12, #15, #16, #18, #19, ... and "
            "32 more\n"
        ),
        "- Int8ConvRelu (22): ops #",
        "- GenerateProposals (1): op #70\n",
        "- If (1): op #99",
    ):
        assert line in text
    assert "NCHW2NHWC" not in text and "Slice" not in text and "RoIAlign" not in text


def test_importing_caffe2lite_onnx_does_not_import_onnx():
    import subprocess

    code = (
        "import sys, caffe2lite, caffe2lite.onnx, caffe2lite.cli.main; "
        "print('onnx' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "False"


def test_output_types_caffe2lite_cannot_tell_come_from_onnx(monkeypatch):
    from caffe2lite.onnx import _export_net, frontend

    net = core.Net("n")
    net.Relu("X", "Y")
    net.Proto().external_output.append("Y")
    monkeypatch.setattr(
        _export_net, "infer_net", lambda net, known, strict=False: dict(known)
    )
    model = export(net, None, {"X": (1, [2, 3])})
    (y,) = model.graph.output
    assert y.type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    assert [d.dim_value for d in y.type.tensor_type.shape.dim] == [2, 3]
    monkeypatch.setattr(frontend, "_onnx_types", lambda *args: {})
    with pytest.raises(
        ExportError,
        match="the type of output 'Y' is unknown to "
        "caffe2lite's and ONNX's shape inference",
    ):
        export(net, None, {"X": (1, [2, 3])})
