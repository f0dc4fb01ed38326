"""Glow's Caffe2 importer test nets that use only dense ops (FC, Sigmoid, Scale,
Concat, Cast, DotProduct, Alias) plus fills, run end to end.

Inputs are the ones glow's tests/unittests/Caffe2ImporterTest.cpp feeds. Where that
test states expected values (FC3DSecondAxis: "Data is based on Caffe2 results") they
are used verbatim; where it only checks shapes or graph structure, the values are
checked against an independent numpy computation.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from caffe2lite.schema import registry
from caffe2lite.protoio import load_net
from caffe2lite.workspace import Workspace

NETS = Path("/work/shared/realnets/glow_caffe2Models")

pytestmark = pytest.mark.skipif(not NETS.is_dir(), reason="glow nets not available")


def _fill_from_args(ws: Workspace, op) -> None:
    """GivenTensorFill / ConstantFill from their arguments, for when the fill ops
    themselves are not registered (they belong to another module)."""
    args = {a.name: a for a in op.arg}
    shape = tuple(args["shape"].ints) if "shape" in args else ()
    if op.type == "GivenTensorFill":
        value = np.array(args["values"].floats, np.float32).reshape(shape)
    else:
        value = np.full(shape, args["value"].f if "value" in args else 0.0, np.float32)
    ws.feed_blob(op.output[0], value)


def run(predict: str, inputs: dict, init: str | None = None) -> list[np.ndarray]:
    """Run ``init`` (if any) then ``predict`` on ``inputs``; fetch the external outputs."""
    ws = Workspace()
    if init is not None:
        init_net = load_net(NETS / init)
        if all(registry.find(op.type) for op in init_net.op):
            ws.run_net_once(init_net)
        else:
            for op in init_net.op:
                _fill_from_args(ws, op)
    for name, value in inputs.items():
        ws.feed_blob(name, value)
    net = load_net(NETS / predict)
    ws.run_net_once(net)
    return [ws.fetch_blob(name) for name in net.external_output]


def test_fc():
    x = np.array([[1, 2, 3], [4, 5, 6]], np.float32)
    (y,) = run("fc_predict_net.pbtxt", {"inputs": x}, "fc_init_net.pbtxt")
    w = np.arange(1, 13, dtype=np.float64).reshape(4, 3)
    b = np.array([0.1, 0.2, 0.3, 0.4])
    np.testing.assert_allclose(y, x.astype(np.float64) @ w.T + b, rtol=1e-6)
    assert y.dtype == np.float32 and y.shape == (2, 4)


def test_fc_3d_second_axis_matches_caffe2_results():
    x = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    (y,) = run("fc_3d_second_axis_predict.pbtxt", {"input": x}, "fc_3d_second_axis_init.pbtxt")
    want = [[[14, 39, 64, 89, 114], [38, 127, 216, 305, 394], [62, 215, 368, 521, 674]],
            [[86, 303, 520, 737, 954], [110, 391, 672, 953, 1234],
             [134, 479, 824, 1169, 1514]]]
    np.testing.assert_array_equal(y, np.array(want, np.float32))


def test_fc_with_flatten_shapes():
    (y,) = run("fc_4d_predict_net.pbtxt", {"inputs": np.zeros((1, 1, 1, 2048), np.float32)},
               "fc_4d_init_net.pbtxt")
    assert y.shape == (1, 1, 1, 9190)
    assert not y.any()
    x = np.arange(5, dtype=np.float32).reshape(1, 5, 1, 1)
    (y,) = run("fc_4d_first_axis_predict_net.pbtxt", {"inputs": x},
               "fc_4d_first_axis_init_net.pbtxt")
    np.testing.assert_array_equal(y, np.zeros((1, 3), np.float32))


def test_sigmoid():
    x = np.array([-3, -1, 0, 0.5, 2, 10], np.float32)
    (y,) = run("sigmoid.pbtxt", {"sigmoid_test_input": x})
    np.testing.assert_allclose(y, 1 / (1 + np.exp(-x.astype(np.float64))), rtol=1e-6)


def test_scale():
    x = np.array([[1, -2.5], [0, 4]], np.float32)
    (y,) = run("scale.pbtxt", {"input": x})
    np.testing.assert_array_equal(y, x * 2)


def test_concat():
    rng = np.random.default_rng(0)
    xs = [rng.uniform(-3, 3, (10, w)).astype(np.float32) for w in (7, 12, 5)]
    feeds = {f"inputs_{i}": x for i, x in enumerate(xs)}
    (y,) = run("concat_predict_net.pbtxt", feeds)
    assert y.shape == (10, 24)
    np.testing.assert_array_equal(y, np.hstack(xs))


@pytest.mark.parametrize("net,shape,axis", [("concat_add_axis_predict_net.pbtxt", (10, 7), 1),
                                            ("concat_add_axis_at_edge.pbtxt", (7, 11, 13, 5), 4)])
def test_concat_add_axis(net, shape, axis):
    rng = np.random.default_rng(1)
    xs = [rng.uniform(-3, 3, shape).astype(np.float32) for _ in range(3)]
    (y,) = run(net, {f"inputs_{i}": x for i, x in enumerate(xs)})
    assert y.shape == shape[:axis] + (3,) + shape[axis:]
    for i, x in enumerate(xs):
        np.testing.assert_array_equal(np.take(y, i, axis=axis), x)


def test_cast_int64_to_int64():
    x = np.array([[-5, 0], [2**40, 7]], np.int64)
    (y,) = run("cast_int64_to_int64.pbtxt", {"input": x})
    assert y.dtype == np.int64
    np.testing.assert_array_equal(y, x)


@pytest.mark.parametrize("shape,out_shape", [((10,), (10,)), ((10, 20), (10,))])
def test_dot_product(shape, out_shape):
    rng = np.random.default_rng(2)
    x, y = rng.standard_normal(shape).astype(np.float32), rng.standard_normal(shape).astype(
        np.float32)
    (z,) = run("dot_product_predict_net.pbtxt", {"X": x, "Y": y})
    assert z.shape == out_shape
    want = (x.astype(np.float64) * y).reshape(shape[0], -1).sum(axis=1)
    np.testing.assert_allclose(z, want, rtol=1e-5, atol=1e-6)


def test_alias():
    x = np.arange(24, dtype=np.float32).reshape(1, 2, 3, 4)
    (y,) = run("alias_op_net.pbtxt", {"X": x})
    np.testing.assert_array_equal(y, x)
