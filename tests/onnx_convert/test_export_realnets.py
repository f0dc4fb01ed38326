"""Real Caffe2 nets (shared/realnets) exported to ONNX and run by onnxruntime: the
glow importer nets with their producers' inputs, and the model zoo nets with
``--value-info`` and random parameters (as tests/test_cli_zoo.py runs them). Each
must match caffe2lite; the glow nets whose ops have no ONNX form must say so."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("onnx")
from c2l_test_support.realnets import CASES, REALNETS, repair

from caffe2lite import cli
from caffe2lite.inference.params import load_value_info, random_parameters
from caffe2lite.io.protoio import load_net
from caffe2lite.onnx import ExportError, export
from caffe2lite.schema.shapes import TensorShape

pytestmark = pytest.mark.skipif(
    REALNETS is None, reason="shared/realnets is not beside the checkout"
)

# glow nets whose ops have no ONNX equivalent (segment and sparse-feature ops, random
# fills, quantized kernels): the op type export names.
UNEXPORTABLE = {
    "gaussian_fill_use_provided_shape": "GaussianFill",
    "gaussian_fill_input_as_shape": "GaussianFill",
    "gaussian_fill_use_input_shape": "GaussianFill",
    "gaussian_fill_use_input_shape_with_extra_shape": "GaussianFill",
    "uniform_fill_input_as_shape": "UniformFill",
    "uniform_fill_use_input_shape": "UniformFill",
    "sparselabelsplit": "SparseLabelSplit",
}
# Nets whose ops need a newer opset than the default (ScatterND's max reduction).
OPSET = {"batch_sparse_to_dense_last_dim_1": 18, "sparse_to_dense_mask_op_net": 18}
RUNNABLE = [c for c in CASES if c.refuse is None or c.check is not None]


@pytest.mark.filterwarnings("ignore::caffe2lite.errors.UnknownArgumentWarning")
@pytest.mark.parametrize("case", RUNNABLE, ids=[c.id for c in RUNNABLE])
def test_glow_net(case, onnx_tools):
    net = load_net(REALNETS / case.net)
    if case.refuse is not None:  # repaired as a user would (see test_realnets.py)
        net = repair(net)
    init = load_net(REALNETS / case.init) if case.init else None
    inputs = {
        k: np.asarray(v) for k, v in case.inputs(np.random.default_rng(0)).items()
    }
    shapes = {k: TensorShape(v.shape, v.dtype) for k, v in inputs.items()}
    if case.id in UNEXPORTABLE:
        with pytest.raises(
            ExportError, match=f"- {UNEXPORTABLE[case.id]} \\(1\\): op #0"
        ):
            export(net, init, shapes)
        return
    model = export(net, init, shapes, opset_version=OPSET.get(case.id, 17))
    onnx_tools.compare(model, net, init, inputs)


def _zoo_params(name: str, seed: int = 0):
    net = load_net(REALNETS / f"model_zoo/{name}__predict_net.pbtxt")
    shapes = load_value_info(REALNETS / f"model_zoo/{name}__value_info.json")
    params = random_parameters(net, shapes, free_dim=8, seed=seed)
    data = {
        k: np.random.default_rng(1).standard_normal(s.dims).astype(s.dtype)
        for k, s in shapes.items()
    }
    return net, params, data


# atol per net: rounding error grows with depth (densenet121: 121 convolutions, its
# output is fc6, not probabilities); seen here: at most 5e-7 absolute, 8e-6 relative.
ZOO = {
    "bvlc_alexnet": 1e-5,
    "inception_v1": 1e-5,
    "inception_v2": 1e-5,
    "resnet50": 1e-5,
    "densenet121": 2e-5,
}


@pytest.mark.parametrize("name", sorted(ZOO))
def test_zoo_net_through_the_cli(name, tmp_path, capsys, onnx_tools):
    """``convert --to onnx`` with --value-info and --random-init, then onnxruntime on
    the file gives what caffe2lite gives with the same parameters."""
    import onnx

    path = tmp_path / f"{name}.onnx"
    status = cli.main(
        [
            "convert",
            "--to",
            "onnx",
            str(REALNETS / f"model_zoo/{name}__predict_net.pbtxt"),
            "--value-info",
            str(REALNETS / f"model_zoo/{name}__value_info.json"),
            "--random-init",
            "-o",
            str(path),
        ]
    )
    out, err = capsys.readouterr()
    assert status == 0, err
    assert f"to {path}" in out
    model = onnx.load(str(path))
    onnx.checker.check_model(model, full_check=True)
    net, params, data = _zoo_params(name)
    (want,) = onnx_tools.run_caffe2lite(net, None, {**params, **data})
    (got,) = onnx_tools.run_onnxruntime(model, data)
    assert got.shape == want.shape and np.isfinite(want).all()
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=ZOO[name])


def test_lenet_binary_net_exports_with_its_shapes(onnx_tools):
    """The PyTorch-exported LeNet (binary NetDef) needs its conv shapes in value_info
    (tests/test_cli_zoo.py); so given, it exports and matches."""
    net = load_net(REALNETS / "pytorch_caffe2_cpp_binding/predict_net.pb")
    shapes = {
        "1": TensorShape((1, 1, 28, 28), np.float32),
        "2": TensorShape((20, 1, 5, 5), np.float32),
        "4": TensorShape((50, 20, 5, 5), np.float32),
    }
    params = random_parameters(net, shapes, free_dim=8, seed=0)
    rng = np.random.default_rng(0)
    data = {
        k: rng.standard_normal(s.dims).astype(np.float32) for k, s in shapes.items()
    }
    init = {**params, **{k: v for k, v in data.items() if k != "1"}}
    model = export(net, init, {"1": shapes["1"]})
    onnx_tools.compare(model, net, None, {**init, "1": data["1"]})


@pytest.mark.parametrize(
    "name",
    [
        "detectron__e2e_faster_rcnn_R-50-C4_1x__predict_net",
        "mask_rcnn_2go__model__fp32__model",
    ],
)
def test_detection_nets_list_their_unexportable_ops(name):
    net = load_net(REALNETS / f"model_zoo/{name}.pbtxt")
    with pytest.raises(ExportError) as e:
        export(
            net,
            None,
            {
                "data": TensorShape((1, 3, 320, 320), np.float32),
                "im_info": TensorShape((1, 3), np.float32),
            },
        )
    for op_type in ("GenerateProposals", "BBoxTransform", "BoxWithNMSLimit"):
        assert f"- {op_type} (" in str(e.value)
    assert "RoIAlign" not in str(e.value)  # ONNX's RoiAlign
