"""The Caffe2 model zoo predict nets (shipped without weights) run with
``--value-info`` and ``--random-init``: the output has the shape the net implies,
finite values, and softmax rows that sum to 1; the same seed gives the same output."""

from __future__ import annotations

import json

import numpy as np
import pytest

from c2l_test_support.realnets import REALNETS
from caffe2lite import cli, core
from caffe2lite.inference.params import ParameterShapeError, load_value_info, random_parameters
from caffe2lite.schema.shapes import TensorShape
from caffe2lite.errors import ProtoParseError

pytestmark = pytest.mark.skipif(REALNETS is None, reason="shared/realnets is not beside the checkout")

ZOO = {  # net -> (output blob, output shape with --random-init-dim 8, is a softmax)
    "bvlc_alexnet": ("prob", (1, 8), True),
    "inception_v1": ("prob", (1, 8), True),
    "inception_v2": ("prob", (1, 8), True),
    "resnet50": ("gpu_0/softmax", (1, 8), True),
    "densenet121": ("fc6", (1, 8, 1, 1), False),
}


def _run(name, tmp_path, capsys, *extra):
    out = tmp_path / "out.npz"
    status = cli.main(["run", str(REALNETS / f"model_zoo/{name}__predict_net.pbtxt"),
                       "--value-info", str(REALNETS / f"model_zoo/{name}__value_info.json"),
                       "--random-init", "--save", str(out), *extra])
    _, err = capsys.readouterr()
    assert status == 0, err
    with np.load(out, allow_pickle=False) as saved:
        return {k: saved[k] for k in saved.files}


@pytest.mark.parametrize("name", sorted(ZOO))
def test_zoo_net_runs_with_random_weights(name, tmp_path, capsys):
    blob, shape, softmax = ZOO[name]
    (y,) = _run(name, tmp_path, capsys).values()
    assert y.shape == shape and y.dtype == np.float32
    assert np.isfinite(y).all()
    if softmax:
        np.testing.assert_allclose(y.sum(axis=1), 1.0, rtol=1e-5)
        assert (y >= 0).all()


def test_same_seed_same_output_and_free_dim(tmp_path, capsys):
    a = _run("bvlc_alexnet", tmp_path, capsys, "--seed", "3")
    b = _run("bvlc_alexnet", tmp_path, capsys, "--seed", "3")
    # AlexNet's grouped convolutions need a free size divisible by their 2 groups.
    c = _run("bvlc_alexnet", tmp_path, capsys, "--seed", "4", "--random-init-dim", "6")
    np.testing.assert_array_equal(a["prob"], b["prob"])
    assert c["prob"].shape == (1, 6)


def test_value_info_errors(tmp_path):
    with pytest.raises(ProtoParseError, match="Git LFS pointer"):
        load_value_info(REALNETS / "model_zoo/mobilenet_v2__value_info.json")
    bad = tmp_path / "v.json"
    bad.write_text(json.dumps({"data": [99, [1, 2]]}))
    with pytest.raises(ProtoParseError, match="entry 'data' must be"):
        load_value_info(bad)
    bad.write_text(json.dumps({"data": [1, [1, 3, 4]]}))
    assert load_value_info(bad)["data"] == TensorShape((1, 3, 4), np.float32)


def test_parameter_shapes_follow_the_ops():
    net = core.Net("n")
    net.Conv(["X", "w1", "b1"], "c1", kernel=3, pad=1)
    net.SpatialBN(["c1", "s", "bb", "m", "v"], "bn", is_test=1)
    net.FC(["bn", "fw", "fb"], "y", axis_w=3)
    params = random_parameters(net.Proto(), {"X": TensorShape((2, 3, 4, 4), np.float32)}, free_dim=6)
    assert {k: v.shape for k, v in params.items()} == {
        "w1": (6, 3, 3, 3), "b1": (6,), "s": (6,), "bb": (6,), "m": (6,), "v": (6,),
        "fw": (1, 1, 6, 96), "fb": (6,)}
    assert (params["v"] > 0).all()
    net2 = core.Net("n2")
    net2.Relu("Z", "r")
    with pytest.raises(ParameterShapeError, match="cannot tell the shape of blob 'Z'"):
        random_parameters(net2.Proto(), {})


def test_lenet_binary_net_with_its_conv_shapes_in_value_info(tmp_path, capsys):
    """The ONNX-exported LeNet reshapes to 800 = 50 * 4 * 4: its conv shapes cannot be
    told from the net, so --random-init says so, and value_info can give them."""
    net = str(REALNETS / "pytorch_caffe2_cpp_binding/predict_net.pb")
    info = tmp_path / "value_info.json"
    info.write_text(json.dumps({"1": [1, [1, 1, 28, 28]]}))
    status = cli.main(["run", net, "--value-info", str(info), "--random-init"])
    _, err = capsys.readouterr()
    assert status == 1 and "op #8 Reshape does not accept the shapes --random-init chose" in err
    info.write_text(json.dumps({"1": [1, [1, 1, 28, 28]], "2": [1, [20, 1, 5, 5]],
                                "4": [1, [50, 20, 5, 5]]}))
    out = tmp_path / "out.npz"
    status = cli.main(["run", net, "--value-info", str(info), "--random-init", "--save", str(out)])
    _, err = capsys.readouterr()
    assert status == 0, err
    with np.load(out, allow_pickle=False) as saved:
        assert saved["26"].shape == (1, 8) and np.isfinite(saved["26"]).all()


@pytest.mark.parametrize("precision", ["fp32", "int8"])
def test_mask_rcnn_2go_runs_end_to_end_with_random_weights(precision, tmp_path, capsys):
    # Its depthwise Convs (group = channels: 16 ... 768) fix the widths of the Convs
    # that feed them, and its box heads need 4 deltas per anchor and per class;
    # --random-init reads both from the net, and the mask head's weights from the If;
    # the int8 net's filters are uint8 Int8 tensors (zero point 128), biases int32.
    sizes, ratios = [16, 32, 64, 128], [0.5, 2.0]
    anchors = [[-s / np.sqrt(q) / 2, -s * np.sqrt(q) / 2, s / np.sqrt(q) / 2, s * np.sqrt(q) / 2]
               for s in sizes for q in ratios]
    inputs = tmp_path / "in.npz"
    np.savez(inputs, data=np.random.default_rng(0).standard_normal((1, 3, 320, 320)).astype(
        np.float32), im_info=np.array([[320, 320, 1]], np.float32),
        anchor=np.array(anchors, np.float32))
    out = tmp_path / "out.npz"
    net = REALNETS / f"model_zoo/mask_rcnn_2go__model__{precision}__model.pbtxt"
    status = cli.main(["run", str(net),
                       "--inputs", str(inputs), "--random-init", "--save", str(out)])
    _, err = capsys.readouterr()
    assert status == 0, err
    with np.load(out, allow_pickle=False) as saved:
        scores, boxes = saved["score_nms"], saved["bbox_nms"]
        classes, masks = saved["class_nms"], saved["mask_fcn_probs"]
    k = scores.shape[0]
    assert k > 0 and boxes.shape == (k, 4) and classes.shape == (k,)
    assert masks.shape[:2] == (k, 8) and masks.ndim == 4  # one mask per class (8: free dim)
    assert set(classes.tolist()) <= set(range(1, 8))  # class 0 is the background
    assert ((scores > 0) & (scores <= 1)).all()
    assert boxes.min() >= 0 and boxes.max() <= 319  # clipped to the 320x320 image
    assert ((masks >= 0) & (masks <= 1)).all()  # sigmoid probabilities
