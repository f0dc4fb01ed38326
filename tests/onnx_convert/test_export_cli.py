"""``caffe2lite convert --to onnx`` and ``--from onnx``; the old ``convert IN OUT``
form is unchanged (tests/test_cli_inspect.py)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("onnx")

from caffe2lite import cli, core
from caffe2lite.io.protoio import load_net, save_proto


@pytest.fixture
def files(tmp_path):
    net, init = core.Net("mlp"), core.Net("mlp_init")
    init.GivenTensorFill([], "W", values=[0.5, -1.0, 2.0, 1.0, 0.0, -0.5], shape=[2, 3])
    init.ConstantFill([], "b", shape=[2], value=0.25)
    net.FC(["X", "W", "b"], "h")
    net.Softmax("h", "Y")
    net.Proto().external_output.append("Y")
    net.Proto().name = "mlp"
    paths = {
        "net": tmp_path / "predict_net.pbtxt",
        "init": tmp_path / "init_net.pb",
        "vi": tmp_path / "value_info.json",
        "onnx": tmp_path / "model.onnx",
    }
    save_proto(net.Proto(), paths["net"])
    save_proto(init.Proto(), paths["init"])
    paths["vi"].write_text('{"X": [1, [4, 3]]}')
    return {k: str(v) for k, v in paths.items()}


def run(capsys, *argv):
    status = cli.main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def export_mlp(capsys, files):
    """``convert --to onnx`` of the MLP with its init net and value info: (status,
    out, err)."""
    return run(capsys, "convert", "--to", "onnx", files["net"], "--init", files["init"],
               "--value-info", files["vi"], "-o", files["onnx"])


def test_to_onnx(files, capsys, onnx_tools):
    import onnx

    status, out, err = export_mlp(capsys, files)
    assert status == 0, err
    assert out == (
        f"wrote ONNX model 'mlp' (opset 17, 2 nodes, 2 initializers) to "
        f"{files['onnx']}\n"
    )
    model = onnx.load(files["onnx"])
    x = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    onnx_tools.compare(model, load_net(files["net"]), load_net(files["init"]), {"X": x})


def test_to_onnx_options(files, capsys):
    import onnx

    status, _, err = run(
        capsys,
        "convert",
        "--to",
        "onnx",
        files["net"],
        files["onnx"],
        "--input-shape",
        "X=float32[N,3]",
        "--opset",
        "13",
        "--random-init",
        "--seed",
        "3",
    )
    assert status == 0, err
    model = onnx.load(files["onnx"])
    assert model.opset_import[0].version == 13
    assert model.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "N"
    assert sorted(t.name for t in model.graph.initializer) == ["W", "b"]


def test_to_onnx_errors(files, capsys):
    status, _, err = run(
        capsys, "convert", "--to", "onnx", files["net"], "-o", files["onnx"]
    )
    assert status == 1
    assert err == "caffe2lite: error: Could not find value info of inputs: X, W, b\n"
    status, _, err = run(capsys, "convert", "--to", "onnx", files["net"])
    assert status == 2 and "convert needs OUT, the file to write (or -o OUT)" in err
    status, _, err = run(
        capsys, "convert", files["net"], "x.pb", "--init", files["init"]
    )
    assert status == 2 and "convert: --init applies to --to onnx only" in err
    status, _, err = run(
        capsys, "convert", "--to", "onnx", "--from", "onnx", files["net"], "x.pb"
    )
    assert status == 2 and "give --to onnx or --from onnx, not both" in err
    status, _, err = run(capsys, "convert", files["net"], "a.pb", "-o", "b.pb")
    assert status == 2 and "two output files given" in err
    status, _, err = run(
        capsys,
        "convert",
        "--to",
        "onnx",
        files["net"],
        "-o",
        files["onnx"],
        "--value-info",
        files["vi"],
        "--opset",
        "5",
    )
    assert status == 1 and "unsupported ONNX opset version" in err


def test_plain_convert_still_works(files, capsys, tmp_path):
    status, out, _ = run(capsys, "convert", files["net"], str(tmp_path / "n.pb"))
    assert status == 0 and out == f"wrote NetDef 'mlp' to {tmp_path / 'n.pb'}\n"
    status, out, _ = run(capsys, "convert", files["net"], "-o", str(tmp_path / "m.pb"))
    assert status == 0 and load_net(tmp_path / "m.pb") == load_net(files["net"])


def test_from_onnx_round_trip(files, capsys, tmp_path, onnx_tools):
    pytest.importorskip("caffe2lite.onnx.backend")
    status, _, err = export_mlp(capsys, files)
    assert status == 0, err
    predict, init = tmp_path / "back.pbtxt", tmp_path / "back_init.pb"
    status, out, err = run(
        capsys,
        "convert",
        "--from",
        "onnx",
        files["onnx"],
        "-o",
        str(predict),
        "--init-out",
        str(init),
    )
    assert status == 0, err
    assert f"to {predict}" in out and f"to {init}" in out
    x = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    want = onnx_tools.run_caffe2lite(
        load_net(files["net"]), load_net(files["init"]), {"X": x}
    )
    back = load_net(predict)
    back.external_output[:] = back.external_output[:1]
    got = onnx_tools.run_caffe2lite(back, load_net(init), {"X": x})
    np.testing.assert_allclose(got[0], want[0], rtol=1e-5, atol=1e-6)
    status, out, _ = run(
        capsys, "convert", "--from", "onnx", files["onnx"], "-o", str(predict)
    )
    assert (
        status == 0 and "the init net (2 ops) was not written; give --init-out" in out
    )


def test_to_onnx_refuses_a_plan(files, capsys, tmp_path):
    plan = tmp_path / "plan.pbtxt"
    plan.write_text(
        'network { name: "n" }\nexecution_step { name: "s" network: "n" }\n'
    )
    status, _, err = run(
        capsys, "convert", "--to", "onnx", str(plan), "--plan", "-o", files["onnx"]
    )
    assert status == 2 and "convert --to onnx exports a NetDef, not a plan" in err
