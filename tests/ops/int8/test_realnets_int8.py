"""glow's Int8 and quantised Caffe2 nets (shared/realnets/glow_caffe2Models: int8*,
conv_group_quantized*, dynamic_quantized_fc*), run with their init nets and the inputs
glow's Caffe2ImporterTest.cpp feeds. Caffe2 itself refused all but one of them: an
Int8 op reads its inputs as Int8TensorCPU blobs, and nothing fed from numpy is one (a
fed int8, float or float16 array is a plain Tensor), and Int8Conv refuses the default
NCHW order when it is created. Those files are refused here with Caffe2's reason."""

from __future__ import annotations

import numpy as np
import pytest
from c2l_test_support.realnets import REALNETS

from caffe2lite.errors import Caffe2LiteError
from caffe2lite.io.int8 import Int8Tensor
from caffe2lite.io.protoio import load_net
from caffe2lite.workspace import Workspace

from ._naive import f32, qmul, quantize_one, rdbpot, srdhm

pytestmark = [
    pytest.mark.skipif(
        REALNETS is None, reason="shared/realnets is not beside the checkout"
    ),
    # the files carry arguments Caffe2 ignored (order on Relu, nms_thres, Int8FC axis)
    pytest.mark.filterwarnings("ignore::caffe2lite.errors.UnknownArgumentWarning"),
]

GLOW = "glow_caffe2Models/"
WRONG_TYPE = (
    "wrong type for the Blob instance. Blob contains caffe2::Tensor while caller "
    "expects caffe2::int8::Int8TensorCPU"
)

# net, init net, inputs (as glow fed them), Caffe2's reason for refusing (None: it runs)
CASES = [
    (
        "int8convrelu_pred_net.pbtxt",
        "int8convrelu_init_net.pbtxt",
        {"gpu_0/data_0": np.zeros((1, 1, 3, 3), np.int8)},
        "Int8Conv only supports NHWC order",
    ),
    (
        "conv_group_quantized_pred_net.pbtxt",
        "conv_group_quantized_init_net.pbtxt",
        {"input": np.zeros((1, 1, 1, 4), np.int8)},
        WRONG_TYPE,
    ),
    (
        "int8fc_3d_second_axis_predict.pbtxt",
        "int8fc_3d_second_axis_init.pbtxt",
        {"input": np.arange(12, dtype=np.int8).reshape(2, 2, 3)},
        WRONG_TYPE,
    ),
    (
        "int8fc_4d_first_axis_predict_net.pbtxt",
        "int8fc_4d_first_axis_init_net.pbtxt",
        {"input": np.zeros((1, 5, 1, 1), np.float32)},
        WRONG_TYPE,
    ),
    (
        "dynamic_quantized_fc_predict_net.pbtxt",
        "dynamic_quantized_fc_init.pbtxt",
        {"input": np.arange(1, 7, dtype=np.float16).reshape(2, 3)},
        WRONG_TYPE,
    ),
    (
        "int8sumrelu_pred_net.pbtxt",
        "int8sumrelu_init_net.pbtxt",
        {"gpu_0/data_0": np.zeros((4, 2), np.int8)},
        WRONG_TYPE,
    ),
    (
        "int8sumrelu_tiny_scale_pred_net.pbtxt",
        "int8sumrelu_tiny_scale_init_net.pbtxt",
        {"gpu_0/data_0": np.zeros((4, 2), np.int8)},
        WRONG_TYPE,
    ),
    (
        "int8sumrelu_large_range_pred_net.pbtxt",
        "int8sumrelu_large_range_init_net.pbtxt",
        {"gpu_0/data_0": np.linspace(-300, 400, 8, dtype=np.float32).reshape(4, 2)},
        None,
    ),
]


def run(net: str, init: str, inputs: dict) -> Workspace:
    ws = Workspace()
    ws.run_net_once(load_net(REALNETS / GLOW / init))
    for name, value in inputs.items():
        ws.feed_blob(name, value)
    ws.run_net_once(load_net(REALNETS / GLOW / net))
    return ws


@pytest.mark.parametrize("net,init,inputs,refuse", CASES, ids=[c[0] for c in CASES])
def test_glow_int8_net(net, init, inputs, refuse):
    if refuse is None:
        run(net, init, inputs)
        return
    with pytest.raises(Caffe2LiteError) as info:
        run(net, init, inputs)
    assert refuse in str(info.value)
    assert "not registered" not in str(info.value)


def test_every_int8_file_is_a_case():
    names = {c[0] for c in CASES} | {c[1] for c in CASES}
    files = {
        p.name
        for p in (REALNETS / GLOW).iterdir()
        if p.name.startswith(("int8", "conv_group_quantized", "dynamic_quantized_fc"))
    }
    assert files == names


def test_init_nets_make_the_int8_weights():
    ws = Workspace()
    ws.run_net_once(load_net(REALNETS / GLOW / "int8convrelu_init_net.pbtxt"))
    w, b = ws.fetch_blob("conv_w"), ws.fetch_blob("conv_b")
    assert isinstance(w, Int8Tensor) and w.data.tolist() == [[[[1, 1], [1, 1]]]]
    assert (w.scale, w.zero_point) == (2.0, 10)
    assert b.data.dtype == np.int32 and (b.data.tolist(), b.scale, b.zero_point) == (
        [2],
        10.0,
        4,
    )
    ws.run_net_once(load_net(REALNETS / GLOW / "conv_group_quantized_init_net.pbtxt"))
    assert ws.fetch_blob("conv_w").data.ravel().tolist() == [0x80, 0x81] * 4


def test_large_range_sum_relu_values():
    """Int8Quantize (scale 1) then Int8SumRelu with rhs = 600 * (1 - 127): every sum is
    far below 0, so every output is the quantised 0 (the zero point 120); checked
    element by element against the scalar fixed-point reference."""
    _, _, inputs, _ = CASES[-1]
    ws = run(CASES[-1][0], CASES[-1][1], inputs)
    out = ws.fetch_blob("out")
    assert isinstance(out, Int8Tensor) and out.data.shape == (4, 2)
    assert (out.scale, out.zero_point) == (575.0, 120)
    x = [quantize_one(v, 1.0, 0) for v in inputs["gpu_0/data_0"].ravel().tolist()]
    twice = 2 * 600.0
    ma, sa = qmul(1.0 / twice)
    mb, sb = qmul(600.0 / twice)
    my, sy = qmul(twice / ((1 << 20) * f32(575.0)))
    want = []
    for v in x:
        s = rdbpot(srdhm(v << 20, ma), sa) + rdbpot(srdhm((1 - 127) << 20, mb), sb)
        want.append(min(255, max(120, rdbpot(srdhm(s, my), sy) + 120)))
    assert out.data.ravel().tolist() == want == [120] * 8
