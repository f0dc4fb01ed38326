from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import DTypeError, GradientError, ShapeError

GLOW = Path("/work/shared/realnets/glow_caffe2Models")


def naive_fb_fc(x, w, b, axis=1, axis_w=1):
    """FC with every weight first rounded to the nearest float16 (ties to even)."""
    m, k = int(np.prod(x.shape[:axis])), int(np.prod(x.shape[axis:]))
    n = int(np.prod(w.shape[:axis_w]))
    xf = x.reshape(-1).tolist()
    wf = [float(np.float16(v)) for v in w.reshape(-1).tolist()]
    y = [[b[j] + sum(xf[i * k + p] * wf[j * k + p] for p in range(k)) for j in range(n)]
         for i in range(m)]
    return [np.array(y, dtype=x.dtype).reshape(x.shape[:axis] + (n,))]


@settings(max_examples=25, deadline=None)
@given(m=st.integers(0, 4), k=st.integers(1, 4), n=st.integers(1, 4),
       w_dtype=st.sampled_from([np.float16, np.float32, np.float64]), seed=st.integers(0, 2**16))
def test_matches_naive_loop(m, k, n, w_dtype, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((m, k)).astype(np.float32)
    w = (rng.standard_normal((n, k)) * 100).astype(w_dtype)
    b = rng.standard_normal(n).astype(np.float32)
    op = CreateOperator("FbFCPacked", ["X", "W", "b"], ["Y"])
    testing.check_reference(op, [x, w, b], naive_fb_fc, atol=1e-3)


def test_weights_are_rounded_to_half():
    op = CreateOperator("FbFCPacked", ["X", "W", "b"], ["Y"])
    x = np.array([[1.0]], np.float32)
    # 2049 lies half-way between the halves 2048 and 2050: ties go to even (2048)
    w = np.array([[2049.0], [0.1], [65504.0]], np.float32)
    y = testing.check_reference(op, [x, w, np.zeros(3, np.float32)],
                                lambda *v: [np.array([[2048, 0.0999755859375, 65504]], np.float32)],
                                atol=0, rtol=0)[0]
    assert y.dtype == np.float32


@pytest.mark.parametrize("name,axis,x_shape,w_shape", [
    ("fbfcpacked_3d_second_axis", 2, (2, 3, 4), (5, 4)),
    ("fbfcpacked_4d_first_axis", 1, (1, 5, 1, 1), (3, 5))])
def test_glow_importer_nets(name, axis, x_shape, w_shape):
    """glow's Caffe2 importer tests: W comes from GivenTensorFp16Fill (float16), FC
    layout; the output keeps X's leading dims and has N = b's size columns."""
    from caffe2lite import protoio
    from caffe2lite.workspace import Workspace

    predict = GLOW / f"{name}_predict.pbtxt"
    if not predict.exists():
        predict = GLOW / f"{name}_predict_net.pbtxt"
    init = GLOW / f"{name}_init.pbtxt"
    if not init.exists():
        init = GLOW / f"{name}_init_net.pbtxt"
    if not predict.exists() or not init.exists():
        pytest.skip("glow nets not available")
    from caffe2lite.schema import registry
    if registry.find("GivenTensorFp16Fill") is None:
        pytest.skip("GivenTensorFp16Fill is not registered")
    init_net, net = protoio.load_net(str(init)), protoio.load_net(str(predict))
    assert [op.arg[0].i for op in net.op if op.type == "FbFCPacked"] == [axis]
    ws = Workspace()
    ws.run_net_once(init_net)
    rng = np.random.default_rng(0)
    x = rng.standard_normal(x_shape).astype(np.float32)
    ws.feed_blob(net.external_input[0], x)
    ws.run_net_once(net)
    w, b = ws.fetch_blob("weights"), ws.fetch_blob("bias")
    assert w.shape == w_shape
    want = naive_fb_fc(x, w, b, axis)[0]
    np.testing.assert_allclose(ws.fetch_blob(net.external_output[0]), want, rtol=1e-5)


def test_errors():
    op = CreateOperator("FbFCPacked", ["X", "W", "b"], ["Y"])
    f4 = np.float32
    testing.check_raises(op, [np.ones((2, 3), f4), np.ones((4, 4), f4), np.ones(4, f4)],
                         ShapeError, re.escape("K == X.size_from_dim(canonical_axis). Dimension "
                                               "mismatch: X: [2, 3], W: [4, 4], b: [4], axis: 1, "
                                               "M: 2, N: 4, K: 4"))
    testing.check_raises(op, [np.ones((2, 3), f4), np.ones((4, 3), f4), np.ones(5, f4)],
                         ShapeError, re.escape("N == W->numCols()"))
    testing.check_raises(op, [np.ones((2, 3), f4), np.ones((4, 3), np.int32), np.ones(4, f4)],
                         DTypeError, "tensor contains int")
    testing.check_raises(op, [np.ones((2, 3), f4), np.ones((4, 3), f4), np.ones((4, 1), f4)],
                         ShapeError, re.escape("b.dim() == 1. 2"))


def test_no_gradient():
    op = CreateOperator("FbFCPacked", ["X", "W", "b"], ["Y"])
    with pytest.raises(GradientError, match="should have a gradient but is not implemented yet"):
        GradientRegistry.GetBackwardPass([op], {"Y": "Y_grad"})
